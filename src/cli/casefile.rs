//! `report ledger` and `report dossier`: the 台账 workbook of a town and a
//! window, and one work's 一工地一档 (HTML or DOCX) or 告知书, to a file.

use std::path::PathBuf;

use anyhow::Context;

use super::redact;
use crate::auth::Caller;
use crate::domain::Project;
use crate::service::{docx, dossier, workbook};
use crate::store::{self, ListQuery, typed};

/// `report ledger`.
#[derive(Debug, clap::Args)]
pub struct LedgerArgs {
    /// Town code(s), comma separated; the whole district without.
    #[arg(long)]
    pub town: Option<String>,
    /// The window's start: RFC 3339 or YYYY-MM-DD (China Standard Time);
    /// default 90 days before `--to`.
    #[arg(long)]
    pub from: Option<String>,
    /// The window's end; default now.
    #[arg(long)]
    pub to: Option<String>,
    /// The workbook to write (`.xlsx`).
    #[arg(long, short)]
    pub out: PathBuf,
}

/// What `report dossier` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DossierFormat {
    /// The printable A4 page.
    Html,
    /// The same as Word.
    Docx,
    /// The work's 告知书 (with its 承诺书) as Word.
    Notice,
}

/// `report dossier`.
#[derive(Debug, clap::Args)]
pub struct DossierArgs {
    /// The work's code (工程编号).
    pub code: String,
    #[arg(long, value_enum, default_value = "html")]
    pub format: DossierFormat,
    /// The file to write.
    #[arg(long, short)]
    pub out: PathBuf,
}

pub(super) async fn ledger(url: &str, a: LedgerArgs) -> anyhow::Result<()> {
    let window =
        crate::time::Window::parse(a.from.as_deref(), a.to.as_deref(), 90, chrono::Utc::now())
            .map_err(|e| anyhow::anyhow!("--{e}"))?;
    let store = store::open(url)
        .await
        .with_context(|| format!("cannot open the database at {}", redact(url)))?;
    let towns = a.town.map(|t| {
        t.split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    });
    let scope = Caller::system("report").scope;
    let sheets = workbook::sheets(&store, &scope, towns, &window).await?;
    let bytes = workbook::write_xlsx(&sheets)?;
    std::fs::write(&a.out, bytes).with_context(|| format!("cannot write {}", a.out.display()))?;
    tracing::info!(file = %a.out.display(), sheets = sheets.len(), "ledger workbook written");
    Ok(())
}

pub(super) async fn dossier(url: &str, a: DossierArgs) -> anyhow::Result<()> {
    let store = store::open(url)
        .await
        .with_context(|| format!("cannot open the database at {}", redact(url)))?;
    let q = ListQuery {
        codes: Some(vec![a.code.clone()]),
        ..ListQuery::all()
    };
    let work = typed::list::<Project>(&store, &q)
        .await?
        .items
        .into_iter()
        .next()
        .with_context(|| format!("no work with code {:?}", a.code))?;
    let scope = Caller::system("report").scope;
    let d = dossier::dossier(&store, &scope, work.id).await?;
    let bytes = match a.format {
        DossierFormat::Html => dossier::to_html(&d).into_bytes(),
        DossierFormat::Docx => docx::write(&dossier::to_blocks(&d))?,
        DossierFormat::Notice => docx::write(&dossier::notice_blocks(&d))?,
    };
    std::fs::write(&a.out, bytes).with_context(|| format!("cannot write {}", a.out.display()))?;
    Ok(())
}

//! `report evaluation`: a half-year's evaluation of the whole district as
//! the draft 通报 (Word or a printable page), a workbook or JSON, to a
//! file. A period not yet opened in the database is measured all the same,
//! without self-assessments or draws.

use std::path::PathBuf;

use anyhow::Context;

use super::redact;
use crate::auth::Caller;
use crate::evaluation::Period;
use crate::service::{
    docx, evaluation as svc, evaluation_report as report, evaluation_workbook, workbook,
};
use crate::store::{self, evaluation::EvaluationRow};

/// What `report evaluation` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EvaluationFormat {
    /// The draft 通报 as Word.
    Docx,
    /// The draft 通报 as a printable page.
    Html,
    /// The scores, measures, self-assessments and findings as a workbook.
    Xlsx,
    Json,
}

/// `report evaluation`.
#[derive(Debug, clap::Args)]
pub struct EvaluationArgs {
    /// The half-year, e.g. 2026H2.
    #[arg(long)]
    pub period: String,
    #[arg(long, value_enum, default_value = "docx")]
    pub format: EvaluationFormat,
    /// The file to write.
    #[arg(long, short)]
    pub out: PathBuf,
}

pub(super) async fn evaluation(url: &str, a: EvaluationArgs) -> anyhow::Result<()> {
    let period: Period = a
        .period
        .parse()
        .map_err(|e: crate::domain::Invalid| anyhow::anyhow!("--{e}"))?;
    let store = store::open(url)
        .await
        .with_context(|| format!("cannot open the database at {}", redact(url)))?;
    let now = chrono::Utc::now();
    let row = match svc::find(&store, &period.to_string()).await {
        Ok(row) => row,
        Err(crate::service::ServiceError::NotFound(_)) => EvaluationRow {
            id: 0,
            period: period.to_string(),
            table_version: svc::CURRENT_TABLE.version.to_owned(),
            site_towns: Vec::new(),
            created_by: "report".into(),
            created_at: now,
        },
        Err(e) => return Err(e.into()),
    };
    let caller = Caller::system("report");
    let o = svc::overview(&store, &caller, &row, now).await?;
    let bytes = match a.format {
        EvaluationFormat::Docx => docx::write(&report::notice(&o, now))?,
        EvaluationFormat::Html => {
            docx::to_html(&report::title(&o), &report::notice(&o, now)).into_bytes()
        }
        EvaluationFormat::Xlsx => workbook::write_xlsx(&evaluation_workbook::sheets(&o))?,
        EvaluationFormat::Json => {
            let mut b = serde_json::to_vec_pretty(&o)?;
            b.push(b'\n');
            b
        }
    };
    std::fs::write(&a.out, bytes).with_context(|| format!("cannot write {}", a.out.display()))?;
    tracing::info!(file = %a.out.display(), towns = o.towns.len(), "evaluation written");
    Ok(())
}

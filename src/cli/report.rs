//! `report` and `coverage`: the scorecard, coverage summaries and blind spots
//! as CSV or JSON on standard output.

use super::{redact, write_stdout};
use crate::auth::Caller;
use crate::service::{self};
use crate::store::{self};
use crate::time::iso_ms;
use anyhow::Context;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// The town scorecard (街镇考评表), one row per town, on standard
    /// output or to a file.
    Scorecard {
        #[arg(long, value_enum, default_value = "csv")]
        format: ReportFormat,
        /// The window's start: RFC 3339 or YYYY-MM-DD (China Standard
        /// Time); default 90 days before `--to`.
        #[arg(long)]
        from: Option<String>,
        /// The window's end; default now.
        #[arg(long)]
        to: Option<String>,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// The 台账 workbook (xlsx) of a town, or the district, and a window.
    Ledger(super::casefile::LedgerArgs),
    /// One work's 一工地一档 (HTML or DOCX) or its 告知书 (DOCX).
    Dossier(super::casefile::DossierArgs),
    /// A half-year's evaluation: the draft 通报 (DOCX or HTML), the
    /// workbook (XLSX) or JSON.
    Evaluation(super::evaluation::EvaluationArgs),
}

/// The format of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// UTF-8 with a byte-order mark, for Excel.
    Csv,
    Json,
}

/// `report scorecard`: the whole district's scorecard.
pub(super) async fn scorecard_report(
    url: &str,
    format: ReportFormat,
    from: Option<&str>,
    to: Option<&str>,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    use std::io::Write as _;
    let window = crate::blindspots::Window::parse(from, to, 90, chrono::Utc::now())
        .map_err(|e| anyhow::anyhow!("--{e}"))?;
    let store = store::open(url)
        .await
        .with_context(|| format!("cannot open the database at {}", redact(url)))?;
    let scope = Caller::system("report").scope;
    let (rows, coverage_known) = service::blindspots::scorecard(&store, &scope, window).await?;
    let bytes = match format {
        ReportFormat::Csv => crate::blindspots::scorecard::to_csv(&rows)?,
        ReportFormat::Json => {
            let mut b = serde_json::to_vec_pretty(&serde_json::json!({
                "from": window.from(), "to": window.to(),
                "coverage_known": coverage_known, "count": rows.len(), "items": rows,
            }))?;
            b.push(b'\n');
            b
        }
    };
    match out {
        Some(path) => std::fs::write(&path, &bytes)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().lock().write_all(&bytes)?,
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum CoverageCommand {
    /// Cells, patrolled cells, ratio, overdue cells and the weekly trend per area.
    Summary {
        #[arg(long, value_enum, default_value = "town")]
        level: crate::service::coverage::Level,
        /// Start of the window (RFC 3339 or YYYY-MM-DD); default 28 days before --to.
        #[arg(long)]
        from: Option<String>,
        /// End of the window; default now.
        #[arg(long)]
        to: Option<String>,
        #[arg(long, value_enum, default_value = "csv")]
        format: ReportFormat,
    },
    /// Never-patrolled and overdue cells ranked by risk, with their reasons.
    Blindspots {
        /// grid:ID, zone:ID, town:CODE or district.
        #[arg(long, default_value = "district")]
        scope: String,
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long, value_enum, default_value = "csv")]
        format: ReportFormat,
    },
}

pub(super) fn window(from: Option<&str>, to: Option<&str>) -> anyhow::Result<(i64, i64)> {
    let parse = |name: &str, v: &str| {
        crate::http::params::parse_time_ms(v).ok_or_else(|| {
            anyhow::anyhow!("--{name}: {v:?} is not a time (RFC 3339) or a date (YYYY-MM-DD)")
        })
    };
    let to = to
        .map(|v| parse("to", v))
        .transpose()?
        .unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
    let from = from
        .map(|v| parse("from", v))
        .transpose()?
        .unwrap_or(to - 28 * 86_400_000);
    anyhow::ensure!(from < to, "--from must be before --to");
    Ok((from, to))
}

/// The area a coverage question is about, from `--scope`.
fn parse_area(scope: &str) -> anyhow::Result<crate::service::coverage::AreaScope> {
    scope.parse().map_err(|e| anyhow::anyhow!("--scope: {e}"))
}

pub(super) async fn coverage_command(url: &str, cmd: CoverageCommand) -> anyhow::Result<()> {
    use crate::service::coverage as cov;
    // the command line answers for the whole district
    let everything = crate::auth::Scope::district();
    let store = store::open(url)
        .await
        .with_context(|| format!("cannot open the database at {}", redact(url)))?;
    let out = match cmd {
        CoverageCommand::Summary {
            level,
            from,
            to,
            format,
        } => {
            let (from, to) = window(from.as_deref(), to.as_deref())?;
            let rows = cov::area_summaries(&store, &everything, level, from, to)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            match format {
                ReportFormat::Json => serde_json::to_string_pretty(
                    &serde_json::json!({"from": iso_ms(from), "to": iso_ms(to), "areas": rows}),
                )?,
                ReportFormat::Csv => {
                    let mut w = csv::Writer::from_writer(Vec::new());
                    w.write_record([
                        "area",
                        "name",
                        "cells",
                        "patrolled_cells",
                        "ratio",
                        "overdue_cells",
                    ])?;
                    for r in &rows {
                        w.write_record([
                            r.area.clone(),
                            r.name.clone(),
                            r.cells.to_string(),
                            r.patrolled_cells.to_string(),
                            r.ratio.to_string(),
                            r.overdue_cells.to_string(),
                        ])?;
                    }
                    String::from_utf8(w.into_inner()?)?
                }
            }
        }
        CoverageCommand::Blindspots {
            scope,
            from,
            to,
            limit,
            format,
        } => {
            let (from, to) = window(from.as_deref(), to.as_deref())?;
            let area = parse_area(&scope)?;
            let (rows, total) =
                cov::ranked_blind_cells(&store, &everything, &area, from, to, limit)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            let json_rows: Vec<serde_json::Value> = rows
                .iter()
                .map(|b| {
                    serde_json::json!({"cell": b.cell.to_string(), "place": b.place.as_ref().map(|l| &l.zh), "grid_id": b.grid, "town": b.town, "risk": b.risk,
                        "never_patrolled": b.never_patrolled, "overdue": b.overdue,
                        "last_patrolled": b.last_patrolled_ms.map(iso_ms), "reasons": b.reasons})
                })
                .collect();
            match format {
                ReportFormat::Json => serde_json::to_string_pretty(
                    &serde_json::json!({"total": total, "cells": json_rows}),
                )?,
                ReportFormat::Csv => blind_cells_csv(&rows)?,
            }
        }
    };
    write_stdout(&out);
    Ok(())
}

/// The ranked blind cells as CSV for people: Chinese headers, the place
/// before the ids, Beijing time, the reasons in Chinese.
fn blind_cells_csv(rows: &[service::coverage::BlindCell]) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "排名",
        "地点",
        "网格",
        "街镇代码",
        "风险",
        "最近巡查（北京时间）",
        "原因",
        "H3 单元格",
        "网格编号",
    ])?;
    for (i, b) in rows.iter().enumerate() {
        let place = b.place.as_ref();
        w.write_record([
            (i + 1).to_string(),
            place.map(|l| l.zh.clone()).unwrap_or_default(),
            place.and_then(|l| l.grid.clone()).unwrap_or_default(),
            b.town.clone(),
            b.risk.to_string(),
            b.last_patrolled_ms
                .map(crate::time::beijing_text_ms)
                .unwrap_or_default(),
            b.reasons
                .iter()
                .map(|r| r.text_zh.as_str())
                .collect::<Vec<_>>()
                .join("；"),
            b.cell.to_string(),
            b.grid.to_string(),
        ])?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

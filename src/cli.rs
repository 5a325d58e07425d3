//! The command line: `serve`, `import` and friends. Parsing and wiring only;
//! the work is done by the service layer.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use crate::http::{self, AppState};
use crate::service::{self, ImportKind};
use crate::spatial::Crs;
use crate::store::{self, DEFAULT_DATABASE_URL};

#[derive(Debug, Parser)]
#[command(
    name = "gridpatrol",
    version,
    about = "Patrol and coverage analysis for the supervision of small construction works"
)]
pub struct Cli {
    /// postgres://... (PostGIS) or sqlite://PATH (embedded).
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service and the map.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080", env = "GRIDPATROL_BIND")]
        bind: SocketAddr,
        /// Load the Songjiang demo data into an empty store.
        #[arg(long)]
        demo: bool,
        /// The demo fixture directory.
        #[arg(long)]
        fixtures: Option<PathBuf>,
    },
    /// Import a layer file (GeoJSON; CSV for projects) in one transaction.
    Import {
        #[arg(value_enum)]
        kind: ImportKind,
        file: PathBuf,
        /// The CRS of the file's coordinates.
        #[arg(long, default_value = "wgs84")]
        crs: Crs,
    },
    /// Create or update the database schema and exit.
    Migrate,
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve {
            bind,
            demo,
            fixtures,
        } => serve(&cli.database_url, bind, demo, fixtures).await,
        Command::Import { kind, file, crs } => import(&cli.database_url, kind, file, crs).await,
        Command::Migrate => {
            store::open(&cli.database_url)
                .await
                .with_context(|| format!("opening {}", redact(&cli.database_url)))?;
            tracing::info!("schema is up to date");
            Ok(())
        }
    }
}

/// Hides a password in a database URL for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
        _ => url.to_owned(),
    }
}

async fn serve(
    url: &str,
    bind: SocketAddr,
    demo: bool,
    fixtures: Option<PathBuf>,
) -> anyhow::Result<()> {
    let store = store::open(url)
        .await
        .with_context(|| format!("cannot open the database at {}", redact(url)))?;
    if demo {
        if crate::demo::is_empty(&store).await? {
            let dir = fixtures.unwrap_or_else(crate::demo::default_fixtures_dir);
            crate::demo::load(&store, &dir)
                .await
                .with_context(|| format!("loading the demo data from {}", dir.display()))?;
        } else {
            tracing::info!("the store already holds data; demo data not loaded again");
        }
    }
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("cannot listen on {bind}"))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "gridpatrol listening; open http://{addr}/");
    http::serve(listener, AppState::new(store), shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn import(url: &str, kind: ImportKind, file: PathBuf, crs: Crs) -> anyhow::Result<()> {
    let store = store::open(url)
        .await
        .with_context(|| format!("cannot open the database at {}", redact(url)))?;
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {pos} records ({per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(format!("importing {}", file.display()));
    let tick = bar.clone();
    let (count, summary) =
        service::import_file(&store, kind, &file, crs, &move |n| tick.set_position(n))
            .await
            .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    bar.finish_and_clear();
    tracing::info!(
        records = count,
        inserted = summary.inserted,
        updated = summary.updated,
        unchanged = summary.unchanged,
        "imported"
    );
    eprintln!(
        "{}: {count} records: {} inserted, {} updated, {} unchanged",
        file.display(),
        summary.inserted,
        summary.updated,
        summary.unchanged
    );
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received; finishing requests in flight");
}

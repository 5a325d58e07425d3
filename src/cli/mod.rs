//! The command line: `serve`, `import` and friends. Parsing and wiring only;
//! the work is done by the service layer.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::http::limits::Limits;
use crate::http::{self, AppState};
use crate::service::users;
use crate::spatial::Crs;
use crate::store::{self, DEFAULT_DATABASE_URL};

mod casefile;
mod evaluation;
mod import;
mod notify;
mod report;
mod route;
mod user;

pub use import::{CliImportKind, TrackArgs};
use import::{import, import_places, import_roads, import_tracks};
pub use notify::{NotifyArgs, NotifyCommand};
pub use report::{CoverageCommand, ReportCommand, ReportFormat};
use report::{coverage_command, scorecard_report};
pub use route::PlanRouteArgs;
use route::plan_route;
pub use user::UserCommand;
use user::user;

#[derive(Debug, Parser)]
#[command(
    name = "gridpatrol",
    version,
    about = "Patrol and coverage analysis for the supervision of small construction works"
)]
pub struct Cli {
    /// `postgres://...` (PostGIS) or `sqlite://PATH` (embedded).
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
        #[command(flatten)]
        limits: LimitArgs,
        #[command(flatten)]
        notify: NotifyArgs,
    },
    /// Import files: layers (GeoJSON; CSV for projects), patrol tracks
    /// (GPX, GeoJSON, CSV) or the road network (`.osm`, `.osm.pbf` or the
    /// road graph's GeoJSON; it replaces the stored one), one transaction
    /// per file.
    Import {
        #[arg(value_enum)]
        kind: CliImportKind,
        #[arg(required = true, num_args = 1..)]
        files: Vec<PathBuf>,
        /// The officer of track files that name none.
        #[arg(long)]
        officer: Option<String>,
        /// The CRS of the file's coordinates.
        #[arg(long, default_value = "wgs84")]
        crs: Crs,
        /// Tracks: refuse a whole file (store none of it) when one of its
        /// tracks is refused; without it, every usable track is stored.
        #[arg(long)]
        strict: bool,
        #[command(flatten)]
        tracks: TrackArgs,
    },
    /// Create or update the database schema and exit.
    Migrate,
    /// Users of the API and their tokens.
    #[command(subcommand)]
    User(UserCommand),
    /// Patrol coverage of the district: per area, or the ranked blind cells.
    #[command(subcommand)]
    Coverage(CoverageCommand),
    /// Reports for the district committee.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Plan a patrol route (or a street sweep) for a grid, save it and
    /// write it as GPX.
    PlanRoute(PlanRouteArgs),
    /// Reminders and 督办: test the configured channels.
    #[command(subcommand)]
    Notify(NotifyCommand),
}

/// The service's limits (see `http::limits::Limits`).
#[derive(Debug, clap::Args)]
pub struct LimitArgs {
    /// The largest request body (uploads), in MiB.
    #[arg(long, default_value_t = 20, env = "GRIDPATROL_MAX_UPLOAD_MB")]
    pub max_upload_mb: u32,
    /// How long a request may take, in seconds.
    #[arg(long, default_value_t = 60)]
    pub request_timeout_secs: u64,
    /// Sustained requests per second per token (0: no limit).
    #[arg(long, default_value_t = 20.0)]
    pub rate_limit: f64,
    /// Requests a token may make at once before the rate applies.
    #[arg(long, default_value_t = 100)]
    pub rate_burst: u32,
    /// An origin allowed to call the API from a browser (repeatable); no
    /// CORS headers are sent without one.
    #[arg(long = "cors-origin")]
    pub cors_origins: Vec<String>,
    /// Redis holding the rate limit every instance shares
    /// (`redis://127.0.0.1:6379`); without it each process limits alone.
    #[arg(long = "redis", env = "GRIDPATROL_REDIS_URL")]
    pub redis_url: Option<String>,
    /// The memory the cache of coverage and blind-spot answers may take, in
    /// MiB (0: no cache).
    #[arg(long, default_value_t = 64, env = "GRIDPATROL_READ_CACHE_MB")]
    pub read_cache_mb: u64,
}

impl LimitArgs {
    fn limits(&self) -> anyhow::Result<Limits> {
        let cors_origins = self
            .cors_origins
            .iter()
            .map(|o| {
                axum::http::HeaderValue::from_str(o.trim_end_matches('/'))
                    .with_context(|| format!("--cors-origin {o:?} is not a valid origin"))
            })
            .collect::<anyhow::Result<_>>()?;
        if !(self.rate_limit.is_finite() && self.rate_limit >= 0.0) {
            anyhow::bail!("--rate-limit must be a number of requests per second, 0 or more");
        }
        Ok(Limits {
            max_body_bytes: usize::try_from(self.max_upload_mb)?.saturating_mul(1024 * 1024),
            request_timeout: std::time::Duration::from_secs(self.request_timeout_secs.max(1)),
            rate_per_second: self.rate_limit,
            rate_burst: self.rate_burst,
            cors_origins,
            answer_cache_bytes: self.read_cache_mb.saturating_mul(1024 * 1024),
        })
    }
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve {
            bind,
            demo,
            fixtures,
            limits,
            notify,
        } => {
            let redis = limits.redis_url.clone();
            serve(
                &cli.database_url,
                bind,
                demo,
                fixtures,
                limits.limits()?,
                redis,
                &notify,
            )
            .await
        }
        Command::Import {
            kind,
            files,
            crs,
            officer,
            strict,
            tracks,
        } => match kind.layer() {
            Some(layer) => {
                for file in files {
                    import(&cli.database_url, layer, file, crs).await?;
                }
                Ok(())
            }
            None if kind == CliImportKind::Roads => import_roads(&cli.database_url, files).await,
            None if kind == CliImportKind::Places => import_places(&cli.database_url, files).await,
            None => {
                let opts = tracks.upload_options(officer, crs)?;
                import_tracks(&cli.database_url, files, opts, strict).await
            }
        },
        Command::Migrate => {
            store::open(&cli.database_url)
                .await
                .with_context(|| format!("opening {}", redact(&cli.database_url)))?;
            tracing::info!("schema is up to date");
            Ok(())
        }
        Command::User(cmd) => user(&cli.database_url, cmd).await,
        Command::PlanRoute(args) => plan_route(&cli.database_url, args).await,
        Command::Notify(cmd) => notify::notify(cmd).await,
        Command::Coverage(cmd) => coverage_command(&cli.database_url, cmd).await,
        Command::Report(ReportCommand::Scorecard {
            format,
            from,
            to,
            out,
        }) => {
            scorecard_report(
                &cli.database_url,
                format,
                from.as_deref(),
                to.as_deref(),
                out,
            )
            .await
        }
        Command::Report(ReportCommand::Ledger(args)) => {
            casefile::ledger(&cli.database_url, args).await
        }
        Command::Report(ReportCommand::Dossier(args)) => {
            casefile::dossier(&cli.database_url, args).await
        }
        Command::Report(ReportCommand::Evaluation(args)) => {
            evaluation::evaluation(&cli.database_url, args).await
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
    limits: Limits,
    redis: Option<String>,
    notify: &NotifyArgs,
) -> anyhow::Result<()> {
    let channels = notify.channels()?;
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
            // a store made before the road network existed still gets it
            let dir = fixtures.unwrap_or_else(crate::demo::default_fixtures_dir);
            crate::demo::load_roads(&store, &dir)
                .await
                .with_context(|| format!("loading the demo roads from {}", dir.display()))?;
            crate::demo::load_places(&store, &dir)
                .await
                .with_context(|| format!("loading the demo places from {}", dir.display()))?;
        }
    }
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("cannot listen on {bind}"))?;
    let addr = listener.local_addr()?;
    if demo {
        let path = users::ensure_demo_admin(&store, Path::new("."))
            .await
            .context("creating the demo admin")?;
        tracing::info!(
            file = %path.display(),
            "demo admin token written; call the API with: curl -H \"Authorization: Bearer $(cat {})\" http://{addr}/api/v1/towns",
            path.display()
        );
    }
    tracing::info!(%addr, "gridpatrol listening; open http://{addr}/");
    let state = match redis {
        Some(redis) if limits.rate_per_second > 0.0 => {
            let shared = crate::http::shared_rate::SharedRate::connect(
                &redis,
                limits.rate_per_second,
                limits.rate_burst,
            )
            .await
            .with_context(|| format!("cannot reach Redis at {}", redact(&redis)))?;
            tracing::info!("rate limit shared through Redis");
            AppState::new(store).with_shared_rate(limits, shared)
        }
        _ => AppState::new(store).with_limits(limits),
    };
    let notifier =
        crate::service::notify::Notifier::new(state.store.clone(), notify.settings(), channels);
    let worker = tokio::spawn(notifier.run(std::future::pending::<()>()));
    http::serve(listener, state, shutdown_signal()).await?;
    // a delivery cut short here is claimed again when its lease ends
    worker.abort();
    tracing::info!("stopped");
    Ok(())
}

#[expect(clippy::print_stdout, reason = "the report is the command's output")]
fn write_stdout(s: &str) {
    print!("{s}");
    if !s.ends_with('\n') {
        println!();
    }
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

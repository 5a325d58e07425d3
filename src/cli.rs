//! The command line: `serve`, `import` and friends. Parsing and wiring only;
//! the work is done by the service layer.

use crate::time::iso_ms;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use crate::auth::{Caller, Grant, Role};
use crate::http::limits::Limits;
use crate::http::{self, AppState};
use crate::service::{self, ImportKind, users};
use crate::spatial::Crs;
use crate::store::{self, DEFAULT_DATABASE_URL};

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
}

/// `plan-route`: what to plan and where to write it.
#[derive(Debug, clap::Args)]
pub struct PlanRouteArgs {
    /// The grid: its id or its code.
    #[arg(long)]
    pub grid: String,
    /// Where the shift starts: LON,LAT (WGS-84).
    #[arg(long, value_parser = parse_lon_lat, allow_hyphen_values = true)]
    pub start: crate::spatial::LonLat,
    /// Where it ends: LON,LAT; at the last stop when absent.
    #[arg(long, value_parser = parse_lon_lat, allow_hyphen_values = true)]
    pub end: Option<crate::spatial::LonLat>,
    /// The shift's length: 3h, 90m, 2h30m, or minutes.
    #[arg(long, value_parser = parse_shift)]
    pub shift: f64,
    /// walk or ebike.
    #[arg(long, default_value = "walk")]
    pub mode: String,
    /// Minutes spent at each work.
    #[arg(long, default_value_t = 20.0)]
    pub service_minutes: f64,
    /// The shift's date, YYYY-MM-DD; default tomorrow (China Standard Time).
    #[arg(long)]
    pub date: Option<chrono::NaiveDate>,
    /// When the shift starts, HH:MM China Standard Time.
    #[arg(long, default_value = "09:00")]
    pub start_time: String,
    /// The officer the route is assigned to.
    #[arg(long)]
    pub officer: Option<String>,
    /// A street sweep (扫街) of the grid instead of a patrol through targets.
    #[arg(long)]
    pub sweep: bool,
    /// Write the GPX here instead of standard output.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
}

/// Parses `LON,LAT` in WGS-84 degrees.
fn parse_lon_lat(s: &str) -> Result<crate::spatial::LonLat, String> {
    let (lon, lat) = s
        .split_once(',')
        .ok_or_else(|| format!("{s:?} is not LON,LAT"))?;
    let num = |v: &str| {
        v.trim()
            .parse::<f64>()
            .map_err(|_| format!("{s:?} is not LON,LAT"))
    };
    crate::spatial::LonLat::new(num(lon)?, num(lat)?).map_err(|e| e.to_string())
}

/// Parses a shift length (`3h`, `90m`, `2h30m` or minutes) into minutes.
fn parse_shift(s: &str) -> Result<f64, String> {
    let bad = || format!("{s:?} is not a duration such as 3h, 90m or 2h30m");
    let t = s.trim().to_ascii_lowercase();
    if let Ok(m) = t.parse::<f64>() {
        return Ok(m);
    }
    let (hours, rest) = match t.split_once('h') {
        Some((h, rest)) => (h.trim().parse::<f64>().map_err(|_| bad())?, rest),
        None => (0.0, t.as_str()),
    };
    let rest = rest.trim().trim_end_matches("min").trim_end_matches('m');
    let minutes = if rest.is_empty() {
        0.0
    } else {
        rest.trim().parse::<f64>().map_err(|_| bad())?
    };
    Ok(hours * 60.0 + minutes)
}

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
}

/// The format of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// UTF-8 with a byte-order mark, for Excel.
    Csv,
    Json,
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
        })
    }
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user and print their API token, once, alone on standard output.
    Add {
        name: String,
        /// `admin`, `town`, `grid_manager`, `officer` or `viewer`.
        #[arg(long)]
        role: Role,
        /// district, town:CODE, zone:CODE or grid:CODE (several allowed).
        #[arg(long, num_args = 1..)]
        scope: Vec<Grant>,
        /// Days until the token expires (0: never).
        #[arg(long, default_value_t = users::DEFAULT_EXPIRY_DAYS)]
        expires_days: u32,
    },
    /// Issue another token for a user and print it alone on standard output.
    Token {
        name: String,
        /// Days until the token expires (0: never).
        #[arg(long, default_value_t = users::DEFAULT_EXPIRY_DAYS)]
        expires_days: u32,
    },
    /// Revoke every token of a user.
    Revoke { name: String },
    /// List users, roles, scopes and live tokens.
    List,
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve {
            bind,
            demo,
            fixtures,
            limits,
        } => serve(&cli.database_url, bind, demo, fixtures, limits.limits()?).await,
        Command::Import {
            kind,
            files,
            crs,
            officer,
            strict,
        } => match kind.layer() {
            Some(layer) => {
                for file in files {
                    import(&cli.database_url, layer, file, crs).await?;
                }
                Ok(())
            }
            None if kind == CliImportKind::Roads => import_roads(&cli.database_url, files).await,
            None => import_tracks(&cli.database_url, files, crs, officer, strict).await,
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
    }
}

/// `report scorecard`: the whole district's scorecard.
async fn scorecard_report(
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

/// Prints a new token alone on standard output, the one thing a script
/// reads from these commands.
#[expect(
    clippy::print_stdout,
    reason = "the token is shown once, on stdout, so that it can be piped"
)]
fn print_token(token: &str) {
    println!("{token}");
}

async fn user(url: &str, cmd: UserCommand) -> anyhow::Result<()> {
    let store = store::open(url)
        .await
        .with_context(|| format!("cannot open the database at {}", redact(url)))?;
    let actor = Caller::system(&format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    ));
    match cmd {
        UserCommand::Add {
            name,
            role,
            scope,
            expires_days,
        } => {
            let (user, token) =
                users::add_user(&store, &actor, &name, role, scope, expires_days).await?;
            eprintln!(
                "created {} ({}, scope {}); its token follows and is not shown again",
                user.name, user.role, user.grants
            );
            print_token(&token);
        }
        UserCommand::Token { name, expires_days } => {
            let user = users::find_user(&store, &name).await?;
            let token = users::issue_token(&store, &actor, &user, expires_days).await?;
            eprintln!("new token for {name}; it is not shown again");
            print_token(&token);
        }
        UserCommand::Revoke { name } => {
            let n = users::revoke_user(&store, &actor, &name).await?;
            eprintln!("revoked {n} token(s) of {name}");
        }
        UserCommand::List => {
            for s in users::list_users(&store).await? {
                let expiry = match (s.active_tokens, s.expires_at) {
                    (0, _) => "no live token".to_owned(),
                    (_, None) => "never expires".to_owned(),
                    (_, Some(t)) => format!("until {}", t.format("%Y-%m-%d")),
                };
                eprintln!(
                    "{}\t{}\t{}\t{} live token(s), {expiry}",
                    s.user.name, s.user.role, s.user.grants, s.active_tokens
                );
            }
        }
    }
    Ok(())
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
            // a store made before the road network existed still gets it
            let dir = fixtures.unwrap_or_else(crate::demo::default_fixtures_dir);
            crate::demo::load_roads(&store, &dir)
                .await
                .with_context(|| format!("loading the demo roads from {}", dir.display()))?;
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
    let state = AppState::new(store).with_limits(limits);
    http::serve(listener, state, shutdown_signal()).await?;
    tracing::info!("stopped");
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

fn window(from: Option<&str>, to: Option<&str>) -> anyhow::Result<(i64, i64)> {
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

async fn coverage_command(url: &str, cmd: CoverageCommand) -> anyhow::Result<()> {
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
            let scope: cov::Scope = scope.parse().map_err(|e| anyhow::anyhow!("--scope: {e}"))?;
            let (rows, total) =
                cov::ranked_blind_cells(&store, &everything, &scope, from, to, limit)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            let mut w = csv::Writer::from_writer(Vec::new());
            let json_rows: Vec<serde_json::Value> = rows
                .iter()
                .map(|b| {
                    serde_json::json!({"cell": b.cell.to_string(), "grid_id": b.grid, "town": b.town, "risk": b.risk,
                        "never_patrolled": b.never_patrolled, "overdue": b.overdue,
                        "last_patrolled": b.last_patrolled_ms.map(iso_ms), "reasons": b.reasons})
                })
                .collect();
            match format {
                ReportFormat::Json => serde_json::to_string_pretty(
                    &serde_json::json!({"total": total, "cells": json_rows}),
                )?,
                ReportFormat::Csv => {
                    w.write_record([
                        "rank",
                        "cell",
                        "grid_id",
                        "town",
                        "risk",
                        "last_patrolled",
                        "reasons",
                    ])?;
                    for (i, b) in rows.iter().enumerate() {
                        w.write_record([
                            (i + 1).to_string(),
                            b.cell.to_string(),
                            b.grid.to_string(),
                            b.town.clone(),
                            b.risk.to_string(),
                            b.last_patrolled_ms.map(iso_ms).unwrap_or_default(),
                            b.reasons.join("; "),
                        ])?;
                    }
                    String::from_utf8(w.into_inner()?)?
                }
            }
        }
    };
    write_stdout(&out);
    Ok(())
}

#[expect(clippy::print_stdout, reason = "the report is the command's output")]
fn write_stdout(s: &str) {
    print!("{s}");
    if !s.ends_with('\n') {
        println!();
    }
}

/// What `import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CliImportKind {
    Towns,
    Zones,
    Grids,
    Districts,
    Venues,
    Projects,
    Tracks,
    /// The road network the route planner uses.
    Roads,
}

impl CliImportKind {
    fn layer(self) -> Option<ImportKind> {
        match self {
            Self::Towns => Some(ImportKind::Towns),
            Self::Zones => Some(ImportKind::Zones),
            Self::Grids => Some(ImportKind::Grids),
            Self::Districts => Some(ImportKind::Districts),
            Self::Venues => Some(ImportKind::Venues),
            Self::Projects => Some(ImportKind::Projects),
            Self::Tracks | Self::Roads => None,
        }
    }
}

async fn import_roads(url: &str, files: Vec<PathBuf>) -> anyhow::Result<()> {
    let [file] = files.as_slice() else {
        anyhow::bail!("import roads takes one file: the network replaces the stored one");
    };
    let store = store::open(url)
        .await
        .with_context(|| format!("cannot open the database at {}", redact(url)))?;
    let done = service::routes::import_roads_file(&store, file)
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    eprintln!(
        "{}: road network stored: {} nodes, {} edges, {} km{}",
        file.display(),
        done.nodes,
        done.edges,
        done.length_km,
        if done.dropped_edges > 0 {
            format!(
                " ({} edges not connected to the rest left out)",
                done.dropped_edges
            )
        } else {
            String::new()
        }
    );
    Ok(())
}

/// `plan-route`: plans, saves and writes the route as GPX.
async fn plan_route(url: &str, args: PlanRouteArgs) -> anyhow::Result<()> {
    use crate::service::routes::{self as routes, Area, PlanInput, RoadGraphCache, SweepInput};
    use std::io::Write as _;
    let store = store::open(url)
        .await
        .with_context(|| format!("cannot open the database at {}", redact(url)))?;
    let grid_id = match args.grid.trim().parse::<i64>() {
        Ok(id) => id,
        Err(_) => store::typed::all::<crate::domain::Grid>(&store)
            .await?
            .into_iter()
            .find(|g| g.value.code == args.grid.trim())
            .map(|g| g.id)
            .ok_or_else(|| anyhow::anyhow!("--grid: there is no grid {:?}", args.grid))?,
    };
    let mode = routes::parse_mode(&args.mode).map_err(|e| anyhow::anyhow!("--{e}"))?;
    let date = args
        .date
        .unwrap_or_else(|| crate::blindspots::local_day(chrono::Utc::now()) + chrono::Days::new(1));
    let start_time = chrono::NaiveTime::parse_from_str(args.start_time.trim(), "%H:%M")
        .map_err(|_| anyhow::anyhow!("--start-time {:?} is not HH:MM", args.start_time))?;
    let caller = Caller::system(&format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    ));
    let roads = RoadGraphCache::default();
    let route = if args.sweep {
        let input = SweepInput {
            area: Area::Grid(grid_id),
            cells: None,
            start: args.start,
            shift_minutes: Some(args.shift),
            mode,
            date,
            start_time,
            officer: args.officer,
        };
        routes::sweep(&store, &roads, &caller.scope, &caller.user, input).await
    } else {
        let input = PlanInput {
            area: Area::Grid(grid_id),
            start: args.start,
            end: args.end,
            shift_minutes: args.shift,
            mode,
            service_minutes: args.service_minutes,
            date,
            start_time,
            officer: args.officer,
        };
        routes::plan(&store, &roads, &caller.scope, &caller.user, input).await
    }
    .map_err(|e| match e {
        service::ServiceError::Ingest(i) => anyhow::anyhow!("{}: {}", i.field, i.reason),
        other => anyhow::anyhow!(other),
    })?;
    let r = &route.route;
    eprintln!(
        "route {} saved: {} stops, {:.1} km, {:.0} min, {} new cells, {} left out{}",
        route.id,
        r.stops.len(),
        r.distance_m / 1000.0,
        r.duration_s / 60.0,
        r.new_cells,
        r.details["left_out"].as_array().map_or(0, Vec::len),
        if r.road_network {
            ""
        } else {
            " (no road network: straight lines times a detour factor)"
        }
    );
    let gpx = routes::to_gpx(&route);
    match args.out {
        Some(path) => std::fs::write(&path, gpx)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().lock().write_all(gpx.as_bytes())?,
    }
    Ok(())
}

/// Imports track files, each track on its own: every refused track is
/// named on stderr with its reason; the command fails when nothing could be
/// stored, or, with `strict`, when any track of a file was refused (that
/// file is then not stored at all).
async fn import_tracks(
    url: &str,
    files: Vec<PathBuf>,
    crs: Crs,
    officer: Option<String>,
    strict: bool,
) -> anyhow::Result<()> {
    let store = store::open(url)
        .await
        .with_context(|| format!("cannot open the database at {}", redact(url)))?;
    let bar = ProgressBar::new(files.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} files {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let opts = service::tracks::UploadOptions {
        officer,
        crs,
        ..service::tracks::UploadOptions::default()
    };
    let (mut created, mut repeated, mut points, mut refused) = (0usize, 0usize, 0usize, 0usize);
    for file in &files {
        bar.set_message(file.display().to_string());
        let bytes = tokio::fs::read(file)
            .await
            .with_context(|| format!("cannot read {}", file.display()))?;
        let name = file.file_name().and_then(|n| n.to_str());
        let outcome = service::tracks::upload_each(&store, &bytes, name, &opts, strict)
            .await
            .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        for r in &outcome.refused {
            bar.suspend(|| eprintln!("{}: {} refused: {}", file.display(), r.track, r.reason));
        }
        refused += outcome.refused.len();
        for t in &outcome.stored {
            if t.created {
                created += 1;
                points += t.points;
            } else {
                repeated += 1;
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    eprintln!(
        "{} files: {created} tracks stored ({points} points), {repeated} already known, \
         {refused} refused",
        files.len()
    );
    if strict && refused > 0 {
        anyhow::bail!("--strict: {refused} tracks refused, their files were not stored");
    }
    if created + repeated == 0 {
        anyhow::bail!("no track could be stored");
    }
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

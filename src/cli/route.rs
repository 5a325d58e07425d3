//! `plan-route`: a shift's patrol route for a grid, written as GPX.

use super::redact;
use crate::auth::Caller;
use crate::service::{self};
use crate::store::{self};
use anyhow::Context;
use std::path::PathBuf;

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
pub(super) fn parse_lon_lat(s: &str) -> Result<crate::spatial::LonLat, String> {
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
pub(super) fn parse_shift(s: &str) -> Result<f64, String> {
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

/// `plan-route`: plans, saves and writes the route as GPX.
pub(super) async fn plan_route(url: &str, args: PlanRouteArgs) -> anyhow::Result<()> {
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
    let names = crate::service::users::display_names(&store).await?;
    let officer = route.route.officer.as_ref().and_then(|o| names.get(o));
    let gpx = routes::to_gpx(&route, officer.map(String::as_str));
    match args.out {
        Some(path) => std::fs::write(&path, gpx)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().lock().write_all(gpx.as_bytes())?,
    }
    Ok(())
}

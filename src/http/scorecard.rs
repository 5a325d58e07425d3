//! The town scorecard over HTTP: `GET /api/v1/scorecard?from=&to=&format=`,
//! one row per town with the evaluation's items measured from the data.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::blindspots::{towns_param, window};
use super::error::{ApiError, ApiResult};
use super::extract::Query;
use super::inspections::csv_response;
use super::params::Params;
use crate::auth::Caller;
use crate::blindspots::scorecard::{self, ScoreRow};
use crate::evaluation::TownScore;
use crate::service::evaluation as svc;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_scorecard))
}

/// The scorecard as JSON.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Scorecard {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    /// Whether patrol coverage was at hand (otherwise its columns are null).
    coverage_known: bool,
    count: usize,
    items: Vec<ScoreRow>,
    /// The evaluation table's items per town (机构设置, 开工（竣工）备案,
    /// 告知承诺, 全面纳管, 监督检查, 项目管理 and 管理创新), each with its
    /// Chinese label, measured over the window.
    evaluation: Vec<TownScore>,
}

crate::query_params! {
    /// The window, towns and format of the scorecard.
    pub struct ScorecardParams {
        /// RFC 3339 or YYYY-MM-DD; default 90 days before `to`.
        from: String,
        /// Default now.
        to: String,
        /// Town code(s), comma separated.
        town: String,
        /// json (default) or csv.
        format: String,
    }
}

#[utoipa::path(get, path = "/api/v1/scorecard", operation_id = "getScorecard", tag = "blindspots",
    params(ScorecardParams),
    responses((status = 200, description = "one row per town; CSV with format=csv",
               content((Scorecard = "application/json"), (String = "text/csv"))),
              (status = 422, description = "invalid parameter", body = super::error::Problem)))]
pub async fn get_scorecard(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<ScorecardParams>,
) -> ApiResult<Response> {
    let w = window(&q)?;
    let format = q.get("format").map_or("json", |s| s.trim());
    if !matches!(format, "json" | "csv" | "") {
        return Err(ApiError::invalid(
            "format",
            format!("{format:?} is not json or csv"),
        ));
    }
    let towns = towns_param(&q);
    let (rows, coverage_known, scores) = svc::scorecard(&st.store, &caller, w).await?;
    let items: Vec<ScoreRow> = rows
        .into_iter()
        .filter(|r| towns.as_ref().is_none_or(|t| t.contains(&r.town)))
        .collect();
    if format == "csv" {
        let bytes = scorecard::to_csv(&items).map_err(|e| {
            tracing::error!(error = %e, "scorecard csv");
            ApiError::internal()
        })?;
        return Ok(csv_response(bytes, "scorecard"));
    }
    Ok(Json(Scorecard {
        from: w.from(),
        to: w.to(),
        coverage_known,
        count: items.len(),
        evaluation: scores
            .into_iter()
            .filter(|s| items.iter().any(|r| r.town == s.town))
            .collect(),
        items,
    })
    .into_response())
}

//! The OpenAPI document, `GET /api/v1/openapi.json`, built from the router
//! itself ([`super::api`]): every route is registered with its
//! documentation (`utoipa_axum::routes!`), so none can be served
//! undocumented or documented unserved. Here: the document's frame (info,
//! tags, the bearer scheme) and the answers every operation shares — every
//! error is `application/problem+json` with the [`Problem`] schema.

use std::sync::OnceLock;

use utoipa::OpenApi;
use utoipa::openapi::Required;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};

use super::error::{FieldError, Problem};
use super::extract::Json;

/// The media type of every error.
pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(OpenApi)]
#[openapi(
    info(title = "gridpatrol", description = "Patrol and coverage analysis for the supervision of small construction works (小微工程)."),
    components(schemas(Problem, FieldError)),
    security(("bearer" = [])),
    tags((name = "service", description = "Liveness and this document"),
         (name = "layers", description = "Towns, zones, grids, commercial districts and venues"),
         (name = "projects", description = "Small construction works"),
         (name = "tracks", description = "Patrol tracks: upload (GPX, GeoJSON, CSV), live append, the cells covered"),
         (name = "coverage", description = "H3 patrol coverage of a grid, zone, town or the district"),
         (name = "access", description = "The caller and the audit trail"),
         (name = "inspections", description = "Inspections, hazards and the ledger: the closed loop 发现 → 查处 → 整改 → 销项"),
         (name = "blindspots", description = "Blind spots of supervision and the town scorecard"),
         (name = "routes", description = "Patrol routes on the road network: planning, street sweeping (扫街), GPX, assignment and adherence"),
         (name = "features", description = "OGC API - Features: the landing page, conformance, collections and their items (GIS clients: QGIS, GDAL)"),
         (name = "casefile", description = "The case file of every work (一工地一档): parties, filings, notices, enforcement, hand-overs, insurance, permits, attachments, the 台账 workbook and the dossier"),
         (name = "evaluation", description = "The half-year evaluation (小微工程管理专项评价): the table's six items measured per town, self-assessments (自评), the on-site draw and findings (实地评价), the draft 通报"),
         (name = "inbox", description = "The inbox (待办) and 督办: late facts for the user who owns them, their chain of escalation, channels and quiet hours, dead letters"))
)]
pub struct ApiDoc;

/// Paths open without a token (see [`super::auth::needs_token`]).
const OPEN_PATHS: [&str; 2] = ["/health", "/api/v1/openapi.json"];

/// The finished document: the router's paths in the frame of [`ApiDoc`],
/// with the shared answers.
#[must_use]
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| finish(super::api().split_for_parts().1))
}

/// Adds the bearer scheme, the errors the middleware and the extractors
/// answer on every operation (401, 429, 503; 400, 413 and 422 with a body;
/// 422 with query parameters; 404 with a path id), and makes every error
/// `application/problem+json` with the `Problem` schema.
fn finish(mut doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    doc = open_composed(doc);
    doc = super::export::document(doc);
    doc.components
        .get_or_insert_with(Default::default)
        .add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    for (path, item) in &mut doc.paths.paths {
        let open = OPEN_PATHS.contains(&path.as_str());
        for op in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            shared_answers(op, open);
        }
        if !open {
            for op in [
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                idempotency_key(op);
            }
        }
    }
    doc
}

/// A schema composed into another (`allOf`: a flattened struct, a variant
/// of a tagged enum) cannot also forbid other properties, or no value
/// satisfies the composition: those schemas lose `additionalProperties:
/// false` (the server still refuses unknown fields of a request, 422).
fn open_composed(doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    fn composed(v: &serde_json::Value, out: &mut std::collections::BTreeSet<String>) {
        match v {
            serde_json::Value::Object(m) => {
                if let Some(serde_json::Value::Array(parts)) = m.get("allOf") {
                    for r in parts.iter().filter_map(|p| p.get("$ref")?.as_str()) {
                        out.insert(r.rsplit('/').next().unwrap_or(r).to_owned());
                    }
                }
                m.values().for_each(|x| composed(x, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| composed(x, out)),
            _ => {}
        }
    }
    let Ok(v) = serde_json::to_value(&doc) else {
        return doc;
    };
    let mut names = std::collections::BTreeSet::new();
    composed(&v, &mut names);
    let mut doc = doc;
    if let Some(components) = doc.components.as_mut() {
        for name in &names {
            if let Some(RefOr::T(utoipa::openapi::schema::Schema::Object(o))) =
                components.schemas.get_mut(name)
            {
                o.additional_properties = None;
            }
        }
    }
    doc
}

/// The `Idempotency-Key` every write honours (see
/// [`super::idempotency`]), and what it may answer.
fn idempotency_key(op: &mut Operation) {
    let schema = ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(super::idempotency::MAX_KEY_LEN))
        .pattern(Some("^[!-~]+$"));
    let param = ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "A key of the client's choosing (e.g. a UUID): the same key with the same request \
             within a day is answered with the first answer (`Idempotent-Replayed: true`) and \
             writes nothing again",
        ))
        .schema(Some(schema))
        .build();
    op.parameters.get_or_insert_with(Vec::new).push(param);
    let responses = &mut op.responses.responses;
    for (status, description) in [
        (
            "400",
            "the Idempotency-Key is not 1 to 255 visible ASCII characters",
        ),
        (
            "409",
            "a request with this Idempotency-Key is still running; Retry-After says when to retry",
        ),
        (
            "422",
            "the Idempotency-Key was used for a different request",
        ),
    ] {
        responses.entry(status.to_owned()).or_insert_with(|| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    PROBLEM_JSON,
                    Content::new(Some(RefOr::Ref(Ref::from_schema_name("Problem")))),
                )
                .build()
                .into()
        });
    }
}

fn shared_answers(op: &mut Operation, open: bool) {
    let responses = &mut op.responses.responses;
    let mut add = |status: &str, description: &str| {
        responses.entry(status.to_owned()).or_insert_with(|| {
            ResponseBuilder::new()
                .description(description)
                .build()
                .into()
        });
    };
    if open {
        op.security = Some(Vec::new());
    } else {
        add("401", "no valid bearer token");
        add("429", "rate limit reached; Retry-After says when to retry");
        add("503", "the database is unreachable; retry shortly");
        if op.request_body.is_some() {
            // the body extractors: unreadable (400), a bad field (422)
            add(
                "400",
                "the request body cannot be read (malformed JSON, not an object)",
            );
            add("413", "the request body is too large");
            add(
                "422",
                "an invalid field, named in the problem; nothing stored",
            );
        }
        let params = op.parameters.iter().flatten();
        let (mut query, mut path) = (false, false);
        for p in params {
            match p.parameter_in {
                ParameterIn::Query => query = true,
                ParameterIn::Path => path = true,
                _ => {}
            }
        }
        if query {
            // unknown or malformed parameters
            add(
                "422",
                "an invalid or unknown query parameter, named in the problem",
            );
        }
        if path {
            // an id that is not a number names no resource
            add("404", "no such resource");
        }
    }
    if open {
        // health answers its own body when degraded
        return;
    }
    for (status, response) in responses.iter_mut() {
        if !(status.starts_with('4') || status.starts_with('5')) {
            continue;
        }
        if let RefOr::T(r) = response {
            r.content.clear();
            r.content.insert(
                PROBLEM_JSON.to_owned(),
                Content::new(Some(RefOr::Ref(Ref::from_schema_name("Problem")))),
            );
        }
    }
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "service", operation_id = "getOpenApi",
    responses((status = 200, description = "the OpenAPI 3.1 document of this API", body = Object)))]
pub async fn openapi_json() -> Json<&'static utoipa::openapi::OpenApi> {
    Json(document())
}

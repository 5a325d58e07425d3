//! Exports of every analysis and list in one place: the coverage cells and
//! summary, blind cells, blind-spot works and districts, works near venues,
//! the scorecard, hazards, the ledger (the inspections), works, tracks and
//! routes as GeoJSON, CSV, XLSX, FlatGeobuf or GeoPackage.
//!
//! The format is asked for with `?f=` (or the older `format=`) or with an
//! `Accept` header naming one of the media types; an unknown `f` is a 422
//! naming the parameter. [`convert`] is a middleware around the exportable
//! routes ([`specs::SPECS`]): it takes the format off the request, lets the
//! route's own handler answer in JSON (the same scoped service call as any
//! read, so an export holds exactly what the caller may read) and turns the
//! answer into a [`table::Table`] and then into the file.

mod gis;
mod specs;
mod table;
mod write;

use axum::body::{Body, to_bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;
use crate::domain::Town;
use crate::store::typed;

pub use specs::SPECS;

/// The largest JSON answer turned into a file.
const MAX_ANSWER_BYTES: usize = 512 * 1024 * 1024;

/// A file format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    GeoJson,
    Csv,
    Xlsx,
    FlatGeobuf,
    GeoPackage,
}

impl Format {
    /// Every format, as `f` names it.
    pub const ALL: [Self; 5] = [
        Self::GeoJson,
        Self::Csv,
        Self::Xlsx,
        Self::FlatGeobuf,
        Self::GeoPackage,
    ];

    /// The value of `f`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::GeoJson => "geojson",
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
            Self::FlatGeobuf => "fgb",
            Self::GeoPackage => "gpkg",
        }
    }

    /// The media type of the file.
    #[must_use]
    pub fn media_type(self) -> &'static str {
        match self {
            Self::GeoJson => "application/geo+json",
            Self::Csv => "text/csv; charset=utf-8",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::FlatGeobuf => "application/flatgeobuf",
            Self::GeoPackage => "application/geopackage+sqlite3",
        }
    }

    /// The file name's extension.
    #[must_use]
    pub fn extension(self) -> &'static str {
        match self {
            Self::GeoJson => "geojson",
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
            Self::FlatGeobuf => "fgb",
            Self::GeoPackage => "gpkg",
        }
    }

    /// `f`'s value, with the names people also use.
    fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "geojson" | "geo+json" => Some(Self::GeoJson),
            "csv" => Some(Self::Csv),
            "xlsx" | "excel" => Some(Self::Xlsx),
            "fgb" | "flatgeobuf" => Some(Self::FlatGeobuf),
            "gpkg" | "geopackage" => Some(Self::GeoPackage),
            _ => None,
        }
    }

    /// The file format an `Accept` header asks for, when it names one of
    /// ours. Anything else, `*/*` and JSON included, is the JSON answer; so
    /// is GeoJSON, which the spatial lists answer already (the map asks for
    /// `application/geo+json`): the GeoJSON *file* is `f=geojson`.
    fn from_accept(accept: &str) -> Option<Self> {
        accept.split(',').find_map(|part| {
            let media = part.split(';').next().unwrap_or_default().trim();
            Self::ALL
                .into_iter()
                .filter(|f| *f != Self::GeoJson)
                .find(|f| f.media_type().split(';').next() == Some(media))
                .or_else(|| (media == "text/csv").then_some(Self::Csv))
        })
    }
}

/// What a request asks for: the JSON answer or a file.
#[derive(Debug, PartialEq, Eq)]
enum Asked {
    Json,
    File(Format),
}

/// The format of a request: `f`, then `format`, then `Accept`.
fn asked(query: &str, accept: Option<&str>) -> Result<Asked, ApiError> {
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        if k == "f" || k == "format" {
            let v = v.trim();
            if v.is_empty() || v.eq_ignore_ascii_case("json") {
                return Ok(Asked::Json);
            }
            return Format::parse(v).map(Asked::File).ok_or_else(|| {
                ApiError::invalid(
                    k.into_owned(),
                    format!(
                        "{v:?} is not a format; use json, geojson, csv, xlsx, fgb (FlatGeobuf) or gpkg (GeoPackage)（不支持的格式）"
                    ),
                )
            });
        }
    }
    Ok(accept
        .and_then(Format::from_accept)
        .map_or(Asked::Json, Asked::File))
}

/// The query without `f` and `format` (the handlers refuse what they do
/// not declare).
fn without_format(query: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(
            form_urlencoded::parse(query.as_bytes()).filter(|(k, _)| k != "f" && k != "format"),
        )
        .finish()
}

/// The middleware: exports of the routes in [`SPECS`], JSON otherwise.
pub async fn convert(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(spec) = req
        .extensions()
        .get::<MatchedPath>()
        .and_then(|m| specs::spec(m.as_str()))
    else {
        return next.run(req).await;
    };
    let query = req.uri().query().unwrap_or_default().to_owned();
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let asked = match asked(&query, accept.as_deref()) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let has_format =
        form_urlencoded::parse(query.as_bytes()).any(|(k, _)| k == "f" || k == "format");
    if has_format {
        let rest = without_format(&query);
        let path = req.uri().path().to_owned();
        let uri = if rest.is_empty() {
            path
        } else {
            format!("{path}?{rest}")
        };
        match uri.parse() {
            Ok(u) => *req.uri_mut() = u,
            Err(_) => return ApiError::invalid("f", "the query cannot be read").into_response(),
        }
    }
    let Asked::File(format) = asked else {
        return next.run(req).await;
    };
    // the JSON answer in full, uncompressed, fresh (the file has no ETag)
    let h = req.headers_mut();
    h.remove(header::ACCEPT_ENCODING);
    h.remove(header::IF_NONE_MATCH);
    h.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    let answer = next.run(req).await;
    if answer.status() != StatusCode::OK {
        return answer;
    }
    match export(&st, spec, format, answer).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn export(
    st: &AppState,
    spec: &'static specs::Spec,
    format: Format,
    answer: Response,
) -> Result<Response, ApiError> {
    let bytes = to_bytes(answer.into_body(), MAX_ANSWER_BYTES)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "export: reading the answer");
            ApiError::internal()
        })?;
    let json: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        tracing::error!(error = %e, "export: the answer is not JSON");
        ApiError::internal()
    })?;
    let names = table::Names {
        towns: typed::all::<Town>(&st.store)
            .await
            .map_err(crate::service::ServiceError::from)?
            .into_iter()
            .map(|t| (t.value.code, t.value.name))
            .collect(),
        people: if spec
            .columns
            .iter()
            .any(|c| matches!(c.kind, specs::Kind::Person))
        {
            crate::service::users::display_names(&st.store).await?
        } else {
            std::collections::HashMap::new()
        },
    };
    let t = table::Table::from_answer(spec, &json, &names);
    if format == Format::FlatGeobuf && !t.has_geometry() {
        return Err(ApiError::invalid(
            "f",
            format!(
                "{}没有几何，FlatGeobuf 需要几何：请用 csv、xlsx、geojson 或 gpkg (this list has no geometry, which FlatGeobuf needs: use csv, xlsx, geojson or gpkg)",
                spec.title
            ),
        ));
    }
    let file = tokio::task::spawn_blocking(move || write::file(&t, format))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "export task");
            ApiError::internal()
        })?
        .map_err(|e| {
            tracing::error!(error = %e, "export");
            ApiError::internal()
        })?;
    let mut res = Body::from(file).into_response();
    let name = format!("{}.{}", spec.title, format.extension());
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.media_type()),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    // RFC 6266: an ASCII fallback and the Chinese name in UTF-8
    let encoded: String = form_urlencoded::byte_serialize(name.as_bytes()).collect();
    let fallback = format!("{}.{}", spec.file, format.extension());
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{fallback}\"; filename*=UTF-8''{}",
        encoded.replace('+', "%20")
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// Documents the exports in the OpenAPI document: the `f` parameter and
/// each format's media type on the 200 answer of every exportable route.
pub fn document(mut doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    use utoipa::openapi::{Content, RefOr, Required};
    for spec in SPECS {
        let Some(item) = doc.paths.paths.get_mut(spec.path) else {
            continue;
        };
        let Some(op) = item.get.as_mut() else {
            continue;
        };
        let params = op.parameters.get_or_insert_with(Vec::new);
        if !params.iter().any(|p| p.name == "f") {
            let mut values: Vec<&str> = vec!["json"];
            values.extend(
                Format::ALL
                    .iter()
                    .filter(|f| spec.geometry.is_some() || **f != Format::FlatGeobuf)
                    .map(|f| f.name()),
            );
            params.push(
                ParameterBuilder::new()
                    .name("f")
                    .parameter_in(ParameterIn::Query)
                    .required(Required::False)
                    .description(Some(
                        "the answer's format: json (default), or a file: geojson, csv (UTF-8 with BOM, Chinese headers, Beijing time), xlsx, fgb (FlatGeobuf), gpkg (GeoPackage); also `format=` or an Accept header with the media type",
                    ))
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .enum_values(Some(values)),
                    ))
                    .build(),
            );
        }
        if let Some(RefOr::T(ok)) = op.responses.responses.get_mut("200") {
            for f in Format::ALL {
                if f == Format::FlatGeobuf && spec.geometry.is_none() {
                    continue;
                }
                let media = f
                    .media_type()
                    .split(';')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let schema = if f == Format::GeoJson {
                    ObjectBuilder::new().schema_type(Type::Object)
                } else {
                    ObjectBuilder::new().schema_type(Type::String).format(Some(
                        utoipa::openapi::SchemaFormat::KnownFormat(
                            utoipa::openapi::KnownFormat::Binary,
                        ),
                    ))
                };
                ok.content.entry(media).or_insert_with(|| {
                    Content::new(Some(RefOr::T(utoipa::openapi::schema::Schema::Object(
                        schema.build(),
                    ))))
                });
            }
        }
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_maps_accept_header_gets_the_json_answer_and_a_file_type_gets_the_file() {
        let map = Some("application/geo+json, application/json;q=0.9");
        assert_eq!(asked("scope=district", map).expect("ok"), Asked::Json);
        assert_eq!(asked("", Some("*/*")).expect("ok"), Asked::Json);
        assert_eq!(
            asked("", Some("text/csv")).expect("ok"),
            Asked::File(Format::Csv)
        );
        assert_eq!(
            asked("f=geojson", map).expect("ok"),
            Asked::File(Format::GeoJson)
        );
        assert_eq!(
            asked("", Some("application/geopackage+sqlite3")).expect("ok"),
            Asked::File(Format::GeoPackage)
        );
    }

    #[test]
    fn the_format_comes_from_f_then_format_then_accept() {
        assert_eq!(asked("f=csv", None).ok(), Some(Asked::File(Format::Csv)));
        assert_eq!(
            asked("town=a&format=XLSX", None).ok(),
            Some(Asked::File(Format::Xlsx))
        );
        assert_eq!(asked("f=json", Some("text/csv")).ok(), Some(Asked::Json));
        assert_eq!(
            asked("", Some("application/flatgeobuf")).ok(),
            Some(Asked::File(Format::FlatGeobuf))
        );
        assert_eq!(asked("", Some("text/html,*/*")).ok(), Some(Asked::Json));
        let e = asked("f=shp", None).expect_err("unknown");
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(without_format("a=1&f=csv&b=2"), "a=1&b=2");
    }
}

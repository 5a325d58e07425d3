//! The integration tests in one binary (one link instead of two dozen on a
//! two-core machine): the store suite on both backends, the HTTP API, the
//! binary, the engines and their properties. `common` holds the shared helpers.

#[macro_use]
mod common;

mod access_audit;
mod access_hardening;
mod access_outage;
mod access_params;
mod access_scope;
mod access_tokens;
mod answers_agree;
mod blindspots_api;
mod blindspots_postgis;
mod blindspots_properties;
mod blindspots_reasons;
mod casefile_api;
mod casefile_dossier;
mod casefile_workbook;
mod coverage_geometry;
mod coverage_properties;
mod crs;
mod durability;
mod evaluation_api;
mod evaluation_measures;
mod exports_api;
mod gis_views;
mod http_api;
mod idempotency;
mod import_text;
mod inspections_api;
mod instances;
mod notify_delivery;
mod notify_escalation;
mod notify_receivers;
mod notify_tls;
mod ogc_api;
mod ogc_gdal;
mod openapi;
mod openapi_bounds;
mod places_api;
mod read_cache;
mod routes_api;
mod routes_cli;
mod routing_demo_graph;
mod routing_osm;
mod routing_plan;
mod routing_sweep;
mod snapshots_api;
mod store_suite;
mod store_upgrade;
mod tiles_api;
mod track_amm;
mod track_cleaning_real;
mod track_parsers;
mod tracks_api;
mod tracks_batch_api;
mod visits_follow_tracks;
mod write_guards;
mod write_text;

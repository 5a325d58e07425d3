//! gridpatrol: patrol and coverage analysis for the supervision of small
//! construction works (小微工程).

pub mod auth;
pub mod cli;
pub mod demo;
pub mod demo_casefile;
pub mod http;
pub mod service;
pub mod store;

// The pure core, under the names the service has always used.
pub use gridpatrol_core::{
    blindspots, casefile, coverage, domain, evaluation, ingest, inspection, naming, notify,
    routing, spatial, time,
};

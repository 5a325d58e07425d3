//! gridpatrol: patrol and coverage analysis for the supervision of small
//! construction works (小微工程).

pub mod auth;
pub mod blindspots;
pub mod cli;
pub mod coverage;
pub mod demo;
pub mod domain;
pub mod http;
pub mod ingest;
pub mod inspection;
pub mod routing;
pub mod service;
pub mod spatial;
pub mod store;

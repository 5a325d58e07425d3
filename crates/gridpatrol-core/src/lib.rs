//! gridpatrol-core: the pure part of gridpatrol — the domain of small works
//! (小微工程) and their supervision as validated types, spatial primitives and
//! frames, the H3 coverage engine, road routing, blind-spot analyses, the
//! inspection state machine and the readers of what users bring.
//!
//! No I/O beyond reading what a caller hands in, no async, no HTTP and no
//! database: the compiler keeps it that way, since this crate depends on
//! none of them. `utoipa` schemas come with the `openapi` feature.

pub mod blindspots;
pub mod casefile;
pub mod coverage;
pub mod domain;
pub mod evaluation;
pub mod ingest;
pub mod inspection;
pub mod naming;
pub mod notify;
pub mod routing;
pub mod spatial;
pub mod time;

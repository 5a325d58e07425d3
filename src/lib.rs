//! gridpatrol: patrol and coverage analysis for the supervision of small
//! construction works (小微工程).

pub mod spatial;

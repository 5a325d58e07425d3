//! The case file of every work (一工地一档): its parties, and the records the
//! district's evaluation reads — filings, notices, enforcement, hand-overs,
//! insurance, hot-work permits, insulation filings — kept append-only with
//! who recorded them and when. Pure types and rules: no I/O.

pub mod media;
pub mod party;
pub mod record;
pub mod summary;

pub use party::{Party, PartyRole, check_uscc, uscc_check_char};
pub use record::{
    CaseRecord, Enforcement, Entry, Filing, FilingKind, FireRating, Handover, HandoverReason,
    HotWorkPermit, InsulationFiling, Measure, Notice, OutOfScope, Policy, RecordBody, RecordKind,
};
pub use summary::CaseFile;

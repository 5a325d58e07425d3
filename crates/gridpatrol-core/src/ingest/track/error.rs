//! Why an upload could not be read as tracks.

use super::TrackFormat;

/// A malformed upload. Each message is one sentence that says where (line,
/// column, feature or element) and why, fit to show to the officer who
/// uploaded the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrackParseError {
    /// Nothing but whitespace.
    #[error("the {format} file is empty")]
    Empty { format: TrackFormat },

    /// The content looks like none of the supported formats.
    #[error("the file is not GPX, GeoJSON or CSV (it starts with '{start}')")]
    UnknownFormat { start: String },

    /// `GeoJSON` and CSV must be UTF-8 (a BOM is fine).
    #[error(
        "the {format} file is not UTF-8 text (byte {offset} is not valid UTF-8; \
         a file saved as GBK must be saved again as UTF-8)"
    )]
    NotUtf8 { format: TrackFormat, offset: usize },

    /// The GPX reader refused the document. The line is where the reader
    /// stopped, which is the offending element or just after it.
    #[error("GPX near line {line}: {reason}")]
    Gpx {
        line: u64,
        reason: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// The `GeoJSON` text is not valid JSON, or not `GeoJSON`.
    #[error("GeoJSON line {line}, column {column}: {reason}")]
    Json {
        line: usize,
        column: usize,
        reason: String,
        #[source]
        source: serde_json::Error,
    },

    /// A well-formed document with a value that cannot be a track: `at` is a
    /// path such as `features[2].properties.times[4]` or
    /// `trk[0].trkseg[1].trkpt[3].time`.
    #[error("{format} {at}: {reason}")]
    Invalid {
        format: TrackFormat,
        at: String,
        reason: String,
    },

    /// The CSV header lacks a column or names one twice.
    #[error("line 1: {reason}")]
    CsvHeader { reason: String },

    /// One CSV cell could not be read.
    #[error("line {line}: column {column}: '{value}' {reason}")]
    CsvField {
        line: u64,
        column: String,
        value: String,
        reason: String,
    },

    /// A CSV row as a whole is malformed (wrong number of fields, bad quoting).
    #[error("line {line}: {reason}")]
    CsvRow {
        line: u64,
        reason: String,
        #[source]
        source: Option<csv::Error>,
    },

    /// A well-formed file without a single track point.
    #[error("the {format} file holds no track points")]
    NoPoints { format: TrackFormat },
}

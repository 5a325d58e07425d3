//! Patrol tracks from uploaded files: parsing GPX, `GeoJSON` and CSV into raw
//! tracks, then cleaning them into WGS-84 [`TrackPoint`] segments.
//!
//! Everything here is pure: it takes the bytes of an upload and returns
//! values, with no I/O and no async, so the HTTP layer and the CLI share it.
//!
//! The two steps are apart on purpose:
//!
//! 1. [`parse`] (or [`parse_gpx`], [`parse_geojson`], [`parse_csv`]) reads a
//!    file into [`ParsedTrack`]s whose [`RawPoint`]s are exactly what the file
//!    says, in the file's coordinate system, unvalidated. A malformed file is
//!    a [`TrackParseError`] that names the line, feature or field.
//! 2. [`clean`] converts a parsed track to WGS-84, drops the points a patrol
//!    cannot have produced, and counts every drop in a [`CleaningReport`], so
//!    an officer can be shown why a track lost points or was rejected.
//!
//! [`TrackPoint`]: crate::spatial::TrackPoint

mod area;
mod clean;
mod csv;
mod csv_plain;
mod error;
mod format;
mod geojson;
mod gpx;
mod jumps;
mod params;
mod time;

use chrono::{DateTime, Utc};

pub use area::{Extent, ExtentError, MARGIN_TOLERANCE};
pub use clean::{
    CleanParams, CleanParamsError, CleanedTrack, CleaningReport, DEFAULT_MODE_LIMITS, RejectReason,
    TrackRejected, clean,
};
pub use csv::{CsvColumns, parse_csv, parse_csv_with};
pub use error::TrackParseError;
pub use format::{TrackFormat, UnknownTrackFormat};
pub use geojson::parse_geojson;
pub use gpx::parse_gpx;
pub use jumps::{AUTO_EBIKE_BELOW_MPS, AUTO_FOOT_BELOW_MPS, REANCHOR_RUN, TravelMode};

/// One position as the file gives it: `lon`/`lat` in degrees in the upload's
/// coordinate system (see [`crate::spatial::Crs`]), not yet validated, and the
/// time if the file has one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RawPoint {
    pub lon: f64,
    pub lat: f64,
    pub time: Option<DateTime<Utc>>,
}

/// One track of an upload: the positions of one officer's patrol with what
/// the file says about who recorded it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedTrack {
    /// The track's name (GPX `<name>`, a `name` or `track` property or column).
    pub name: Option<String>,
    /// Who walked it (GPX `<src>` or author, an `officer` property or column).
    pub officer: Option<String>,
    /// What recorded it (GPX `creator`, a `device` property or column).
    pub device: Option<String>,
    /// Continuous recordings, in file order. Between the last point of one
    /// segment and the first point of the next nothing was recorded (a GPX
    /// `<trkseg>` break, a part of a `GeoJSON` `MultiLineString`), so that gap
    /// must never be drawn as walked.
    pub segments: Vec<Vec<RawPoint>>,
}

impl ParsedTrack {
    /// All points of all segments, in file order.
    pub fn points(&self) -> impl Iterator<Item = &RawPoint> {
        self.segments.iter().flatten()
    }

    /// The number of points over all segments.
    #[must_use]
    pub fn point_count(&self) -> usize {
        self.segments.iter().map(Vec::len).sum()
    }
}

/// Parses an upload in a known format into its tracks.
///
/// Use [`TrackFormat::detect`] first when the format comes from a request.
pub fn parse(bytes: &[u8], format: TrackFormat) -> Result<Vec<ParsedTrack>, TrackParseError> {
    parse_with(bytes, format, &ParseOptions::default())
}

/// What the uploader says about a file that the file does not: the CSV
/// columns of an unknown header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParseOptions {
    pub columns: CsvColumns,
}

/// [`parse`] with the uploader's [`ParseOptions`].
pub fn parse_with(
    bytes: &[u8],
    format: TrackFormat,
    opts: &ParseOptions,
) -> Result<Vec<ParsedTrack>, TrackParseError> {
    match format {
        TrackFormat::Gpx => parse_gpx(bytes),
        TrackFormat::GeoJson => parse_geojson(bytes),
        TrackFormat::Csv => parse_csv_with(bytes, &opts.columns),
    }
}

/// Detects the format of an upload (see [`TrackFormat::detect`]) and parses
/// it, returning the format found with the tracks.
pub fn parse_upload(
    bytes: &[u8],
    content_type: Option<&str>,
    file_name: Option<&str>,
) -> Result<(TrackFormat, Vec<ParsedTrack>), TrackParseError> {
    parse_upload_with(bytes, content_type, file_name, &ParseOptions::default())
}

/// [`parse_upload`] with the uploader's [`ParseOptions`].
pub fn parse_upload_with(
    bytes: &[u8],
    content_type: Option<&str>,
    file_name: Option<&str>,
    opts: &ParseOptions,
) -> Result<(TrackFormat, Vec<ParsedTrack>), TrackParseError> {
    let format = TrackFormat::detect(content_type, file_name, bytes).ok_or_else(|| {
        let text = String::from_utf8_lossy(bytes.get(..64).unwrap_or(bytes));
        TrackParseError::UnknownFormat {
            start: excerpt(text.trim()),
        }
    })?;
    Ok((format, parse_with(bytes, format, opts)?))
}

/// Decodes a text upload as UTF-8, without its byte-order mark.
fn utf8_text(bytes: &[u8], format: TrackFormat) -> Result<&str, TrackParseError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| TrackParseError::NotUtf8 {
        format,
        offset: e.valid_up_to(),
    })?;
    if text.trim().is_empty() {
        return Err(TrackParseError::Empty { format });
    }
    Ok(text)
}

/// Shortens a value quoted in an error message, on a character boundary.
fn excerpt(value: &str) -> String {
    const MAX_CHARS: usize = 40;
    let mut chars = value.chars();
    let head: String = chars.by_ref().take(MAX_CHARS).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

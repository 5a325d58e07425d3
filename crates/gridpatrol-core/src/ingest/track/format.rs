//! Which parser an upload needs: from its Content-Type, its file name, or
//! failing both, its first bytes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The file formats a track can be uploaded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrackFormat {
    /// GPX 1.0 or 1.1, from phone apps and handheld receivers.
    Gpx,
    /// `GeoJSON` (RFC 7946), from device platforms and web tools.
    GeoJson,
    /// CSV with a header row, from device platforms.
    Csv,
}

/// An unknown format name.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown track format {0:?}; expected gpx, geojson or csv")]
pub struct UnknownTrackFormat(pub String);

impl FromStr for TrackFormat {
    type Err = UnknownTrackFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_extension(s).ok_or_else(|| UnknownTrackFormat(s.to_owned()))
    }
}

impl fmt::Display for TrackFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Gpx => "GPX",
            Self::GeoJson => "GeoJSON",
            Self::Csv => "CSV",
        })
    }
}

impl TrackFormat {
    /// The format a media type names, ignoring parameters such as
    /// `; charset=utf-8`. Generic types (`text/plain`, `application/xml`,
    /// `application/octet-stream`) name none, so that the caller falls back
    /// to the file name or the content.
    #[must_use]
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        match essence.to_ascii_lowercase().as_str() {
            "application/gpx+xml" | "application/gpx" => Some(Self::Gpx),
            "application/geo+json" | "application/vnd.geo+json" | "application/json" => {
                Some(Self::GeoJson)
            }
            "text/csv" | "application/csv" | "text/comma-separated-values" => Some(Self::Csv),
            _ => None,
        }
    }

    /// The format a file name's extension names: `track.GPX`, `.geojson`,
    /// `csv` all work.
    #[must_use]
    pub fn from_extension(file_name: &str) -> Option<Self> {
        let ext = file_name.rsplit('.').next().unwrap_or(file_name).trim();
        match ext.to_ascii_lowercase().as_str() {
            "gpx" => Some(Self::Gpx),
            "geojson" | "json" => Some(Self::GeoJson),
            "csv" | "txt" | "tsv" => Some(Self::Csv),
            _ => None,
        }
    }

    /// Guesses the format from the first non-blank character: `<` is GPX,
    /// `{` is `GeoJSON`, and a first line with a comma, semicolon or tab is CSV.
    #[must_use]
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let start = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
        let rest = &bytes[start..];
        match rest.first()? {
            b'<' => Some(Self::Gpx),
            b'{' => Some(Self::GeoJson),
            _ => {
                let line_end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
                rest[..line_end]
                    .iter()
                    .any(|b| matches!(b, b',' | b';' | b'\t'))
                    .then_some(Self::Csv)
            }
        }
    }

    /// The format of an upload: the Content-Type if it names one, else the
    /// file name's extension, else [`TrackFormat::sniff`].
    #[must_use]
    pub fn detect(
        content_type: Option<&str>,
        file_name: Option<&str>,
        bytes: &[u8],
    ) -> Option<Self> {
        content_type
            .and_then(Self::from_content_type)
            .or_else(|| file_name.and_then(Self::from_extension))
            .or_else(|| Self::sniff(bytes))
    }
}

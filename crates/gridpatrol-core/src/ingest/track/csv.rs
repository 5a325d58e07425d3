//! CSV exports of device platforms: one GPS fix a row, with a header.

use std::collections::HashMap;

use csv::{ReaderBuilder, StringRecord, Trim};

use super::{ParsedTrack, RawPoint, TrackFormat, TrackParseError, excerpt, time, utf8_text};

/// Parses a CSV export into one track per officer (and `track` value).
///
/// Columns are found by name, in any order and any case; other columns are
/// ignored. The header may be English or the platforms' Chinese:
///
/// | meaning | accepted names |
/// | --- | --- |
/// | longitude (required) | `lon`, `lng`, `long`, `longitude`, `x`, `经度` |
/// | latitude (required) | `lat`, `latitude`, `y`, `纬度` |
/// | time | `time`, `timestamp`, `datetime`, `locatetime`, `locatetime_ms`, `定位时间`, `时间` |
/// | officer | `officer`, `巡查员`, `人员`, `姓名` |
/// | device | `device`, `device_id`, `设备`, `设备号` |
/// | track | `track`, `track_id`, `轨迹` |
///
/// Times are RFC 3339 / ISO-8601 with a zone, `YYYY-MM-DD HH:MM:SS` without
/// one (Beijing time, UTC+8; `/` between the date parts is fine too), or
/// epoch seconds or milliseconds. Rows are grouped into one track per
/// officer (and per `track` value when that column exists), in order of first
/// appearance, keeping file order inside a track. The separator is a comma,
/// or a semicolon or tab when the header has no comma. A UTF-8 BOM is
/// skipped. An empty coordinate cell is read as NaN so that cleaning counts
/// the row as an invalid coordinate (devices write such rows when they have
/// no fix); text that is not a number is an error. Rows whose cells are all
/// empty are skipped.
pub fn parse_csv(bytes: &[u8]) -> Result<Vec<ParsedTrack>, TrackParseError> {
    parse_csv_with(bytes, &CsvColumns::default())
}

/// Column names that override the ones [`parse_csv`] recognises, for
/// exports whose header it does not know (`--time-column gps_time`). A name
/// matches a header cell whatever its case and surrounding spaces; a name
/// given that the header lacks is an error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CsvColumns {
    pub time: Option<String>,
    pub lon: Option<String>,
    pub lat: Option<String>,
    pub officer: Option<String>,
    pub track: Option<String>,
}

impl CsvColumns {
    /// Reads `time:COL,lon:COL,lat:COL` (also `officer:` and `track:`; `=`
    /// works as well as `:`).
    pub fn parse_list(list: &str) -> Result<Self, String> {
        let mut out = Self::default();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let Some((key, column)) = item.split_once([':', '=']) else {
                return Err(format!(
                    "'{item}' is not MEANING:COLUMN (e.g. time:gps_time)"
                ));
            };
            let column = column.trim();
            if column.is_empty() {
                return Err(format!("'{item}' names no column"));
            }
            let slot = match key.trim().to_ascii_lowercase().as_str() {
                "time" => &mut out.time,
                "lon" | "lng" | "longitude" => &mut out.lon,
                "lat" | "latitude" => &mut out.lat,
                "officer" => &mut out.officer,
                "track" => &mut out.track,
                other => {
                    return Err(format!(
                        "unknown column meaning '{other}' (expected time, lon, lat, officer or track)"
                    ));
                }
            };
            *slot = Some(column.to_owned());
        }
        Ok(out)
    }
}

/// [`parse_csv`] with some columns named by the caller.
pub fn parse_csv_with(
    bytes: &[u8],
    names: &CsvColumns,
) -> Result<Vec<ParsedTrack>, TrackParseError> {
    let text = utf8_text(bytes, TrackFormat::Csv)?;
    if let Some(tracks) = super::csv_plain::parse_plain(text, delimiter(text), names) {
        return Ok(tracks);
    }
    read_general(text, names)
}

/// The general reader, for every CSV the fast path leaves to it (quoted
/// cells, and every error).
pub(super) fn read_general(
    text: &str,
    names: &CsvColumns,
) -> Result<Vec<ParsedTrack>, TrackParseError> {
    let mut reader = ReaderBuilder::new()
        .delimiter(delimiter(text))
        // cells are trimmed where they are read: the reader's own trimming
        // of fields builds a new record for every row
        .trim(Trim::Headers)
        .from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| row_error(text, e))?.clone();
    let columns = Columns::find(&header, names)?;

    let mut tracks: Vec<ParsedTrack> = Vec::new();
    let mut groups: HashMap<(String, String), usize> = HashMap::new();
    // rows of one track come in runs: the last row's group is tried first
    let mut last: Option<(String, String, usize)> = None;
    let mut record = StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(row_error(text, e)),
        }
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        // counted only for an error message: counting per row is quadratic
        let line = || record.position().map_or(0, |p| line_at(text, p.byte()));
        let cell = |i: usize| record.get(i).unwrap_or_default().trim();
        let point = RawPoint {
            lon: coordinate(cell(columns.lon), &line, &header, columns.lon)?,
            lat: coordinate(cell(columns.lat), &line, &header, columns.lat)?,
            time: match columns.time {
                Some(i) if !cell(i).is_empty() => {
                    Some(time::parse_time(cell(i)).ok_or_else(|| {
                        field_error(line(), &header, i, cell(i), time::TIME_EXPECTED)
                    })?)
                }
                _ => None,
            },
        };
        let officer = columns.officer.map(cell).unwrap_or_default();
        let track = columns.track.map(cell).unwrap_or_default();
        let index = match &last {
            Some((o, t, i)) if o == officer && t == track => *i,
            _ => {
                let key = (officer.to_owned(), track.to_owned());
                let index = if let Some(&i) = groups.get(&key) {
                    i
                } else {
                    tracks.push(ParsedTrack {
                        name: non_empty(track),
                        officer: non_empty(officer),
                        device: None,
                        segments: vec![Vec::new()],
                    });
                    groups.insert(key.clone(), tracks.len() - 1);
                    tracks.len() - 1
                };
                last = Some((key.0, key.1, index));
                index
            }
        };
        if let Some(t) = tracks.get_mut(index) {
            if t.device.is_none() {
                t.device = columns.device.map(cell).and_then(non_empty);
            }
            if let Some(segment) = t.segments.first_mut() {
                segment.push(point);
            }
        }
    }
    if tracks.is_empty() {
        return Err(TrackParseError::NoPoints {
            format: TrackFormat::Csv,
        });
    }
    Ok(tracks)
}

/// The separator: a comma unless the header has none but has a `;` or tab.
pub(super) fn delimiter(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or_default();
    if header.contains(',') {
        b','
    } else if header.contains(';') {
        b';'
    } else if header.contains('\t') {
        b'\t'
    } else {
        b','
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

const LON_NAMES: &[&str] = &["lon", "lng", "long", "longitude", "x", "经度"];
const LAT_NAMES: &[&str] = &["lat", "latitude", "y", "纬度"];
const TIME_NAMES: &[&str] = &[
    "time",
    "timestamp",
    "datetime",
    "locatetime",
    "locatetime_ms",
    "定位时间",
    "时间",
];
const OFFICER_NAMES: &[&str] = &["officer", "巡查员", "人员", "姓名"];
const DEVICE_NAMES: &[&str] = &["device", "device_id", "设备", "设备号"];
const TRACK_NAMES: &[&str] = &["track", "track_id", "轨迹"];

/// Where each meaningful column is.
pub(super) struct Columns {
    pub(super) lon: usize,
    pub(super) lat: usize,
    pub(super) time: Option<usize>,
    pub(super) officer: Option<usize>,
    pub(super) device: Option<usize>,
    pub(super) track: Option<usize>,
}

/// A header cell as it is compared with names.
fn header_name(cell: &str) -> String {
    cell.trim_start_matches('\u{feff}').trim().to_lowercase()
}

impl Columns {
    pub(super) fn find(header: &StringRecord, given: &CsvColumns) -> Result<Self, TrackParseError> {
        let find = |meaning: &str, names: &[&str]| -> Result<Option<usize>, TrackParseError> {
            let named = match meaning {
                "longitude" => &given.lon,
                "latitude" => &given.lat,
                "time" => &given.time,
                "officer" => &given.officer,
                "track" => &given.track,
                _ => &None,
            };
            if let Some(name) = named {
                let wanted = header_name(name);
                return header
                    .iter()
                    .position(|cell| header_name(cell) == wanted)
                    .map(Some)
                    .ok_or_else(|| TrackParseError::CsvHeader {
                        reason: format!(
                            "no column '{name}' for the {meaning} (the header has {})",
                            excerpt(&header.iter().collect::<Vec<_>>().join(", "))
                        ),
                    });
            }
            let mut found: Option<usize> = None;
            for (i, name) in header.iter().enumerate() {
                let name = header_name(name);
                if names.contains(&name.as_str()) {
                    if let Some(first) = found {
                        return Err(TrackParseError::CsvHeader {
                            reason: format!(
                                "columns '{}' and '{}' both name the {meaning}",
                                header.get(first).unwrap_or_default(),
                                header.get(i).unwrap_or_default()
                            ),
                        });
                    }
                    found = Some(i);
                }
            }
            Ok(found)
        };
        let required = |meaning: &str, names: &[&str]| -> Result<usize, TrackParseError> {
            find(meaning, names)?.ok_or_else(|| TrackParseError::CsvHeader {
                reason: format!(
                    "no {meaning} column (expected one of {}; the header has {})",
                    names.join(", "),
                    excerpt(&header.iter().collect::<Vec<_>>().join(", "))
                ),
            })
        };
        Ok(Self {
            lon: required("longitude", LON_NAMES)?,
            lat: required("latitude", LAT_NAMES)?,
            time: find("time", TIME_NAMES)?,
            officer: find("officer", OFFICER_NAMES)?,
            device: find("device", DEVICE_NAMES)?,
            track: find("track", TRACK_NAMES)?,
        })
    }
}

fn coordinate(
    value: &str,
    line: &dyn Fn() -> u64,
    header: &StringRecord,
    column: usize,
) -> Result<f64, TrackParseError> {
    if value.is_empty() {
        return Ok(f64::NAN);
    }
    value
        .parse::<f64>()
        .map_err(|_| field_error(line(), header, column, value, "is not a number"))
}

fn field_error(
    line: u64,
    header: &StringRecord,
    column: usize,
    value: &str,
    reason: &str,
) -> TrackParseError {
    TrackParseError::CsvField {
        line,
        column: header.get(column).unwrap_or_default().to_owned(),
        value: excerpt(value),
        reason: reason.to_owned(),
    }
}

/// The 1-based line of the record that starts at `byte`. The reader puts a
/// record's start before the blank lines it skipped, and its own line count
/// leaves them out, so both are corrected here.
fn line_at(text: &str, byte: u64) -> u64 {
    let bytes = text.as_bytes();
    let mut end = usize::try_from(byte).unwrap_or(usize::MAX).min(bytes.len());
    while bytes.get(end).is_some_and(|b| matches!(b, b'\n' | b'\r')) {
        end += 1;
    }
    let newlines = bytes[..end].split(|&b| b == b'\n').count() - 1;
    u64::try_from(newlines).map_or(u64::MAX, |n| n.saturating_add(1))
}

fn row_error(text: &str, e: csv::Error) -> TrackParseError {
    let line = e.position().map_or(0, |p| line_at(text, p.byte()));
    let reason = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("has {len} fields but the header has {expected_len}")
        }
        _ => format!("the row cannot be read ({e})"),
    };
    TrackParseError::CsvRow {
        line,
        reason,
        source: Some(e),
    }
}

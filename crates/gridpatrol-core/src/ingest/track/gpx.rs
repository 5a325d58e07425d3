//! GPX 1.0 and 1.1 through the `gpx` crate.

use std::io::Read;

use chrono::{DateTime, Utc};

use super::{ParsedTrack, RawPoint, TrackFormat, TrackParseError};

/// Parses a GPX document into one track per `<trk>` and `<rte>` that has at
/// least one point.
///
/// Each `<trk>` is one track and keeps its `<trkseg>`s as segments; each
/// `<rte>` is a one-segment track. Waypoints (`<wpt>`) are places, not a
/// walk, and are ignored. The officer is the track's `<src>`, else the file's
/// author (`<metadata><author><name>` in 1.1, `<author>` in 1.0); the device
/// is the `creator` attribute, the app or receiver that wrote the file. An
/// `<officer>` (any namespace prefix; or `<巡查员>`) in the `<extensions>` of
/// a `<trk>` or `<rte>` names its officer before its `<src>`; one in the
/// `<extensions>` of `<metadata>` (or of `<gpx>`) names the file's officer
/// before the author. Times without a zone are UTC, as the GPX schema says.
pub fn parse_gpx(bytes: &[u8]) -> Result<Vec<ParsedTrack>, TrackParseError> {
    if bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(bytes)
        .iter()
        .all(u8::is_ascii_whitespace)
    {
        return Err(TrackParseError::Empty {
            format: TrackFormat::Gpx,
        });
    }
    let mut reader = CountingReader {
        rest: bytes,
        consumed: 0,
    };
    let doc = match gpx::read(&mut reader) {
        Ok(doc) => doc,
        Err(err) => {
            let line = line_of(bytes, reader.consumed);
            return Err(TrackParseError::Gpx {
                line,
                reason: describe(&err),
                source: Box::new(err),
            });
        }
    };

    let named = extension_officers(bytes);
    let author = named.file.clone().or_else(|| {
        doc.metadata
            .as_ref()
            .and_then(|m| m.author.as_ref())
            .and_then(|a| a.name.as_deref())
            .and_then(non_blank)
    });
    let device = doc.creator.as_deref().and_then(non_blank);

    let mut tracks = Vec::new();
    for (t, trk) in doc.tracks.iter().enumerate() {
        let mut segments = Vec::with_capacity(trk.segments.len());
        for (s, seg) in trk.segments.iter().enumerate() {
            let points = seg
                .points
                .iter()
                .enumerate()
                .map(|(p, wpt)| raw_point(wpt, || format!("trk[{t}].trkseg[{s}].trkpt[{p}].time")))
                .collect::<Result<Vec<_>, _>>()?;
            if !points.is_empty() {
                segments.push(points);
            }
        }
        if !segments.is_empty() {
            tracks.push(ParsedTrack {
                name: trk.name.as_deref().and_then(non_blank),
                officer: named
                    .tracks
                    .get(t)
                    .cloned()
                    .flatten()
                    .or_else(|| trk.source.as_deref().and_then(non_blank))
                    .or_else(|| author.clone()),
                device: device.clone(),
                segments,
            });
        }
    }
    for (r, rte) in doc.routes.iter().enumerate() {
        let points = rte
            .points
            .iter()
            .enumerate()
            .map(|(p, wpt)| raw_point(wpt, || format!("rte[{r}].rtept[{p}].time")))
            .collect::<Result<Vec<_>, _>>()?;
        if !points.is_empty() {
            tracks.push(ParsedTrack {
                name: rte.name.as_deref().and_then(non_blank),
                officer: named
                    .routes
                    .get(r)
                    .cloned()
                    .flatten()
                    .or_else(|| rte.source.as_deref().and_then(non_blank))
                    .or_else(|| author.clone()),
                device: device.clone(),
                segments: vec![points],
            });
        }
    }
    if tracks.is_empty() {
        return Err(TrackParseError::NoPoints {
            format: TrackFormat::Gpx,
        });
    }
    Ok(tracks)
}

fn raw_point(wpt: &gpx::Waypoint, at: impl Fn() -> String) -> Result<RawPoint, TrackParseError> {
    let p = wpt.point();
    let time = wpt.time.map(|t| {
        to_chrono(t).ok_or_else(|| TrackParseError::Invalid {
            format: TrackFormat::Gpx,
            at: at(),
            reason: "the time is outside the years 0 to 9999".to_owned(),
        })
    });
    Ok(RawPoint {
        lon: p.x(),
        lat: p.y(),
        time: time.transpose()?,
    })
}

/// `gpx::Time` wraps the `time` crate; going through its ISO-8601 text keeps
/// that crate out of our dependencies.
fn to_chrono(t: gpx::Time) -> Option<DateTime<Utc>> {
    let text = t.format().ok()?;
    DateTime::parse_from_rfc3339(&text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Officers named in `<extensions>`, which the `gpx` crate skips: the
/// file's, and each `<trk>`'s and `<rte>`'s in document order.
#[derive(Debug, Default, PartialEq)]
struct ExtensionOfficers {
    file: Option<String>,
    tracks: Vec<Option<String>>,
    routes: Vec<Option<String>>,
}

/// The element names (without prefix) that name an officer in extensions.
const OFFICER_TAGS: [&str; 2] = ["officer", "巡查员"];

/// Reads the officers of `<extensions>`; the document was already read by
/// the `gpx` crate, so an XML error here just ends the scan.
fn extension_officers(bytes: &[u8]) -> ExtensionOfficers {
    use quick_xml::events::Event;
    let mut out = ExtensionOfficers::default();
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut stack: Vec<String> = Vec::new();
    let mut officer: Option<String> = None;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let name = e.local_name().into_inner().to_owned();
                match name.as_str() {
                    "trk" if stack.len() == 1 => out.tracks.push(None),
                    "rte" if stack.len() == 1 => out.routes.push(None),
                    _ => {}
                }
                if OFFICER_TAGS.contains(&name.as_str())
                    && stack.last().is_some_and(|p| p == "extensions")
                {
                    officer = Some(String::new());
                }
                stack.push(name);
            }
            Ok(Event::Text(t)) => {
                if let Some(o) = officer.as_mut() {
                    o.push_str(&t);
                }
            }
            Ok(Event::End(_)) => {
                stack.pop();
                let Some(name) = officer.take().as_deref().and_then(non_blank) else {
                    continue;
                };
                // the element that holds the extensions: <gpx> <metadata> <trk> <rte>
                let owner = stack.len().checked_sub(2).and_then(|i| stack.get(i));
                let slot = match owner.map(String::as_str) {
                    Some("trk") => out.tracks.last_mut(),
                    Some("rte") => out.routes.last_mut(),
                    Some("metadata" | "gpx") => Some(&mut out.file),
                    _ => None,
                };
                if let Some(slot) = slot {
                    slot.get_or_insert(name);
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    out
}

fn non_blank(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// Counts the bytes the XML reader has taken. The reader pulls one byte at a
/// time, so at an error the count is where it stopped.
struct CountingReader<'a> {
    rest: &'a [u8],
    consumed: usize,
}

impl Read for CountingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.rest.read(buf)?;
        self.consumed += n;
        Ok(n)
    }
}

/// The 1-based line that `offset` falls on.
fn line_of(bytes: &[u8], offset: usize) -> u64 {
    let end = offset.min(bytes.len());
    let newlines = bytes[..end].split(|&b| b == b'\n').count() - 1;
    u64::try_from(newlines).map_or(u64::MAX, |n| n.saturating_add(1))
}

fn describe(err: &gpx::errors::GpxError) -> String {
    use gpx::errors::GpxError as E;
    match err {
        E::ParseFloatError(_) => "a coordinate or number is not a number".to_owned(),
        E::ParseIntegerError(_) => "a count is not a whole number".to_owned(),
        E::InvalidChildElement(child, parent) => {
            format!("<{child}> is not allowed inside <{parent}>")
        }
        E::InvalidClosingTag(tag, parent) => format!("unexpected closing </{tag}> in <{parent}>"),
        E::MissingClosingTag(tag) => format!("<{tag}> is not closed"),
        E::MissingOpeningTag(tag) => format!("expected <{tag}>"),
        E::InvalidElementLacksAttribute(attr, element) => {
            format!("a {element} has no {attr} attribute")
        }
        E::XmlParseError(e) => format!("the XML is malformed: {}", e.msg()),
        E::EventParsingError(what) => format!(
            "the XML is malformed inside a {}",
            what.trim_end_matches(" event")
        ),
        E::UnknownVersionError(_) => "the version is not GPX 1.0 or 1.1".to_owned(),
        E::LonLatOutOfBoundsError(what, range, value) => {
            format!("{} {value} is outside {range}", what.to_ascii_lowercase())
        }
        E::Iso8601Error(_) => "a <time> is not an ISO-8601 time".to_owned(),
        other => other.to_string(),
    }
}

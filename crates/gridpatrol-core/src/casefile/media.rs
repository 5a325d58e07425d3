//! What an uploaded file is, by its bytes rather than its name or the type a
//! client claims (a `.exe` renamed `.jpg` is refused), and the EXIF time and
//! position of a photo (kamadak-exif reads JPEG, PNG and HEIF/HEIC alike).

use std::io::Cursor;

use chrono::{DateTime, NaiveDateTime, Utc};
use exif::{In, Reader, Tag, Value};

use crate::time::beijing;

/// The kinds of file the case file keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    Jpeg,
    Png,
    Heic,
    Pdf,
    Docx,
}

impl MediaType {
    /// Every kind, in the order the API lists them.
    pub const ALL: [Self; 5] = [Self::Jpeg, Self::Png, Self::Heic, Self::Pdf, Self::Docx];

    /// The MIME type it is served with.
    #[must_use]
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Heic => "image/heic",
            Self::Pdf => "application/pdf",
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        }
    }

    /// The kind a MIME type names (parameters ignored), if kept.
    #[must_use]
    pub fn from_mime(mime: &str) -> Option<Self> {
        let base = mime.split(';').next().unwrap_or_default().trim();
        let base = base.to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|t| t.mime() == base)
            .or(match base.as_str() {
                "image/jpg" | "image/pjpeg" => Some(Self::Jpeg),
                "image/heif" => Some(Self::Heic),
                _ => None,
            })
    }

    /// Whether it is a photo (EXIF is read, the dossier shows it).
    #[must_use]
    pub fn is_photo(self) -> bool {
        matches!(self, Self::Jpeg | Self::Png | Self::Heic)
    }
}

/// The kind of a file by its first bytes (magic numbers); `None` for
/// anything else.
#[must_use]
pub fn sniff(bytes: &[u8]) -> Option<MediaType> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(MediaType::Jpeg);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(MediaType::Png);
    }
    if bytes.starts_with(b"%PDF-") {
        return Some(MediaType::Pdf);
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        let brand = &bytes[8..12];
        if [
            b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1",
        ]
        .iter()
        .any(|b| brand == *b)
        {
            return Some(MediaType::Heic);
        }
    }
    // a DOCX is a ZIP whose entries include word/document.xml (the local
    // headers keep the names uncompressed)
    if bytes.starts_with(b"PK\x03\x04")
        && bytes
            .windows(b"word/document.xml".len())
            .any(|w| w == b"word/document.xml")
    {
        return Some(MediaType::Docx);
    }
    None
}

/// A photo's EXIF time and position.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PhotoMeta {
    pub taken_at: Option<DateTime<Utc>>,
    /// WGS-84 degrees (GPS receivers give WGS-84).
    pub lon: Option<f64>,
    pub lat: Option<f64>,
}

fn ascii(v: &Value) -> Option<String> {
    match v {
        Value::Ascii(parts) => parts
            .first()
            .and_then(|p| std::str::from_utf8(p).ok())
            .map(|s| s.trim().to_owned()),
        _ => None,
    }
}

fn degrees(v: &Value) -> Option<f64> {
    match v {
        Value::Rational(r) if r.len() >= 3 => {
            let d = r[0].to_f64() + r[1].to_f64() / 60.0 + r[2].to_f64() / 3600.0;
            d.is_finite().then_some(d)
        }
        _ => None,
    }
}

/// Reads the EXIF time (`DateTimeOriginal` with its offset, else taken as
/// Beijing time) and GPS position of a photo; empty when it has none.
#[must_use]
pub fn photo_meta(bytes: &[u8]) -> PhotoMeta {
    let Ok(exif) = Reader::new().read_from_container(&mut Cursor::new(bytes)) else {
        return PhotoMeta::default();
    };
    let field = |t: Tag| exif.get_field(t, In::PRIMARY).map(|f| &f.value);
    let taken_at = field(Tag::DateTimeOriginal)
        .or_else(|| field(Tag::DateTime))
        .and_then(ascii)
        .and_then(|s| NaiveDateTime::parse_from_str(&s, "%Y:%m:%d %H:%M:%S").ok())
        .and_then(|local| {
            let offset = field(Tag::OffsetTimeOriginal)
                .and_then(ascii)
                .and_then(|o| {
                    chrono::DateTime::parse_from_rfc3339(&format!("2000-01-01T00:00:00{o}")).ok()
                })
                .map_or_else(beijing, |t| *t.offset());
            local.and_local_timezone(offset).single()
        })
        .map(|t| t.with_timezone(&Utc));
    let sign = |r: Option<String>, neg: &str| if r.as_deref() == Some(neg) { -1.0 } else { 1.0 };
    let lat = field(Tag::GPSLatitude)
        .and_then(degrees)
        .map(|d| d * sign(field(Tag::GPSLatitudeRef).and_then(ascii), "S"))
        .filter(|d| (-90.0..=90.0).contains(d));
    let lon = field(Tag::GPSLongitude)
        .and_then(degrees)
        .map(|d| d * sign(field(Tag::GPSLongitudeRef).and_then(ascii), "W"))
        .filter(|d| (-180.0..=180.0).contains(d));
    let (lon, lat) = match (lon, lat) {
        (Some(x), Some(y)) => (Some(x), Some(y)),
        _ => (None, None),
    };
    PhotoMeta { taken_at, lon, lat }
}

#[cfg(test)]
mod tests {
    use super::*;
    use exif::experimental::Writer;
    use exif::{Field, Rational};

    /// A JPEG holding only an EXIF segment: taken 2026-11-20 09:30 (Beijing)
    /// at 岳阳街道 (121.2287 E, 31.0159 N).
    pub(crate) fn exif_jpeg() -> Vec<u8> {
        let r = |num, denom| Rational { num, denom };
        let ascii = |s: &str| Value::Ascii(vec![s.as_bytes().to_vec()]);
        let fields = [
            Field {
                tag: Tag::DateTimeOriginal,
                ifd_num: In::PRIMARY,
                value: ascii("2026:11:20 09:30:00"),
            },
            Field {
                tag: Tag::GPSLatitudeRef,
                ifd_num: In::PRIMARY,
                value: ascii("N"),
            },
            Field {
                tag: Tag::GPSLatitude,
                ifd_num: In::PRIMARY,
                value: Value::Rational(vec![r(31, 1), r(0, 1), r(5724, 100)]),
            },
            Field {
                tag: Tag::GPSLongitudeRef,
                ifd_num: In::PRIMARY,
                value: ascii("E"),
            },
            Field {
                tag: Tag::GPSLongitude,
                ifd_num: In::PRIMARY,
                value: Value::Rational(vec![r(121, 1), r(13, 1), r(4332, 100)]),
            },
        ];
        let mut w = Writer::new();
        for f in &fields {
            w.push_field(f);
        }
        let mut tiff = Cursor::new(Vec::new());
        w.write(&mut tiff, false).expect("tiff");
        let tiff = tiff.into_inner();
        let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
        let len = u16::try_from(tiff.len() + 8).expect("small");
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(b"Exif\0\0");
        out.extend_from_slice(&tiff);
        out.extend_from_slice(&[0xFF, 0xD9]);
        out
    }

    #[test]
    fn a_photo_keeps_its_exif_time_and_position() {
        let bytes = exif_jpeg();
        assert_eq!(sniff(&bytes), Some(MediaType::Jpeg));
        let m = photo_meta(&bytes);
        assert_eq!(
            m.taken_at.map(crate::time::iso).as_deref(),
            Some("2026-11-20T01:30:00Z"),
            "EXIF time without an offset is Beijing time"
        );
        let (lon, lat) = (m.lon.expect("lon"), m.lat.expect("lat"));
        assert!(
            (lon - 121.2287).abs() < 1e-4 && (lat - 31.0159).abs() < 1e-4,
            "{lon} {lat}"
        );
    }

    #[test]
    fn files_are_known_by_their_bytes() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0rest"), Some(MediaType::Jpeg));
        assert_eq!(sniff(b"%PDF-1.7\n"), Some(MediaType::Pdf));
        assert_eq!(sniff(b"MZ\x90\x00 an exe"), None);
        assert_eq!(sniff(b"\0\0\0\x18ftypheic\0\0\0\0"), Some(MediaType::Heic));
        assert_eq!(sniff(b"PK\x03\x04 a zip without word"), None);
        assert_eq!(
            MediaType::from_mime("image/jpeg; q=1"),
            Some(MediaType::Jpeg)
        );
        assert_eq!(MediaType::from_mime("application/x-msdownload"), None);
        assert_eq!(
            photo_meta(b"\xFF\xD8\xFF\xE0 no exif"),
            PhotoMeta::default()
        );
    }
}

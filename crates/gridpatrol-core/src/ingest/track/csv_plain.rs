//! The fast path of the CSV reader: files without a quote character (what
//! device platforms export) read byte by byte, with no allocation per row
//! and decimal numbers read without the general float parser.
//!
//! It reads exactly what the general reader (the `csv` crate, see
//! `super::csv`) reads from such a file: records end at `\n`, `\r` or
//! `\r\n`, blank lines are skipped, cells are trimmed as `str::trim` does.
//! Whatever it is not sure of (a ragged row, a cell that is not a number or
//! a time, a header without coordinates, a file without points) makes it
//! give up, and the general reader then answers, with its own error
//! message: errors cost a second read, good files never do.

use std::collections::HashMap;

use csv::StringRecord;

use super::csv::{Columns, CsvColumns};
use super::{ParsedTrack, RawPoint, time};

/// The tracks of `text` when it holds no `"`, or `None` when the general
/// reader must decide.
pub(super) fn parse_plain(text: &str, delim: u8, names: &CsvColumns) -> Option<Vec<ParsedTrack>> {
    // cells are split on the delimiter's byte: an ASCII one
    if !delim.is_ascii() || memchr::memchr(b'"', text.as_bytes()).is_some() {
        return None;
    }
    let mut lines = Lines { text, at: 0 };
    let header_line = lines.next()?;
    let header: StringRecord = header_line
        .split(char::from(delim))
        .map(str::trim)
        .collect::<Vec<_>>()
        .into();
    let columns = Columns::find(&header, names).ok()?;
    let width = header.len();

    let mut tracks: Vec<ParsedTrack> = Vec::new();
    let mut groups: HashMap<(String, String), usize> = HashMap::new();
    // rows of one track come in runs: the last row's group is tried first
    let mut current: Option<(String, String, usize)> = None;
    let mut cells: Vec<&str> = Vec::with_capacity(width);
    for line in lines {
        cells.clear();
        split_cells(line, delim, &mut cells);
        if cells.len() != width {
            return None;
        }
        let cell = |i: usize| cells.get(i).copied().unwrap_or_default().trim();
        let (lon, lat) = (cell(columns.lon), cell(columns.lat));
        if (lon.is_empty() || lat.is_empty()) && cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let point = RawPoint {
            lon: coordinate(lon)?,
            lat: coordinate(lat)?,
            time: match columns.time {
                Some(i) if !cell(i).is_empty() => Some(time_of(cell(i))?),
                _ => None,
            },
        };
        let officer = columns.officer.map(cell).unwrap_or_default();
        let track = columns.track.map(cell).unwrap_or_default();
        let index = match &current {
            Some((o, t, i)) if same(o, officer) && same(t, track) => *i,
            _ => {
                let key = (officer.to_owned(), track.to_owned());
                let index = *groups.entry(key.clone()).or_insert_with(|| {
                    tracks.push(ParsedTrack {
                        name: non_empty(track),
                        officer: non_empty(officer),
                        device: None,
                        segments: vec![Vec::new()],
                    });
                    tracks.len() - 1
                });
                current = Some((key.0, key.1, index));
                index
            }
        };
        let t = tracks.get_mut(index)?;
        if t.device.is_none() {
            t.device = columns.device.map(cell).and_then(non_empty);
        }
        t.segments.first_mut()?.push(point);
    }
    (!tracks.is_empty()).then_some(tracks)
}

/// The cells of `line` split at the ASCII byte `delim` (so every cut is a
/// character boundary), as `str::split` gives them.
fn split_cells<'a>(line: &'a str, delim: u8, cells: &mut Vec<&'a str>) {
    let mut start = 0;
    for end in memchr::memchr_iter(delim, line.as_bytes()) {
        cells.push(line.get(start..end).unwrap_or_default());
        start = end + 1;
    }
    cells.push(line.get(start..).unwrap_or_default());
}

/// `a == b`, eight bytes at a time: asked on every row of the officer
/// and the track, which are short, where a call to `memcmp` took more of
/// the reading than the numbers.
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let word = |c: &[u8]| u64::from_le_bytes(c.try_into().unwrap_or_default());
    let (mut wa, mut wb) = (a.chunks_exact(8), b.chunks_exact(8));
    if !(&mut wa).zip(&mut wb).all(|(x, y)| word(x) == word(y)) {
        return false;
    }
    let mut tail = [0_u64; 2];
    for (k, rest) in [wa.remainder(), wb.remainder()].into_iter().enumerate() {
        for (j, &byte) in rest.iter().enumerate() {
            tail[k] |= u64::from(byte) << (8 * j);
        }
    }
    tail[0] == tail[1]
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// The records of a file: its lines, without the blank ones.
struct Lines<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let bytes = self.text.as_bytes();
        while bytes
            .get(self.at)
            .is_some_and(|b| matches!(b, b'\n' | b'\r'))
        {
            self.at += 1;
        }
        if self.at >= bytes.len() {
            return None;
        }
        let start = self.at;
        let len = memchr::memchr2(b'\n', b'\r', &bytes[start..]).unwrap_or(bytes.len() - start);
        self.at = start + len;
        // the ends are ASCII bytes, so both are character boundaries
        self.text.get(start..start + len)
    }
}

/// A coordinate cell: empty is NaN (a row without a fix), otherwise a
/// number or `None`.
fn coordinate(cell: &str) -> Option<f64> {
    if cell.is_empty() {
        return Some(f64::NAN);
    }
    decimal(cell).or_else(|| cell.parse().ok())
}

/// Powers of ten that are exact in `f64`.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// A plain decimal (`-121.234567`: a sign, digits, a point, digits) of at
/// most 15 digits, or `None` for anything else. Its digits make an integer
/// below 2^53 and it divides by an exact power of ten, so the one rounding
/// of the division gives the correctly rounded value, which is what
/// `str::parse` answers too (Clinger's fast path).
fn decimal(cell: &str) -> Option<f64> {
    let bytes = cell.as_bytes();
    let (negative, digits) = match bytes.first()? {
        b'-' => (true, &bytes[1..]),
        b'+' => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    let mut mantissa: u64 = 0;
    let mut count = 0usize;
    let mut point: Option<usize> = None;
    for (i, &b) in digits.iter().enumerate() {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(b - b'0');
                count += 1;
            }
            b'.' if point.is_none() => point = Some(i),
            _ => return None,
        }
    }
    if count == 0 || count > 15 {
        return None;
    }
    let fraction = point.map_or(0, |p| digits.len() - p - 1);
    #[expect(
        clippy::cast_precision_loss,
        reason = "at most 15 digits: below 2^53, exact"
    )]
    let value = mantissa as f64 / POW10[fraction];
    Some(if negative { -value } else { value })
}

/// A time cell: epoch seconds or milliseconds written as plain digits are
/// read here, anything else by the general time reader.
fn time_of(cell: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let bytes = cell.as_bytes();
    if !bytes.is_empty() && bytes.len() <= 18 && bytes.iter().all(u8::is_ascii_digit) {
        let n = bytes
            .iter()
            .fold(0_i64, |n, &b| n * 10 + i64::from(b - b'0'));
        return time::from_epoch_int(n);
    }
    time::parse_time(cell)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_is_equality() {
        let words = [
            "",
            "a",
            "officer01",
            "officer02",
            "officer0",
            "巡查员甲",
            "0123456789abcdefX",
        ];
        for a in words {
            for b in words {
                assert_eq!(same(a, b), a == b, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn decimals_read_as_the_float_parser_reads_them() {
        let mut x: u64 = 0x1234_5678_9abc_def0;
        let mut samples: Vec<String> = [
            "0",
            "-0",
            "+0.5",
            "121.234567",
            "-31.000001",
            "0.000001",
            "1.",
            "123456789012345",
            "1234567890123456",
            "12.3456789012345",
            "00000000000000.1",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let int = x % 400;
            let frac = (x >> 20) % 10_000_000_000;
            let places = usize::try_from((x >> 60) % 12).unwrap_or(0);
            samples.push(format!("{int}.{frac:0places$}"));
            samples.push(format!("-{int}.{:06}", frac % 1_000_000));
        }
        for s in &samples {
            let want: f64 = s.parse().expect("a number");
            if let Some(got) = decimal(s) {
                assert_eq!(got.to_bits(), want.to_bits(), "{s}");
            }
        }
        assert!(decimal("121.234567").is_some());
        for other in ["", "-", ".", "1e5", "1.2.3", "inf", "NaN", "1 2", "١٢"] {
            assert_eq!(decimal(other), None, "{other}");
        }
    }

    /// What the general reader answers for `text`, as comparable text.
    fn general(text: &str, names: &CsvColumns) -> String {
        format!("{:?}", super::super::csv::read_general(text, names))
    }

    #[test]
    fn reads_what_the_general_reader_reads() {
        let named = CsvColumns {
            time: Some("GPS Time".into()),
            ..CsvColumns::default()
        };
        let files = [
            (
                "officer,time,lon,lat\nofficer0001,1608076800,121.234567,31.012345\n\
              officer0001,1608076805,121.2346,31.0124\nofficer0002,1608076810,121.1,31.1\n\
              officer0001,1608076815,121.2347,31.0125",
                CsvColumns::default(),
            ),
            (
                "\u{feff}经度;纬度;定位时间;巡查员;设备号;轨迹\r\n121.2;31.0;2020-12-15 23:27:33;张三;D1;a\r\n\
              \r\n121.3 ; 31.1 ;2020-12-15T15:27:34Z;张三;;a\r\n ; ;;;;\r\n;;;;;\r\n\
              121.4;31.2;;李四;D2;b\r\n121.5;;1608046053000;张三;D3;a\r",
                CsvColumns::default(),
            ),
            (
                "lng\tlat\tlocatetime_ms\n121.21\t31.05\t1608046053000\n\
              -121.21\t+31.06\t1608046054000.5\n1e1\t.5\t 1608046055 \n",
                CsvColumns::default(),
            ),
            (
                "x,y,GPS Time,track\n1,2,2020/12/15 23:27,t1\n1.000000000000000001,2,,t2\n",
                named,
            ),
            ("lon,lat\n121.21,31.05\n121.21\n", CsvColumns::default()),
            ("lon,lat,time\n121.21,abc,1\n", CsvColumns::default()),
            (
                "lon,lat,time\n121.21,31.0,yesterday\n",
                CsvColumns::default(),
            ),
            ("lon,lat\n\n , \n", CsvColumns::default()),
            ("a,b\n1,2\n", CsvColumns::default()),
            ("lon,lat\n\"121.2\",31\n", CsvColumns::default()),
            (
                "lon,lat,officer\n121.2,31,\u{3000}王五\u{3000}\n121.3,31,王五\n",
                CsvColumns::default(),
            ),
        ];
        let mut fast = 0;
        for (text, names) in &files {
            let want = general(text, names);
            match parse_plain(text, super::super::csv::delimiter(text), names) {
                Some(tracks) => {
                    fast += 1;
                    assert_eq!(format!("{:?}", Ok::<_, ()>(tracks)), want, "{text}");
                }
                // left to the general reader: an error, or quotes
                None => assert!(want.starts_with("Err") || text.contains('"'), "{text}"),
            }
        }
        assert!(fast >= 5, "the fast path read {fast} files");
    }

    #[test]
    fn lines_end_at_any_terminator_and_skip_blanks() {
        let lines: Vec<&str> = Lines {
            text: "\r\na,b\r\nc,d\n\n\re,f\rg,h",
            at: 0,
        }
        .collect();
        assert_eq!(lines, ["a,b", "c,d", "e,f", "g,h"]);
    }
}

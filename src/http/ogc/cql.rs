//! CQL2 text, the part this service claims: Basic CQL2 (comparisons `=`,
//! `<>`, `<`, `<=`, `>`, `>=` and `IS [NOT] NULL` on properties and string,
//! number, boolean, `TIMESTAMP('…')` and `DATE('…')` literals; `AND`, `OR`,
//! `NOT`, parentheses) and the Basic Spatial Functions (`S_INTERSECTS` with
//! `POINT`, `MULTIPOINT`, `LINESTRING`, `POLYGON`, `MULTIPOLYGON` and
//! `BBOX` literals in CRS84). Evaluation on a GeoJSON feature is
//! three-valued: a comparison with a missing or null property is unknown,
//! and only true selects.
//!
//! Written here rather than taken from the `cql2` crate: that crate turns on
//! `serde_json`'s `preserve_order` for the whole build (which changes the
//! key order of every JSON map this service writes) and brings a SQL parser
//! and a JSON Schema validator with it.

use geo::{
    Coord, Geometry, Intersects, LineString, MultiPoint, MultiPolygon, Point, Polygon, Rect,
};
use serde_json::Value;

/// A literal or a property.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Property(String),
    Text(String),
    Number(f64),
    Bool(bool),
    /// A timestamp or date literal, ms since the epoch.
    Time(i64),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Compare(Scalar, Op, Scalar),
    IsNull(Scalar, bool),
    Literal(bool),
    /// `S_INTERSECTS(property, literal)` (either order).
    Intersects(String, Geometry<f64>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Text(String),
    Number(f64),
    Sym(&'static str),
}

#[expect(
    clippy::many_single_char_names,
    reason = "coordinates and tokens read best as x, y, c"
)]
fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let c: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch.is_whitespace() {
            i += 1;
        } else if ch == '\'' || ch == '"' {
            let mut t = String::new();
            i += 1;
            loop {
                match c.get(i) {
                    None => return Err("a quoted text is not closed".into()),
                    Some(&q) if q == ch && c.get(i + 1) == Some(&ch) => {
                        t.push(ch);
                        i += 2;
                    }
                    Some(&q) if q == ch => {
                        i += 1;
                        break;
                    }
                    Some(&x) => {
                        t.push(x);
                        i += 1;
                    }
                }
            }
            out.push(if ch == '\'' {
                Tok::Text(t)
            } else {
                Tok::Quoted(t)
            });
        } else if ch.is_ascii_digit()
            || ((ch == '-' || ch == '+' || ch == '.')
                && c.get(i + 1)
                    .is_some_and(|d| d.is_ascii_digit() || *d == '.'))
        {
            let start = i;
            i += 1;
            while i < c.len()
                && (c[i].is_ascii_digit()
                    || c[i] == '.'
                    || c[i] == 'e'
                    || c[i] == 'E'
                    || ((c[i] == '-' || c[i] == '+') && matches!(c[i - 1], 'e' | 'E')))
            {
                i += 1;
            }
            let text: String = c[start..i].iter().collect();
            out.push(Tok::Number(
                text.parse()
                    .map_err(|_| format!("{text:?} is not a number"))?,
            ));
        } else if ch.is_alphabetic() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || matches!(c[i], '_' | ':' | '.')) {
                i += 1;
            }
            out.push(Tok::Word(c[start..i].iter().collect()));
        } else {
            let two: String = c[i..(i + 2).min(c.len())].iter().collect();
            let sym = match two.as_str() {
                "<>" | "!=" => Some("<>"),
                "<=" => Some("<="),
                ">=" => Some(">="),
                _ => None,
            };
            if let Some(s) = sym {
                out.push(Tok::Sym(s));
                i += 2;
                continue;
            }
            let one = match ch {
                '(' => "(",
                ')' => ")",
                ',' => ",",
                '=' => "=",
                '<' => "<",
                '>' => ">",
                _ => return Err(format!("unexpected {ch:?}")),
            };
            out.push(Tok::Sym(one));
            i += 1;
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn keyword(&mut self, k: &str) -> bool {
        if let Some(Tok::Word(w)) = self.peek()
            && w.eq_ignore_ascii_case(k)
        {
            self.at += 1;
            return true;
        }
        false
    }

    fn sym(&mut self, s: &str) -> bool {
        if self.peek()
            == Some(&Tok::Sym(match s {
                "(" => "(",
                ")" => ")",
                "," => ",",
                _ => return false,
            }))
        {
            self.at += 1;
            return true;
        }
        false
    }

    fn expect(&mut self, s: &str) -> Result<(), String> {
        if self.sym(s) {
            Ok(())
        } else {
            Err(format!("expected {s:?}"))
        }
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut e = self.and()?;
        while self.keyword("OR") {
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut e = self.not()?;
        while self.keyword("AND") {
            e = Expr::And(Box::new(e), Box::new(self.not()?));
        }
        Ok(e)
    }

    fn not(&mut self) -> Result<Expr, String> {
        if self.keyword("NOT") {
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, String> {
        if self.sym("(") {
            let e = self.or()?;
            self.expect(")")?;
            return Ok(e);
        }
        if self.keyword("S_INTERSECTS") {
            self.expect("(")?;
            let a = self.spatial_arg()?;
            self.expect(",")?;
            let b = self.spatial_arg()?;
            self.expect(")")?;
            return match (a, b) {
                (SpatialArg::Property(p), SpatialArg::Geometry(g))
                | (SpatialArg::Geometry(g), SpatialArg::Property(p)) => Ok(Expr::Intersects(p, g)),
                _ => Err("S_INTERSECTS takes a property and a geometry literal".into()),
            };
        }
        let left = self.scalar()?;
        if self.keyword("IS") {
            let negated = self.keyword("NOT");
            if !self.keyword("NULL") {
                return Err("expected NULL after IS".into());
            }
            return Ok(Expr::IsNull(left, negated));
        }
        let op = match self.next() {
            Some(Tok::Sym("=")) => Op::Eq,
            Some(Tok::Sym("<>")) => Op::Ne,
            Some(Tok::Sym("<")) => Op::Lt,
            Some(Tok::Sym("<=")) => Op::Le,
            Some(Tok::Sym(">")) => Op::Gt,
            Some(Tok::Sym(">=")) => Op::Ge,
            None if matches!(left, Scalar::Bool(_)) => {
                self.at -= 1;
                return Ok(Expr::Literal(left == Scalar::Bool(true)));
            }
            _ => {
                if let Scalar::Bool(b) = left {
                    self.at -= 1;
                    return Ok(Expr::Literal(b));
                }
                return Err("expected a comparison operator".into());
            }
        };
        let right = self.scalar()?;
        Ok(Expr::Compare(left, op, right))
    }

    fn scalar(&mut self) -> Result<Scalar, String> {
        match self.next() {
            Some(Tok::Text(t)) => Ok(Scalar::Text(t)),
            Some(Tok::Number(n)) => Ok(Scalar::Number(n)),
            Some(Tok::Quoted(p)) => Ok(Scalar::Property(p)),
            Some(Tok::Word(w)) => {
                if w.eq_ignore_ascii_case("TRUE") {
                    return Ok(Scalar::Bool(true));
                }
                if w.eq_ignore_ascii_case("FALSE") {
                    return Ok(Scalar::Bool(false));
                }
                if (w.eq_ignore_ascii_case("TIMESTAMP") || w.eq_ignore_ascii_case("DATE"))
                    && self.sym("(")
                {
                    let Some(Tok::Text(t)) = self.next() else {
                        return Err(format!("{w} takes a quoted time"));
                    };
                    self.expect(")")?;
                    let ms = crate::time::parse_time_ms(&t)
                        .ok_or_else(|| format!("{t:?} is not a time"))?;
                    return Ok(Scalar::Time(ms));
                }
                Ok(Scalar::Property(w))
            }
            other => Err(format!("expected a value or a property, found {other:?}")),
        }
    }

    #[expect(
        clippy::many_single_char_names,
        reason = "coordinates and tokens read best as x, y, c"
    )]
    fn spatial_arg(&mut self) -> Result<SpatialArg, String> {
        let Some(Tok::Word(w)) = self.peek().cloned() else {
            return match self.next() {
                Some(Tok::Quoted(p)) => Ok(SpatialArg::Property(p)),
                other => Err(format!("expected a geometry, found {other:?}")),
            };
        };
        self.at += 1;
        let kind = w.to_ascii_uppercase();
        let g = match kind.as_str() {
            "BBOX" => {
                let n = self.numbers()?;
                let &[a, b, c, d] = n.as_slice() else {
                    return Err("BBOX takes four numbers".into());
                };
                Geometry::Rect(Rect::new(Coord { x: a, y: b }, Coord { x: c, y: d }))
            }
            "POINT" => {
                let p = self.positions()?;
                let &[c] = p.as_slice() else {
                    return Err("POINT takes one position".into());
                };
                Geometry::Point(Point::from(c))
            }
            "MULTIPOINT" => Geometry::MultiPoint(MultiPoint::from(self.point_list()?)),
            "LINESTRING" => Geometry::LineString(LineString::from(self.positions()?)),
            "POLYGON" => Geometry::Polygon(self.polygon()?),
            "MULTIPOLYGON" => {
                self.expect("(")?;
                let mut polys = vec![self.polygon()?];
                while self.sym(",") {
                    polys.push(self.polygon()?);
                }
                self.expect(")")?;
                Geometry::MultiPolygon(MultiPolygon::new(polys))
            }
            _ => return Ok(SpatialArg::Property(w)),
        };
        Ok(SpatialArg::Geometry(g))
    }

    /// `(a, b, …)` of plain numbers (BBOX).
    fn numbers(&mut self) -> Result<Vec<f64>, String> {
        self.expect("(")?;
        let mut out = Vec::new();
        loop {
            match self.next() {
                Some(Tok::Number(n)) => out.push(n),
                other => return Err(format!("expected a number, found {other:?}")),
            }
            if !self.sym(",") {
                break;
            }
        }
        self.expect(")")?;
        Ok(out)
    }

    /// `(x y, x y, …)`.
    fn positions(&mut self) -> Result<Vec<Coord<f64>>, String> {
        self.expect("(")?;
        let mut out = Vec::new();
        loop {
            let (Some(Tok::Number(x)), Some(Tok::Number(y))) = (self.next(), self.next()) else {
                return Err("expected a position (two numbers)".into());
            };
            out.push(Coord { x, y });
            if !self.sym(",") {
                break;
            }
        }
        self.expect(")")?;
        Ok(out)
    }

    /// `MULTIPOINT` positions, bare or each in parentheses.
    fn point_list(&mut self) -> Result<Vec<Point<f64>>, String> {
        if self.toks.get(self.at + 1) == Some(&Tok::Sym("(")) {
            self.expect("(")?;
            let mut out = Vec::new();
            loop {
                let p = self.positions()?;
                out.extend(p.into_iter().map(Point::from));
                if !self.sym(",") {
                    break;
                }
            }
            self.expect(")")?;
            return Ok(out);
        }
        Ok(self.positions()?.into_iter().map(Point::from).collect())
    }

    fn polygon(&mut self) -> Result<Polygon<f64>, String> {
        self.expect("(")?;
        let outer = LineString::from(self.positions()?);
        let mut holes = Vec::new();
        while self.sym(",") {
            holes.push(LineString::from(self.positions()?));
        }
        self.expect(")")?;
        Ok(Polygon::new(outer, holes))
    }
}

enum SpatialArg {
    Property(String),
    Geometry(Geometry<f64>),
}

/// Parses CQL2 text.
pub fn parse(text: &str) -> Result<Expr, String> {
    let mut p = Parser {
        toks: lex(text)?,
        at: 0,
    };
    let e = p.or()?;
    match p.peek() {
        None => Ok(e),
        Some(t) => Err(format!("unexpected {t:?} after the expression")),
    }
}

impl Expr {
    /// The properties the filter names.
    #[must_use]
    pub fn properties(&self) -> Vec<String> {
        fn scalar(s: &Scalar, out: &mut Vec<String>) {
            if let Scalar::Property(p) = s {
                out.push(p.clone());
            }
        }
        fn walk(e: &Expr, out: &mut Vec<String>) {
            match e {
                Expr::And(a, b) | Expr::Or(a, b) => {
                    walk(a, out);
                    walk(b, out);
                }
                Expr::Not(a) => walk(a, out),
                Expr::Compare(a, _, b) => {
                    scalar(a, out);
                    scalar(b, out);
                }
                Expr::IsNull(a, _) => scalar(a, out),
                Expr::Literal(_) => {}
                Expr::Intersects(p, _) => out.push(p.clone()),
            }
        }
        let mut out = Vec::new();
        walk(self, &mut out);
        out.sort();
        out.dedup();
        out
    }

    /// True, false or unknown (`None`) for a GeoJSON feature.
    #[must_use]
    pub fn eval(&self, f: &Value) -> Option<bool> {
        match self {
            Self::And(a, b) => match (a.eval(f), b.eval(f)) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            },
            Self::Or(a, b) => match (a.eval(f), b.eval(f)) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            },
            Self::Not(a) => a.eval(f).map(|v| !v),
            Self::Literal(b) => Some(*b),
            Self::IsNull(s, negated) => {
                let null = value(s, f).is_none_or(|v| v.is_null());
                Some(null != *negated)
            }
            Self::Compare(a, op, b) => compare(&value(a, f)?, *op, &value(b, f)?),
            Self::Intersects(p, g) => {
                let v = property(p, f)?;
                let gj: geojson::Geometry = serde_json::from_value(v.clone()).ok()?;
                let own = Geometry::<f64>::try_from(gj).ok()?;
                Some(own.intersects(g))
            }
        }
    }
}

fn property<'a>(name: &str, f: &'a Value) -> Option<&'a Value> {
    match name {
        "geometry" | "id" => f.get(name),
        _ => f.get("properties")?.get(name),
    }
}

fn value(s: &Scalar, f: &Value) -> Option<Value> {
    match s {
        Scalar::Property(p) => property(p, f).filter(|v| !v.is_null()).cloned(),
        Scalar::Text(t) => Some(Value::from(t.as_str())),
        Scalar::Number(n) => Some(Value::from(*n)),
        Scalar::Bool(b) => Some(Value::from(*b)),
        Scalar::Time(ms) => Some(serde_json::json!({ "$time": ms })),
    }
}

fn time_of(v: &Value) -> Option<i64> {
    v.get("$time")
        .and_then(Value::as_i64)
        .or_else(|| v.as_str().and_then(crate::time::parse_time_ms))
}

fn order(op: Op, o: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    match op {
        Op::Eq => o == Equal,
        Op::Ne => o != Equal,
        Op::Lt => o == Less,
        Op::Le => o != Greater,
        Op::Gt => o == Greater,
        Op::Ge => o != Less,
    }
}

fn compare(a: &Value, op: Op, b: &Value) -> Option<bool> {
    if a.get("$time").is_some() || b.get("$time").is_some() {
        return Some(order(op, time_of(a)?.cmp(&time_of(b)?)));
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            Some(order(op, x.as_f64()?.partial_cmp(&y.as_f64()?)?))
        }
        (Value::String(x), Value::String(y)) => Some(order(op, x.cmp(y))),
        (Value::Bool(x), Value::Bool(y)) => Some(order(op, x.cmp(y))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn work(status: &str, cny: i64, lon: f64, started: Option<&str>) -> Value {
        json!({"type": "Feature", "id": 3, "geometry": {"type": "Point", "coordinates": [lon, 31.0]},
               "properties": {"status": status, "investment_cny": cny, "hot_work": true, "started_on": started}})
    }

    fn eval(text: &str, f: &Value) -> Option<bool> {
        parse(text).expect("parses").eval(f)
    }

    #[test]
    fn comparisons_logic_and_null() {
        let w = work("filed", 500_000, 121.2, Some("2026-10-01"));
        assert_eq!(eval("status = 'filed'", &w), Some(true));
        assert_eq!(
            eval("status <> 'filed' OR investment_cny >= 400000", &w),
            Some(true)
        );
        assert_eq!(
            eval("NOT (hot_work = TRUE) AND status = 'filed'", &w),
            Some(false)
        );
        assert_eq!(eval("investment_cny < 1e5", &w), Some(false));
        assert_eq!(eval("\"status\" = 'it''s'", &w), Some(false));
        assert_eq!(eval("started_on >= DATE('2026-09-30')", &w), Some(true));
        assert_eq!(
            eval("started_on < TIMESTAMP('2026-09-30T00:00:00Z')", &w),
            Some(false)
        );
        let open = work("filed", 1, 121.2, None);
        assert_eq!(eval("started_on IS NULL", &open), Some(true));
        assert_eq!(eval("started_on IS NOT NULL", &w), Some(true));
        // unknown stays unknown through NOT, and false wins in AND
        assert_eq!(eval("NOT (started_on > DATE('2026-01-01'))", &open), None);
        assert_eq!(
            eval("started_on > DATE('2026-01-01') AND status = 'x'", &open),
            Some(false)
        );
        assert_eq!(eval("colour = 'red'", &w), None);
    }

    #[test]
    fn s_intersects_with_literals() {
        let w = work("filed", 1, 121.25, None);
        assert_eq!(
            eval("S_INTERSECTS(geometry, BBOX(121.2, 30.9, 121.3, 31.1))", &w),
            Some(true)
        );
        assert_eq!(
            eval(
                "S_INTERSECTS(geometry, POLYGON((121.0 30.0, 121.1 30.0, 121.1 30.1, 121.0 30.0)))",
                &w
            ),
            Some(false)
        );
        assert_eq!(
            eval("s_intersects(POINT(121.25 31.0), geometry)", &w),
            Some(true)
        );
        assert_eq!(
            eval(
                "S_INTERSECTS(geometry, MULTIPOINT((121.25 31.0), (0 0)))",
                &w
            ),
            Some(true)
        );
        assert_eq!(
            eval(
                "S_INTERSECTS(geometry, LINESTRING(121.25 30.0, 121.25 32.0))",
                &w
            ),
            Some(true)
        );
    }

    #[test]
    fn bad_text_is_refused() {
        for bad in [
            "status = ",
            "status = 'open",
            "(status = 'a'",
            "S_INTERSECTS(geometry)",
            "status == 'a'",
            "BBOX(1,2,3,4)",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse("colour = 'red' AND x IS NULL")
                .expect("parses")
                .properties(),
            ["colour", "x"]
        );
    }
}

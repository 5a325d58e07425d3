//! A patrol route assigned to an officer: an inbox item for the officer
//! from the assignment until the route's day has passed (an unassigned or
//! reassigned route resolves it). It tells, it does not chase: the kind
//! never climbs the chain of 督办.

use chrono::{DateTime, NaiveDate, Utc};

use super::{Event, EventKind, Subject};
use crate::time::beijing_text;

/// A route with an officer, as the rule reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct AssignedRoute {
    pub id: i64,
    pub officer: String,
    /// When it was assigned (epoch ms): a new assignment is a new fact.
    pub assigned_ms: i64,
    /// The Beijing day the route is walked.
    pub date: NaiveDate,
    pub starts_at: DateTime<Utc>,
    /// Where it goes, for people: the grid's or the zone's name.
    pub place: String,
    pub stops: usize,
    pub distance_m: f64,
    pub town_code: String,
    pub grid_code: Option<String>,
    pub zone_code: String,
}

/// The item of a route still to walk (its day is today or later).
#[must_use]
pub fn route_event(today: NaiveDate, r: &AssignedRoute) -> Option<Event> {
    if r.date < today {
        return None;
    }
    let kind = EventKind::RouteAssigned;
    let km = r.distance_m / 1000.0;
    let start = beijing_text(r.starts_at);
    Some(Event {
        kind,
        key: format!(
            "{}:route:{}:{}:{}",
            kind.as_str(),
            r.id,
            r.officer,
            r.assigned_ms
        ),
        subject: Subject {
            route_id: Some(r.id),
            town_code: Some(r.town_code.clone()),
            grid_code: r.grid_code.clone(),
            zone_code: Some(r.zone_code.clone()),
            ..Subject::default()
        },
        officer: Some(r.officer.clone()),
        due_on: r.date,
        title_zh: format!("{}：{} {}", kind.label_zh(), r.date, r.place),
        title_en: format!("Patrol route assigned: {} {}", r.date, r.place),
        body_zh: format!(
            "{}的巡查路线（{}）已指派给您：{}个点位，约{km:.1}公里，{start}出发。",
            r.date, r.place, r.stops
        ),
        body_en: format!(
            "The patrol route of {} ({}) is assigned to you: {} stops, about {km:.1} km, starting at {start} (Beijing time).",
            r.date, r.place, r.stops
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(date: &str) -> AssignedRoute {
        AssignedRoute {
            id: 4,
            officer: "officer04".into(),
            assigned_ms: 1_763_600_000_000,
            date: date.parse().expect("date"),
            starts_at: "2026-11-20T00:30:00Z".parse().expect("time"),
            place: "岳阳街道 第1网格".into(),
            stops: 12,
            distance_m: 6_400.0,
            town_code: "310117001".into(),
            grid_code: Some("G1".into()),
            zone_code: "Z1".into(),
        }
    }

    #[test]
    fn an_assigned_route_is_an_item_until_its_day_has_passed() {
        let day = |s: &str| s.parse::<NaiveDate>().expect("date");
        let e = route_event(day("2026-11-19"), &route("2026-11-20")).expect("an item");
        assert_eq!(e.key, "route_assigned:route:4:officer04:1763600000000");
        assert_eq!(e.officer.as_deref(), Some("officer04"));
        assert_eq!(e.subject.route_id, Some(4));
        assert!(
            e.body_zh
                .contains("12个点位，约6.4公里，2026-11-20 08:30出发"),
            "{}",
            e.body_zh
        );
        assert!(route_event(day("2026-11-20"), &route("2026-11-20")).is_some());
        assert!(route_event(day("2026-11-21"), &route("2026-11-20")).is_none());
    }
}

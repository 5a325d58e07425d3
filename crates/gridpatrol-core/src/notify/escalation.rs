//! 督办: who owns an item and who hears of it as it climbs the chain. The
//! owner is the assigned officer (the inspector who found a hazard), else
//! the grid manager of the work's grid, else the town's safety officer; the
//! chain then climbs to the town lead and the district on the days the
//! rules of its kind say, counted from the day the fact fell due.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::{Event, EventKind};

/// A rung of the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// The owner: the assigned officer, the grid manager or the town.
    Owner = 0,
    /// The town (街镇) lead.
    Town = 1,
    /// The district (区建管委).
    District = 2,
}

impl Level {
    /// The level stored as a number (0, 1, 2).
    #[must_use]
    pub fn from_index(i: i64) -> Self {
        match i {
            i if i <= 0 => Self::Owner,
            1 => Self::Town,
            _ => Self::District,
        }
    }

    #[must_use]
    pub fn index(self) -> i64 {
        self as i64
    }

    #[must_use]
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Owner => "责任人",
            Self::Town => "街镇督办",
            Self::District => "区级督办",
        }
    }

    #[must_use]
    pub fn label_en(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Town => "town lead",
            Self::District => "district",
        }
    }
}

/// One step up the chain: to `level`, `after_days` days after the due day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub level: Level,
    pub after_days: i64,
}

/// The steps of one kind, lowest first; empty: reminders only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chain(pub Vec<Step>);

impl Chain {
    /// The highest level reached on `today` by an item due on `due_on`.
    #[must_use]
    pub fn level_on(&self, due_on: NaiveDate, today: NaiveDate) -> Level {
        let late = (today - due_on).num_days();
        self.0
            .iter()
            .filter(|s| late >= s.after_days)
            .map(|s| s.level)
            .max()
            .unwrap_or(Level::Owner)
    }
}

/// The chains of every kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules(pub HashMap<EventKind, Chain>);

impl Rules {
    /// The chain of a kind (none: never escalated).
    #[must_use]
    pub fn chain(&self, kind: EventKind) -> Chain {
        self.0.get(&kind).cloned().unwrap_or_default()
    }

    /// The same rules with every escalating kind's chain `town_days` /
    /// `district_days` after its due day (the server's configuration).
    #[must_use]
    pub fn with_days(town_days: i64, district_days: i64) -> Self {
        let chain = Chain(vec![
            Step {
                level: Level::Town,
                after_days: town_days,
            },
            Step {
                level: Level::District,
                after_days: district_days,
            },
        ]);
        Self(
            EventKind::ALL
                .iter()
                .filter(|k| escalates(**k))
                .map(|k| (*k, chain.clone()))
                .collect(),
        )
    }
}

impl Default for Rules {
    /// Overdue hazards: the town after 3 days, the district after 7; the
    /// other late facts after 7 and 14; reminders of what is near (a
    /// deadline, a permit) are not escalated.
    fn default() -> Self {
        let mut r = Self::with_days(7, 14);
        r.0.insert(
            EventKind::HazardOverdue,
            Chain(vec![
                Step {
                    level: Level::Town,
                    after_days: 3,
                },
                Step {
                    level: Level::District,
                    after_days: 7,
                },
            ]),
        );
        r
    }
}

fn escalates(k: EventKind) -> bool {
    !matches!(
        k,
        EventKind::HazardDeadlineNear | EventKind::HotWorkPermitLapsing | EventKind::RouteAssigned
    )
}

/// A user's part in the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonRole {
    Officer,
    GridManager,
    /// A town's safety officer (the `town` role).
    Town,
    /// The district: admins.
    District,
    /// Reads only; never owns.
    Viewer,
}

/// A user as the chain sees one: a role and the places granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: String,
    pub role: PersonRole,
    /// Town, zone and grid codes granted; all empty with `district`.
    pub towns: Vec<String>,
    pub zones: Vec<String>,
    pub grids: Vec<String>,
    pub district: bool,
}

/// Everyone who may be told, by name.
#[derive(Debug, Clone, Default)]
pub struct Directory(pub Vec<Person>);

impl Directory {
    /// The user told at `level` of an event: the first by name among those
    /// who fit, falling up the chain when a level has nobody.
    #[must_use]
    pub fn resolve(&self, e: &Event, level: Level) -> Option<(Level, String)> {
        let mut l = level;
        loop {
            if let Some(name) = self.at(e, l) {
                return Some((l, name));
            }
            l = match l {
                Level::Owner => Level::Town,
                Level::Town => Level::District,
                Level::District => return None,
            };
        }
    }

    fn first(&self, keep: impl Fn(&Person) -> bool) -> Option<String> {
        self.0
            .iter()
            .filter(|p| keep(p))
            .map(|p| p.name.clone())
            .min()
    }

    fn at(&self, e: &Event, level: Level) -> Option<String> {
        let s = &e.subject;
        let in_town =
            |p: &Person| p.district || s.town_code.as_ref().is_some_and(|t| p.towns.contains(t));
        match level {
            Level::Owner => e
                .officer
                .as_ref()
                .and_then(|o| self.first(|p| &p.name == o && p.role == PersonRole::Officer))
                .or_else(|| {
                    self.first(|p| {
                        p.role == PersonRole::GridManager
                            && (s.grid_code.as_ref().is_some_and(|g| p.grids.contains(g))
                                || s.zone_code.as_ref().is_some_and(|z| p.zones.contains(z)))
                    })
                })
                .or_else(|| {
                    self.first(|p| p.role == PersonRole::Town && !p.district && in_town(p))
                }),
            Level::Town => self.first(|p| p.role == PersonRole::Town && in_town(p)),
            Level::District => self.first(|p| p.role == PersonRole::District),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("a date")
    }

    #[test]
    fn the_chain_climbs_on_its_days() {
        let chain = Rules::default().chain(EventKind::HazardOverdue);
        let due = day("2026-12-01");
        assert_eq!(chain.level_on(due, day("2026-12-01")), Level::Owner);
        assert_eq!(chain.level_on(due, day("2026-12-03")), Level::Owner);
        assert_eq!(chain.level_on(due, day("2026-12-04")), Level::Town);
        assert_eq!(chain.level_on(due, day("2026-12-08")), Level::District);
        let near = Rules::default().chain(EventKind::HazardDeadlineNear);
        assert_eq!(near.level_on(due, day("2027-01-01")), Level::Owner);
    }
}

//! A shop's points record (记分) and its standing under the [`PointsRule`].
//!
//! - An inspection adds [`PointsRule::per_failed_item`] points per failed item
//!   ([`inspection_points`]); a confirmed frontage case adds [`PointsRule::per_case`].
//! - **The window** is the last `window_days` days up to `now`, open at its start and closed at
//!   its end: an entry counts when `now − window_days < at ≤ now`. So points recorded exactly
//!   `window_days` days ago have just expired, points recorded at `now` count, and entries dated
//!   after `now` (a clock ahead, an import) do not count yet.
//! - **The level**: [`Level::Escalated`] (移交城管) when the points in the window reach
//!   `escalate_at`, else [`Level::Warned`] (约谈) when they reach `warn_at`, else
//!   [`Level::Good`].
//! - **`escalated_at`**: for an escalated shop, the time of the entry at which the running total
//!   of the window's entries (in time order; entries at one instant taken together) first
//!   reached `escalate_at`.
//!
//! Sums saturate at `u32::MAX`.

use super::{Inspection, PointsEntry, PointsRule};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// The longest window a points rule may have: a century.
pub const MAX_WINDOW_DAYS: u32 = 36_500;

/// A shop's standing.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Below `warn_at`.
    Good,
    /// At or above `warn_at` (约谈).
    Warned,
    /// At or above `escalate_at` (移交城管).
    Escalated,
}

/// A shop's points within the window and what they mean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Standing {
    /// Points of the entries within the window.
    pub points_in_window: u32,
    /// The level those points reach.
    pub level: Level,
    /// When the running total within the window first reached `escalate_at` (escalated only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalated_at: Option<DateTime<Utc>>,
}

impl PointsRule {
    /// Checks the rule is usable: a window of at least one day, `0 < warn_at < escalate_at`.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=MAX_WINDOW_DAYS).contains(&self.window_days) {
            return Err(format!(
                "window_days: {} is not 1 to {MAX_WINDOW_DAYS}",
                self.window_days
            ));
        }
        if self.warn_at == 0 {
            return Err("warn_at: must be at least 1".into());
        }
        if self.warn_at >= self.escalate_at {
            return Err(format!(
                "warn_at ({}) must be below escalate_at ({})",
                self.warn_at, self.escalate_at
            ));
        }
        Ok(())
    }

    /// The level of `points`.
    pub fn level(&self, points: u32) -> Level {
        if points >= self.escalate_at {
            Level::Escalated
        } else if points >= self.warn_at {
            Level::Warned
        } else {
            Level::Good
        }
    }

    /// The start of the window ending at `now` (open: an entry exactly then has expired); the
    /// first representable time when the window reaches before it (a rule stored before
    /// [`PointsRule::check`] bounded the window).
    pub fn window_start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        TimeDelta::try_days(i64::from(self.window_days))
            .and_then(|w| now.checked_sub_signed(w))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// Whether an entry at `at` counts in the window ending at `now` (see the module doc).
    pub fn in_window(&self, at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        at <= now && at > self.window_start(now)
    }
}

/// The points an inspection adds: `per_failed_item` per failed item.
pub fn inspection_points(inspection: &Inspection, rule: &PointsRule) -> u32 {
    let failed = inspection.items.iter().filter(|i| !i.passed).count();
    u32::try_from(failed)
        .unwrap_or(u32::MAX)
        .saturating_mul(rule.per_failed_item)
}

/// A shop's standing at `now` from its entries (any order; entries of other shops are not
/// filtered out: pass one shop's entries).
pub fn standing(entries: &[PointsEntry], rule: &PointsRule, now: DateTime<Utc>) -> Standing {
    let mut window: Vec<(DateTime<Utc>, u32)> = entries
        .iter()
        .filter(|e| rule.in_window(e.at, now))
        .map(|e| (e.at, e.points))
        .collect();
    window.sort_unstable();
    let mut total = 0u32;
    let mut escalated_at = None;
    for (at, points) in window {
        total = total.saturating_add(points);
        if escalated_at.is_none() && total >= rule.escalate_at {
            escalated_at = Some(at);
        }
    }
    let level = rule.level(total);
    Standing {
        points_in_window: total,
        level,
        escalated_at: escalated_at.filter(|_| level == Level::Escalated),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assets::{InspectionItem, PointsReason};
    use chrono::TimeZone;

    fn at(day: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, day, h, 0, 0).unwrap()
    }

    fn entry(t: DateTime<Utc>, points: u32) -> PointsEntry {
        PointsEntry {
            shop: "S1".into(),
            at: t,
            points,
            reason: PointsReason::Inspection { inspection: 1 },
        }
    }

    #[test]
    fn failed_items_count() {
        let item = |passed| InspectionItem {
            item: "门前无乱堆物".into(),
            passed,
            note: None,
        };
        let i = Inspection {
            id: 0,
            shop: "S1".into(),
            date: chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            inspector: "ZJ-CG-001".into(),
            items: vec![item(false), item(true), item(false)],
            photos: vec![],
        };
        let rule = PointsRule {
            per_failed_item: 3,
            ..PointsRule::default()
        };
        assert_eq!(inspection_points(&i, &rule), 6);
    }

    #[test]
    fn the_window_is_open_at_its_start_and_closed_at_now() {
        let rule = PointsRule {
            window_days: 10,
            ..PointsRule::default()
        };
        let now = at(21, 12);
        assert!(rule.in_window(now, now));
        assert!(!rule.in_window(at(11, 12), now));
        assert!(rule.in_window(at(11, 13), now));
        assert!(!rule.in_window(at(21, 13), now));
        let s = standing(
            &[
                entry(at(11, 12), 5),
                entry(at(12, 0), 7),
                entry(at(20, 0), 6),
            ],
            &rule,
            now,
        );
        assert_eq!(
            s,
            Standing {
                points_in_window: 13,
                level: Level::Escalated,
                escalated_at: Some(at(20, 0)),
            }
        );
        assert_eq!(
            standing(&[entry(at(20, 0), 6)], &rule, now).level,
            Level::Warned
        );
        assert_eq!(standing(&[], &rule, now).level, Level::Good);
        let huge = PointsRule {
            window_days: u32::MAX,
            ..PointsRule::default()
        };
        assert!(huge.in_window(at(1, 0), now));
        assert_eq!(huge.window_start(now), DateTime::<Utc>::MIN_UTC);
        assert_eq!(
            huge.check(),
            Err(format!("window_days: {} is not 1 to 36500", u32::MAX))
        );
        assert_eq!(rule.window_start(now), now - TimeDelta::days(10));
    }

    #[test]
    fn rules_are_checked() {
        assert_eq!(PointsRule::default().check(), Ok(()));
        let bad = PointsRule {
            warn_at: 12,
            ..PointsRule::default()
        };
        assert_eq!(
            bad.check(),
            Err("warn_at (12) must be below escalate_at (12)".into())
        );
    }
}

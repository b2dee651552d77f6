//! The live events of one server process — case changes, check-ins and publishes, as they are
//! committed — for the street portal's stream (`GET /api/v1/events`).
//!
//! [`Bus`] is a bounded broadcast channel: a subscriber that falls more than [`CAPACITY`] events
//! behind is told how many it missed (and refetches what it shows); a change with nobody
//! listening is dropped. [`view`] decides what a caller sees of an event: a case event only when
//! the caller may read the case (the same scope as `GET /api/v1/cases/{id}`); a check-in's person,
//! place and distance only for the roles that read the field force's personal data (admin,
//! supervisor, the street's dispatcher) — everyone else sees its street, grid and class; a
//! publish every token. Changes made by another process on the same store (the CLI, a second
//! server) are not on this bus: the portal reads the API again when its stream reconnects.

use super::access::Caller;
use super::cases::visibility;
use crate::atlas::Atlas;
use crate::cases::Case;
use crate::cases::Visibility;
use crate::field::duty::CheckIn;
use crate::wire::events as w;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::broadcast;

/// Events a subscriber may fall behind before it is told it missed some.
pub const CAPACITY: usize = 1024;

/// A committed change.
#[derive(Debug, Clone)]
pub enum Change {
    /// A case was created or took a step (its state after the change).
    Case(Box<Case>),
    /// A check-in or check-out was recorded, with the street and grid of its point.
    CheckIn {
        /// The check-in as stored.
        checkin: Box<CheckIn>,
        /// The street of its point (or of the area it matched).
        street: Option<String>,
        /// The grid of its point (or of the area it matched).
        grid: Option<String>,
    },
    /// A generation was published and is served.
    Published {
        /// Its number.
        generation: i64,
    },
}

/// A change with its sequence number and time.
#[derive(Debug, Clone)]
pub struct LiveEvent {
    /// 1, 2, 3, … in the order published on this bus.
    pub seq: u64,
    /// When it was published.
    pub at: DateTime<Utc>,
    /// What changed.
    pub change: Change,
}

/// The bus of one process.
#[derive(Debug)]
pub struct Bus {
    tx: broadcast::Sender<Arc<LiveEvent>>,
    seq: AtomicU64,
}

impl Default for Bus {
    fn default() -> Self {
        Bus {
            tx: broadcast::channel(CAPACITY).0,
            seq: AtomicU64::new(0),
        }
    }
}

impl Bus {
    /// Publishes `change` to every subscriber.
    pub fn publish(&self, change: Change) {
        let seq = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
        // No subscriber: nobody is watching; the change is in the store all the same.
        let _ = self.tx.send(Arc::new(LiveEvent {
            seq,
            at: Utc::now(),
            change,
        }));
    }

    /// A receiver of the events published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LiveEvent>> {
        self.tx.subscribe()
    }

    /// The sequence number of the last event published (0: none yet).
    pub fn last_seq(&self) -> u64 {
        self.seq.load(Ordering::SeqCst)
    }

    /// Subscribers now.
    pub fn subscribers(&self) -> usize {
        self.tx.receiver_count()
    }
}

/// The check-in change of `checkin`: the street and grid of its point, else of the area it
/// matched.
pub fn checkin_change(atlas: &Atlas, checkin: CheckIn) -> Change {
    let [_, street, grid, _] = atlas.locate(checkin.lon, checkin.lat);
    let code = |id: Option<crate::atlas::FeatureId>| id.map(|i| atlas.feature(i).code.clone());
    let (mut street, mut grid) = (code(street), code(grid));
    if let Some(area) = checkin.area.as_deref().and_then(|a| atlas.find(a)) {
        for id in std::iter::once(area).chain(atlas.ancestors(area)) {
            let f = atlas.feature(id);
            if f.layer.is_grid() && grid.is_none() {
                grid = Some(f.code.clone());
            }
            if f.layer == crate::model::Layer::Street && street.is_none() {
                street = Some(f.code.clone());
            }
        }
    }
    Change::CheckIn {
        checkin: Box::new(checkin),
        street,
        grid,
    }
}

/// A subscriber's filter: the caller, what it may read of cases, and the street it asked for.
pub struct Filter {
    caller: Caller,
    cases: Option<Visibility>,
    street: Option<String>,
}

impl Filter {
    /// The filter of `caller`, narrowed to `street` when given: 403 when the token is scoped to
    /// streets (a dispatcher's, or a token created with streets) and `street` is not one of them.
    pub fn new(caller: Caller, street: Option<String>) -> super::Result<Filter> {
        let cases = visibility(&caller).ok();
        let filter = Filter {
            caller,
            cases,
            street,
        };
        if let Some(s) = &filter.street {
            if !filter.street_scope(s) {
                return Err(super::Error::forbidden(format!(
                    "street {s} is outside this token's scope"
                )));
            }
        }
        Ok(filter)
    }

    /// Whether the token's street scope includes `street`.
    fn street_scope(&self, street: &str) -> bool {
        if let Some(Visibility::Streets(v)) = &self.cases {
            return v.iter().any(|x| x == street);
        }
        match self
            .caller
            .token
            .as_ref()
            .filter(|_| !self.caller.is_admin())
        {
            None => true,
            Some(t) => t.streets.is_empty() || t.streets.iter().any(|x| x == "*" || x == street),
        }
    }

    fn street_ok(&self, street: Option<&str>) -> bool {
        match &self.street {
            None => true,
            Some(s) => street == Some(s.as_str()),
        }
    }

    /// Whether a check-in of `street` and `grid` is in the caller's scope: a dispatcher's
    /// streets, a grid worker's grids, nothing for a department; else the token's streets.
    fn checkin_in_scope(&self, street: Option<&str>, grid: Option<&str>) -> bool {
        match &self.cases {
            Some(Visibility::Grids(g)) => grid.is_some_and(|x| g.iter().any(|y| y == x)),
            Some(Visibility::Departments(_)) => false,
            _ => street.is_some_and(|s| self.street_scope(s)),
        }
    }
}

/// What the subscriber of `filter` sees of `event` (`None`: nothing).
pub fn view(filter: &Filter, event: &LiveEvent) -> Option<w::LiveEvent> {
    let base = |kind: w::EventKind, street: Option<&String>, grid: Option<&String>| w::LiveEvent {
        seq: event.seq,
        at: event.at,
        kind,
        street: street.cloned(),
        grid: grid.cloned(),
        case: None,
        checkin: None,
        generation: None,
    };
    match &event.change {
        Change::Case(c) => {
            let v = filter.cases.as_ref()?;
            if !super::cases::visible(v, c) || !filter.street_ok(c.street.as_deref()) {
                return None;
            }
            let mut e = base(w::EventKind::Case, c.street.as_ref(), c.grid.as_ref());
            e.case = Some(w::CaseEvent {
                id: c.id,
                category: c.category.clone(),
                stage: c.stage,
                stage_zh: c.stage.name_zh().to_owned(),
                supervised: c.supervised,
                overdue: c.done_at.is_none() && c.due_at < event.at,
                assigned_grid: c.assigned_grid.clone(),
                department: c.department.clone(),
                lon: c.assignment.point[0],
                lat: c.assignment.point[1],
            });
            Some(e)
        }
        Change::CheckIn {
            checkin,
            street,
            grid,
        } => {
            if !filter.street_ok(street.as_deref())
                || !filter.checkin_in_scope(street.as_deref(), grid.as_deref())
            {
                return None;
            }
            let personal = street
                .as_deref()
                .is_some_and(|s| super::field::reads_personal(&filter.caller, s));
            let mut e = base(w::EventKind::Checkin, street.as_ref(), grid.as_ref());
            e.checkin = Some(w::CheckInEvent {
                punch: checkin.punch,
                class: checkin.class,
                place: checkin.place,
                t: checkin.t,
                staff: personal.then(|| checkin.staff.clone()),
                area: personal.then(|| checkin.area.clone()).flatten(),
                distance_m: personal.then_some(checkin.distance_m).flatten(),
            });
            Some(e)
        }
        Change::Published { generation } => {
            let mut e = base(w::EventKind::Publish, None, None);
            e.generation = Some(*generation);
            Some(e)
        }
    }
}

//! What a shop's models learn from its browsing and carts, kept between builds: each
//! browser's product views of the last 30 days and cart additions of the last 90, in time
//! order. A build reads only the events received since the previous one and adds them here
//! (`absorb`), instead of scanning 90 days of events again; sessions and carts are then
//! derived exactly as a full scan would derive them, late events included, because each
//! browser's views are kept whole rather than as finished sessions.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

/// Browsing of the last 30 days teaches what is viewed together and next.
pub(crate) const VIEW_WINDOW_MS: i64 = 30 * 24 * 3600 * 1000;
/// Carts (and purchases) of the last 90 days teach what goes together.
pub(crate) const BASKET_WINDOW_MS: i64 = 90 * 24 * 3600 * 1000;
/// A browser idle this long starts a new session.
pub(crate) const SESSION_IDLE_MS: i64 = 30 * 60 * 1000;
/// Events are read again this far behind the newest one read, and those already absorbed
/// are skipped by id: a write that commits a little after another one stamped later (two
/// replicas, two transactions), or a replica whose clock is a little behind, is not missed.
pub(crate) const SETTLE_MS: i64 = 60_000;
/// A log is rebuilt from a full scan once it is this old, so whatever an incremental read
/// could miss (an event stored more than `SETTLE_MS` after it was stamped) is bounded.
pub(crate) const FULL_SCAN_EVERY_MS: i64 = 24 * 3600 * 1000;

/// A product view or cart addition, as the log reads it from storage.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedEvent {
    pub event_id: String,
    pub client_id: String,
    pub kind: LoggedKind,
    pub product_id: u64,
    pub occurred_at: i64,
    /// When Kindred stored it (milliseconds, the receiving replica's clock).
    pub received_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoggedKind {
    View,
    CartAddition,
}

/// (when it happened in milliseconds, product id).
type Touch = (i64, u64);

#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct TrainingLog {
    /// When this log's full scan ran; it is rebuilt after `FULL_SCAN_EVERY_MS`.
    started_at: i64,
    /// The newest `received_at` absorbed; the next read starts `SETTLE_MS` before it.
    received_through: i64,
    /// The ids absorbed within `SETTLE_MS` of `received_through`, which the next read
    /// meets again.
    settling: Vec<(i64, String)>,
    views: BTreeMap<String, Vec<Touch>>,
    carts: BTreeMap<String, Vec<Touch>>,
}

impl TrainingLog {
    /// An empty log whose first read is a full scan.
    pub(crate) fn new(now: i64) -> Self {
        Self {
            started_at: now,
            received_through: i64::MIN,
            ..Self::default()
        }
    }

    /// Whether this log should be replaced by a full scan.
    pub(crate) fn is_due_for_full_scan(&self, now: i64) -> bool {
        now - self.started_at >= FULL_SCAN_EVERY_MS
    }

    /// Where the next read starts: events received from then on.
    pub(crate) fn read_from(&self) -> i64 {
        self.received_through.saturating_sub(SETTLE_MS)
    }

    /// Adds what was read since `read_from` (events already absorbed are skipped), and
    /// drops what is older than the windows or than `keep_since` (the shop's retention).
    pub(crate) fn absorb(&mut self, events: Vec<LoggedEvent>, now: i64, keep_since: i64) {
        let seen: HashSet<String> = self.settling.iter().map(|(_, id)| id.clone()).collect();
        for event in events {
            if seen.contains(&event.event_id) {
                continue;
            }
            self.received_through = self.received_through.max(event.received_at);
            self.settling.push((event.received_at, event.event_id));
            let touches = match event.kind {
                LoggedKind::View => &mut self.views,
                LoggedKind::CartAddition => &mut self.carts,
            };
            let list = touches.entry(event.client_id).or_default();
            // After any touch at the same moment: arrival order breaks ties, as in a scan.
            let at = list.partition_point(|(time, _)| *time <= event.occurred_at);
            list.insert(at, (event.occurred_at, event.product_id));
        }
        let settled_before = self.read_from();
        self.settling
            .retain(|(received, _)| *received >= settled_before);
        prune(&mut self.views, keep_since.max(now - VIEW_WINDOW_MS));
        prune(&mut self.carts, keep_since.max(now - BASKET_WINDOW_MS));
    }

    /// Browsing sessions: each browser's views split where it was idle over
    /// `SESSION_IDLE_MS`, with when each ended (seconds).
    pub(crate) fn sessions(&self) -> Vec<(Vec<u64>, i64)> {
        let mut sessions = Vec::new();
        for views in self.views.values() {
            let mut current: Vec<u64> = Vec::new();
            let mut last = i64::MIN;
            for (at, product) in views {
                if !current.is_empty() && at - last > SESSION_IDLE_MS {
                    sessions.push((std::mem::take(&mut current), last / 1000));
                }
                current.push(*product);
                last = *at;
            }
            if !current.is_empty() {
                sessions.push((current, last / 1000));
            }
        }
        sessions
    }

    /// Each browser's cart additions, in time order.
    pub(crate) fn carts(&self) -> Vec<Vec<u64>> {
        self.carts
            .values()
            .map(|touches| touches.iter().map(|(_, product)| *product).collect())
            .collect()
    }

    /// How many views and cart additions the log holds, for operators.
    pub(crate) fn len(&self) -> usize {
        self.views
            .values()
            .chain(self.carts.values())
            .map(Vec::len)
            .sum()
    }
}

fn prune(touches: &mut BTreeMap<String, Vec<Touch>>, since: i64) {
    for list in touches.values_mut() {
        let old = list.partition_point(|(at, _)| *at < since);
        list.drain(..old);
    }
    touches.retain(|_, list| !list.is_empty());
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000;

    fn event(
        id: u32,
        client: &str,
        kind: LoggedKind,
        product: u64,
        at: i64,
        received: i64,
    ) -> LoggedEvent {
        LoggedEvent {
            event_id: format!("e{id}"),
            client_id: client.into(),
            kind,
            product_id: product,
            occurred_at: at,
            received_at: received,
        }
    }

    /// A day of three browsers' views and carts, some arriving late, in received order.
    fn day() -> Vec<LoggedEvent> {
        let mut events = Vec::new();
        for n in 0..600u32 {
            let client = ["a", "b", "c"][n as usize % 3];
            // An hour's pause every 150 events splits sessions; some views are reported
            // out of order.
            let pause = i64::from(n / 150) * 60 * MINUTE;
            let at = i64::from(n) * 2 * MINUTE + pause + if n % 7 == 0 { 5 * MINUTE } else { 0 };
            let late = if n % 11 == 0 { 10 * MINUTE } else { 0 };
            let kind = if n % 5 == 0 {
                LoggedKind::CartAddition
            } else {
                LoggedKind::View
            };
            events.push(event(
                n,
                client,
                kind,
                u64::from(n % 40),
                at,
                at + late + 50,
            ));
        }
        events.sort_by_key(|e| (e.received_at, e.event_id.clone()));
        events
    }

    fn read(events: &[LoggedEvent], from: i64, until: i64) -> Vec<LoggedEvent> {
        events
            .iter()
            .filter(|e| e.received_at >= from && e.received_at < until)
            .cloned()
            .collect()
    }

    #[test]
    fn reading_in_many_small_steps_gives_what_one_full_scan_gives() {
        let events = day();
        let end = 1_600 * MINUTE;
        let mut full = TrainingLog::new(0);
        full.absorb(read(&events, i64::MIN, end), end, 0);
        let mut stepped = TrainingLog::new(0);
        let mut now = 0;
        while now < end {
            now += 7 * MINUTE;
            // Each build reads from `read_from` up to what has been received by now.
            let batch = read(&events, stepped.read_from(), now.min(end));
            stepped.absorb(batch, now.min(end), 0);
        }
        assert_eq!(stepped.sessions(), full.sessions());
        assert_eq!(stepped.carts(), full.carts());
        assert!(full.sessions().len() > 3, "idle gaps split sessions");
        assert_eq!(stepped.len(), 600);
    }

    #[test]
    fn an_event_met_again_in_the_overlap_is_absorbed_once() {
        let mut log = TrainingLog::new(0);
        let first = vec![event(1, "a", LoggedKind::View, 7, 1_000, 1_000)];
        log.absorb(first.clone(), 2_000, 0);
        log.absorb(first, 3_000, 0);
        assert_eq!(log.sessions(), vec![(vec![7], 1)]);
    }

    #[test]
    fn what_leaves_the_window_or_the_retention_leaves_the_log() {
        let mut log = TrainingLog::new(0);
        let day = 24 * 60 * MINUTE;
        log.absorb(
            vec![
                event(1, "a", LoggedKind::View, 1, 0, 0),
                event(2, "a", LoggedKind::CartAddition, 2, 0, 0),
                event(3, "a", LoggedKind::View, 3, 40 * day, 40 * day),
            ],
            40 * day,
            0,
        );
        // The view of day 0 is past the 30-day window; the cart addition is not.
        assert_eq!(log.sessions(), vec![(vec![3], 40 * day / 1000)]);
        assert_eq!(log.carts(), vec![vec![2]]);
        // A retention of 10 days drops the cart addition too.
        log.absorb(Vec::new(), 40 * day, 30 * day);
        assert!(log.carts().is_empty());
    }
}

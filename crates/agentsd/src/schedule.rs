//! When to fetch next. A deadline is kept on both clocks: the monotonic one, which no one can
//! set (a clock set back a year must not stop fetches), and the wall clock, which keeps running
//! while a laptop sleeps (the monotonic clock stops then). The fetch is due when either says so;
//! a clock set forward costs one early fetch, never a missed one.
//!
//! The wall-clock deadline is also what is stored across restarts; a stored time further away
//! than any interval the daemon sets was written under a wrong clock, and is not believed.

use std::time::{Duration, Instant};

/// Slack for small clock corrections (NTP) before a stored time counts as absurd.
const SLACK: i64 = 60;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    monotonic: Instant,
    wall: i64,
}

impl Deadline {
    /// `seconds` from now, on both clocks.
    pub(crate) fn after(seconds: i64, now: Instant, wall_now: i64) -> Deadline {
        let seconds = seconds.max(0);
        let monotonic = now + Duration::from_secs(u64::try_from(seconds).unwrap_or(0));
        Deadline { monotonic, wall: wall_now.saturating_add(seconds) }
    }

    pub(crate) fn is_due(&self, now: Instant, wall_now: i64) -> bool {
        now >= self.monotonic || wall_now >= self.wall
    }

    /// How long to sleep until it is due (by whichever clock comes first).
    pub(crate) fn remaining(&self, now: Instant, wall_now: i64) -> Duration {
        let monotonic = self.monotonic.saturating_duration_since(now);
        let wall = Duration::from_secs(u64::try_from(self.wall.saturating_sub(wall_now)).unwrap_or(0));
        monotonic.min(wall)
    }

    /// The wall-clock time it falls due by whichever clock comes first (for status and the
    /// stored schedule).
    pub(crate) fn wall(&self, now: Instant, wall_now: i64) -> i64 {
        let remaining = i64::try_from(self.remaining(now, wall_now).as_secs()).unwrap_or(i64::MAX);
        wall_now.saturating_add(remaining)
    }
}

/// Seconds from `wall_now` until a stored next-fetch time, or `None` when it is absurd: further
/// away than `longest` (the longest wait the daemon ever sets) plus slack.
pub(crate) fn stored_wait(stored: i64, wall_now: i64, longest: i64) -> Option<i64> {
    let wait = stored.saturating_sub(wall_now);
    (wait <= longest.saturating_add(SLACK)).then_some(wait.max(0))
}

/// A stored time something happened, unless it lies in the future (a clock since set back).
pub(crate) fn stored_past(stored: i64, wall_now: i64) -> Option<i64> {
    (stored <= wall_now.saturating_add(SLACK)).then_some(stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    const YEAR: i64 = 365 * 24 * 60 * 60;

    /// (seconds until the deadline, seconds the monotonic clock moved, seconds the wall clock
    /// moved, due?)
    #[test]
    fn due_by_either_clock() {
        let check = |after: i64, monotonic: u64, wall: i64, due: bool| {
            let start = Instant::now();
            let deadline = Deadline::after(after, start, 1_000_000);
            let now = start + Duration::from_secs(monotonic);
            assert_eq!(deadline.is_due(now, 1_000_000 + wall), due, "after {after}, moved {monotonic}/{wall}");
        };
        check(60, 0, 0, false);
        check(60, 61, 61, true);
        // The clock set back a year: the monotonic clock still brings the fetch.
        check(60, 61, 61 - YEAR, true);
        // Set forward a year: one early fetch.
        check(3600, 1, YEAR, true);
        // A laptop asleep for two hours: the monotonic clock stood still, the wall clock not.
        check(3600, 5, 7200, true);
        check(0, 0, 0, true);
    }

    #[test]
    fn the_wait_is_the_shorter_of_the_two_clocks() {
        let start = Instant::now();
        let deadline = Deadline::after(3600, start, 0);
        assert_eq!(deadline.remaining(start, 0), Duration::from_secs(3600));
        assert_eq!(deadline.remaining(start, -YEAR), Duration::from_secs(3600));
        assert_eq!(deadline.remaining(start, 3000), Duration::from_secs(600));
        assert_eq!(deadline.remaining(start + Duration::from_secs(4000), 0), Duration::ZERO);
    }

    #[test]
    fn absurd_stored_times_are_not_believed() {
        assert_eq!(stored_wait(1000 + 3600, 1000, 3600), Some(3600));
        assert_eq!(stored_wait(1000 + YEAR, 1000, 3600), None);
        assert_eq!(stored_wait(500, 1000, 3600), Some(0));
        assert_eq!(stored_past(900, 1000), Some(900));
        assert_eq!(stored_past(1000 + YEAR, 1000), None);
    }
}

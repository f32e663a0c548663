//! What every watch of Kubernetes objects shares: its state (which readiness reads) and the
//! backoff between failing rounds.

use std::time::Duration;

/// Where one watch stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchState {
    /// Started, first list not complete yet.
    Syncing,
    /// The store mirrors the API server.
    Ready,
    /// The last attempt failed; the watch retries with backoff. Holds the API server's words.
    Failed(String),
}

/// Delays between rounds of a failing watch: 0.5 s doubling to 8 s, with ±25 % jitter so
/// replicas do not retry in step; back to 0.5 s after a successful list. kube's default tops
/// out at 30 s, which can leave every open page stale for half a minute after the API server
/// is back.
pub struct WatchBackoff {
    next: Duration,
}

impl WatchBackoff {
    pub const FIRST: Duration = Duration::from_millis(500);
    pub const MAX: Duration = Duration::from_secs(8);

    /// Back to the first delay, after a successful list.
    pub fn reset(&mut self) {
        self.next = Self::FIRST;
    }

    /// The next delay (the iterator never ends).
    pub fn next_delay(&mut self) -> Duration {
        self.next().unwrap_or(Self::MAX)
    }
}

impl Default for WatchBackoff {
    fn default() -> Self {
        Self { next: Self::FIRST }
    }
}

impl Iterator for WatchBackoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let delay = self.next;
        self.next = (self.next * 2).min(Self::MAX);
        let jitter = rand::Rng::gen_range(&mut rand::thread_rng(), 0.75..1.25);
        Some(delay.mul_f64(jitter))
    }
}

/// Replaces `state` and says whether it changed (so a failure is logged once, not per retry).
pub fn set_state(state: &mut WatchState, next: WatchState) -> bool {
    if *state == next {
        false
    } else {
        *state = next;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::WatchBackoff;

    #[test]
    fn a_failing_watch_retries_within_seconds_and_starts_over_after_a_success() {
        let mut backoff = WatchBackoff::default();
        let delays: Vec<f64> = (0..8)
            .filter_map(|_| backoff.next())
            .map(|d| d.as_secs_f64())
            .collect();
        assert!(delays[0] >= 0.375 && delays[0] <= 0.625, "{delays:?}");
        assert!(
            delays.iter().all(|d| *d <= 10.0),
            "never more than 8 s + jitter: {delays:?}"
        );
        assert!(delays[7] >= 6.0, "grows to the cap: {delays:?}");
        backoff.reset();
        assert!(backoff.next().is_some_and(|d| d.as_secs_f64() <= 0.625));
    }
}

//! `tokio::time::Instant`: a point in the run's virtual time.

use std::fmt;
use std::ops;
use std::sync::OnceLock;
use std::time::Duration;

/// A point in virtual time (nanoseconds since the run started).
///
/// Converting to and from `std::time::Instant` goes through one wall-clock
/// reading taken once per process, so conversions round-trip; the run
/// itself never reads the wall clock.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    sim: asyncsim::time::Instant,
}

/// The `std` instant that virtual time 0 maps to.
fn std_origin() -> std::time::Instant {
    static ORIGIN: OnceLock<std::time::Instant> = OnceLock::new();
    *ORIGIN.get_or_init(std::time::Instant::now)
}

impl Instant {
    /// The current virtual time.
    ///
    /// # Panics
    ///
    /// Outside a simulated run.
    #[track_caller]
    pub fn now() -> Instant {
        super::require_clock("tokio::time::Instant::now");
        Instant {
            sim: asyncsim::time::Instant::now(),
        }
    }

    pub(crate) fn as_sim(self) -> asyncsim::time::Instant {
        self.sim
    }

    pub(crate) fn from_sim(sim: asyncsim::time::Instant) -> Instant {
        Instant { sim }
    }

    /// About thirty years from the start: tokio's "never" for overflowing
    /// deadlines.
    pub(crate) fn far_future() -> Instant {
        Instant::from_sim(asyncsim::time::Instant::from_nanos(
            86_400 * 365 * 30 * 1_000_000_000,
        ))
    }

    /// The virtual instant of a `std` instant (see the type's documentation).
    pub fn from_std(std: std::time::Instant) -> Instant {
        let nanos = std.saturating_duration_since(std_origin()).as_nanos();
        Instant::from_sim(asyncsim::time::Instant::from_nanos(
            u64::try_from(nanos).unwrap_or(u64::MAX),
        ))
    }

    /// The `std` instant of this virtual instant.
    pub fn into_std(self) -> std::time::Instant {
        std_origin() + self.sim.since_start()
    }

    /// Time from `earlier` to `self`, zero if `earlier` is later.
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }

    /// Time from `earlier` to `self`, `None` if `earlier` is later.
    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        (earlier <= *self).then(|| self.saturating_duration_since(earlier))
    }

    /// Time from `earlier` to `self`, zero if `earlier` is later.
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        self.sim.saturating_duration_since(earlier.sim)
    }

    /// Virtual time since this instant.
    pub fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(*self)
    }

    /// `self + duration`, `None` on overflow.
    pub fn checked_add(&self, duration: Duration) -> Option<Instant> {
        let nanos = u64::try_from(duration.as_nanos()).ok()?;
        let sum = self.sim.as_nanos().checked_add(nanos)?;
        Some(Instant::from_sim(asyncsim::time::Instant::from_nanos(sum)))
    }

    /// `self - duration`, `None` before the start of the run.
    pub fn checked_sub(&self, duration: Duration) -> Option<Instant> {
        let nanos = u64::try_from(duration.as_nanos()).ok()?;
        let difference = self.sim.as_nanos().checked_sub(nanos)?;
        Some(Instant::from_sim(asyncsim::time::Instant::from_nanos(
            difference,
        )))
    }
}

impl From<std::time::Instant> for Instant {
    fn from(std: std::time::Instant) -> Instant {
        Instant::from_std(std)
    }
}

impl From<Instant> for std::time::Instant {
    fn from(instant: Instant) -> std::time::Instant {
        instant.into_std()
    }
}

impl ops::Add<Duration> for Instant {
    type Output = Instant;

    fn add(self, duration: Duration) -> Instant {
        self.checked_add(duration)
            .expect("overflow when adding duration to instant")
    }
}

impl ops::AddAssign<Duration> for Instant {
    fn add_assign(&mut self, duration: Duration) {
        *self = *self + duration;
    }
}

impl ops::Sub for Instant {
    type Output = Duration;

    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }
}

impl ops::Sub<Duration> for Instant {
    type Output = Instant;

    fn sub(self, duration: Duration) -> Instant {
        self.checked_sub(duration)
            .expect("overflow when subtracting duration from instant")
    }
}

impl ops::SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, duration: Duration) {
        *self = *self - duration;
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Instant({:?} since the start of the run)",
            self.sim.since_start()
        )
    }
}

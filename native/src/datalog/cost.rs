//! The work budget of one authorization.
//!
//! Every loop whose length a token controls (facts tried by a rule, terms
//! compared, set and string operations, closure iterations, regex matches,
//! cloned values) charges the [`Meter`] in *units* before it runs. A unit
//! is about one term comparison or [`BYTES_PER_UNIT`] bytes scanned or
//! copied: a few nanoseconds. Every [`UNITS_PER_CHECK`] units the meter
//! looks at the clock and polls the host's interrupt hook
//! ([`set_interrupt_check`]), so the time between two looks is bounded by
//! those units plus the single most expensive operation, which is kept
//! O(n log n) in the token size (sets are compared through sorting, never
//! pairwise). A 64 KiB token therefore stops within a few milliseconds of
//! its deadline, or of a host interrupt.
//!
//! Units only pace the checks: the limit is the wall clock. Charging more
//! than the true work costs a few extra clock reads, never a different
//! answer.

use std::cell::Cell;
use std::ffi::c_int;
use std::sync::RwLock;
use std::time::Instant;

use super::ast::{MapKey, Term};

/// Units between two looks at the clock and the interrupt hook (tens of
/// microseconds of work; a look costs some 25 ns).
pub const UNITS_PER_CHECK: u64 = 4096;
/// Bytes scanned, compared or copied per unit.
pub const BYTES_PER_UNIT: usize = 16;
/// What one regex match may cost: PCRE2 runs up to its match limit of
/// backtracking steps, so every match is followed by a look at the clock.
pub const REGEX_MATCH_UNITS: u64 = UNITS_PER_CHECK;

/// Why the meter stopped an evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The deadline passed.
    Timeout,
    /// The host's interrupt hook asked to stop (query cancel, statement
    /// timeout, backend termination in PostgreSQL).
    Interrupted,
}

/// The host's interrupt hook: returns non-zero to stop the running
/// authorization. It must only read state and return: no unwinding, no
/// `longjmp` through the engine's frames.
pub type InterruptCheck = extern "C" fn() -> c_int;

/// Process-global, as PostgreSQL's interrupt flags are.
static INTERRUPT_CHECK: RwLock<Option<InterruptCheck>> = RwLock::new(None);

/// Installs (or with `None` removes) the interrupt hook polled at every
/// look at the clock of every authorization in the process.
pub fn set_interrupt_check(check: Option<InterruptCheck>) {
    match INTERRUPT_CHECK.write() {
        Ok(mut slot) => *slot = check,
        Err(poisoned) => *poisoned.into_inner() = check,
    }
}

fn interrupt_requested() -> bool {
    let check = match INTERRUPT_CHECK.read() {
        Ok(slot) => *slot,
        Err(poisoned) => *poisoned.into_inner(),
    };
    check.is_some_and(|f| f() != 0)
}

/// Work accounting for one authorization, shared by reference.
pub struct Meter {
    deadline: Option<Instant>,
    until_check: Cell<u64>,
    stopped: Cell<Option<Stop>>,
}

impl Meter {
    /// A meter stopping at `deadline` (never when `None`; the interrupt
    /// hook is polled either way).
    pub fn new(deadline: Option<Instant>) -> Meter {
        Meter {
            deadline,
            until_check: Cell::new(UNITS_PER_CHECK),
            stopped: Cell::new(None),
        }
    }

    /// Accounts for `units` of work about to be done; looks at the clock
    /// when the units since the last look reach [`UNITS_PER_CHECK`]. Once
    /// stopped, every later charge fails the same way.
    pub fn charge(&self, units: u64) -> Result<(), Stop> {
        if let Some(stop) = self.stopped.get() {
            return Err(stop);
        }
        let left = self.until_check.get();
        if units < left {
            self.until_check.set(left - units);
            return Ok(());
        }
        self.check()
    }

    /// Looks at the clock and the interrupt hook now.
    pub fn check(&self) -> Result<(), Stop> {
        if let Some(stop) = self.stopped.get() {
            return Err(stop);
        }
        self.until_check.set(UNITS_PER_CHECK);
        let stop = if interrupt_requested() {
            Some(Stop::Interrupted)
        } else if self.deadline.is_some_and(|d| Instant::now() >= d) {
            Some(Stop::Timeout)
        } else {
            None
        };
        match stop {
            Some(s) => {
                self.stopped.set(Some(s));
                Err(s)
            }
            None => Ok(()),
        }
    }

    /// Why the meter stopped, if it did.
    pub fn stopped(&self) -> Option<Stop> {
        self.stopped.get()
    }
}

/// Units to scan, compare or copy `n` bytes.
pub fn bytes(n: usize) -> u64 {
    (n / BYTES_PER_UNIT) as u64 + 1
}

/// Units to visit or clone a term: one per node plus its bytes.
pub fn weight(t: &Term) -> u64 {
    match t {
        Term::Variable(s) | Term::Str(s) => bytes(s.len()),
        Term::Bytes(b) => bytes(b.len()),
        Term::Integer(_) | Term::Date(_) | Term::Bool(_) | Term::Null => 1,
        Term::Set(items) | Term::Array(items) => items.iter().map(weight).sum::<u64>() + 1,
        Term::Map(entries) => {
            let key = |k: &MapKey| match k {
                MapKey::Str(s) => bytes(s.len()),
                MapKey::Integer(_) => 1,
            };
            entries.iter().map(|(k, v)| key(k) + weight(v)).sum::<u64>() + 1
        }
    }
}

/// `weight` times the depth of a sort of it: the cost of ordering or
/// comparing collections, which sorts sets and maps.
pub fn sorted(weight: u64) -> u64 {
    weight * (u64::from(weight.max(1).ilog2()) + 1)
}

/// Units to compare two terms for equality or order. Values of different
/// kinds, and collections of different lengths, differ at once; the shorter
/// string bounds a string comparison; collections cost their weights with a
/// logarithmic factor (sets and maps, nested in arrays too, are compared
/// through sorting).
pub fn compare(a: &Term, b: &Term) -> u64 {
    if !a.same_variant(b) {
        return 1;
    }
    match (a, b) {
        (Term::Str(x), Term::Str(y)) | (Term::Variable(x), Term::Variable(y)) => {
            bytes(x.len().min(y.len()))
        }
        (Term::Bytes(x), Term::Bytes(y)) => bytes(x.len().min(y.len())),
        // collections of different lengths differ at once
        (Term::Set(x), Term::Set(y)) | (Term::Array(x), Term::Array(y)) if x.len() != y.len() => 1,
        (Term::Map(x), Term::Map(y)) if x.len() != y.len() => 1,
        // both weights: measuring them is work too
        (Term::Set(_) | Term::Array(_) | Term::Map(_), _) => sorted(weight(a) + weight(b)),
        _ => 1,
    }
}

/// The interrupt hook of the unit tests: one hook for every test that
/// needs it (the hook is process-global), reading a per-thread flag so that
/// the tests running meanwhile in other threads are never interrupted.
#[cfg(test)]
pub(crate) mod test_interrupt {
    use std::cell::Cell;
    use std::ffi::c_int;

    thread_local! {
        static INTERRUPT: Cell<bool> = const { Cell::new(false) };
    }

    extern "C" fn flag() -> c_int {
        c_int::from(INTERRUPT.with(Cell::get))
    }

    pub fn install() {
        super::set_interrupt_check(Some(flag));
    }

    /// Asks (or stops asking) this thread's authorizations to stop.
    pub fn request(on: bool) {
        INTERRUPT.with(|f| f.set(on));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn charges_look_at_the_clock_every_so_many_units() {
        let meter = Meter::new(Some(Instant::now()));
        // below the pacing: no look at the (already passed) deadline
        assert_eq!(meter.charge(UNITS_PER_CHECK - 1), Ok(()));
        assert_eq!(meter.stopped(), None);
        // the unit that completes the pace looks, and the stop is sticky
        assert_eq!(meter.charge(1), Err(Stop::Timeout));
        assert_eq!(meter.charge(0), Err(Stop::Timeout));
        assert_eq!(meter.stopped(), Some(Stop::Timeout));
        // one large charge looks at once
        let meter = Meter::new(Some(Instant::now()));
        assert_eq!(meter.charge(10 * UNITS_PER_CHECK), Err(Stop::Timeout));
        let meter = Meter::new(Some(Instant::now() + Duration::from_secs(60)));
        for _ in 0..10 {
            assert_eq!(meter.charge(UNITS_PER_CHECK), Ok(()));
        }
        assert_eq!(Meter::new(None).check(), Ok(()));
    }

    #[test]
    fn the_interrupt_hook_stops_at_the_next_look() {
        test_interrupt::install();
        let meter = Meter::new(None);
        assert_eq!(meter.charge(UNITS_PER_CHECK), Ok(()));
        test_interrupt::request(true);
        assert_eq!(
            meter.charge(UNITS_PER_CHECK - 1),
            Ok(()),
            "not before the next look"
        );
        assert_eq!(meter.charge(1), Err(Stop::Interrupted));
        assert_eq!(meter.charge(0), Err(Stop::Interrupted));
        test_interrupt::request(false);
        assert_eq!(Meter::new(None).check(), Ok(()));
    }

    #[test]
    fn costs_grow_with_the_work() {
        let big: Vec<Term> = (0..8000).map(Term::Integer).collect();
        let set = Term::Set(big.clone());
        assert_eq!(weight(&set), 8001);
        assert!(compare(&set, &Term::Set(big)) >= 2 * 8001 * 13);
        assert_eq!(compare(&set, &Term::Set(vec![])), 1);
        assert_eq!(compare(&set, &Term::Integer(1)), 1);
        assert_eq!(
            compare(&Term::Str("a".repeat(1600)), &Term::Str("b".repeat(3200))),
            101
        );
        assert_eq!(bytes(0), 1);
    }
}

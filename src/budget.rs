//! The per-file time budget (`--file-timeout`). Parsers and the detector run
//! synchronously on a walker thread and cannot be killed from outside, so
//! they poll [`expired`] in their loops and stop early; the scan then
//! reports the file as cut short instead of hanging on it.
//!
//! The deadline is thread-local: each walker thread works on one file at a
//! time, and nothing has to be threaded through every parser's signature.

use std::cell::Cell;
use std::time::{Duration, Instant};

thread_local! {
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
    static EXPIRED: Cell<bool> = const { Cell::new(false) };
    static TICKS: Cell<u32> = const { Cell::new(0) };
}

/// Clears the deadline when the file is done, also on an early return.
#[must_use]
pub struct Budget {
    _private: (),
}

impl Drop for Budget {
    fn drop(&mut self) {
        DEADLINE.with(|d| d.set(None));
        EXPIRED.with(|e| e.set(false));
    }
}

/// Starts a budget for the current thread's file; `None` means unlimited.
pub fn start(limit: Option<Duration>) -> Budget {
    DEADLINE.with(|d| d.set(limit.and_then(|l| Instant::now().checked_add(l))));
    EXPIRED.with(|e| e.set(false));
    TICKS.with(|t| t.set(0));
    Budget { _private: () }
}

/// Whether the current file has used up its budget. Cheap enough for inner
/// loops: the clock is read on every 64th call only, and once expired the
/// answer stays yes until the budget is dropped.
pub fn expired() -> bool {
    if EXPIRED.with(Cell::get) {
        return true;
    }
    let Some(deadline) = DEADLINE.with(Cell::get) else {
        return false;
    };
    let tick = TICKS.with(|t| {
        let n = t.get().wrapping_add(1);
        t.set(n);
        n
    });
    if !tick.is_multiple_of(64) {
        return false;
    }
    let over = Instant::now() >= deadline;
    if over {
        EXPIRED.with(|e| e.set(true));
    }
    over
}

/// Whether the budget ran out at some point, without reading the clock.
pub fn was_exceeded() -> bool {
    EXPIRED.with(Cell::get)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_and_resets() {
        {
            let _b = start(Some(Duration::ZERO));
            let mut seen = false;
            for _ in 0..128 {
                seen |= expired();
            }
            assert!(seen);
            assert!(was_exceeded());
        }
        assert!(!was_exceeded());
        let _b = start(None);
        assert!((0..1000).all(|_| !expired()));
    }
}

//! Independent pieces of work spread over the cores: results come back in the order of the
//! inputs, a panic in a worker reaches the caller, and a callback hears of each piece done.

use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Told `(0, total)` before the work starts, then `(done, total)` once after each piece
/// finishes, from whichever thread ran it (those calls may arrive slightly out of order). The
/// library never prints: the CLI draws it.
pub type Progress<'a> = &'a (dyn Fn(usize, usize) + Sync);

/// A [`Progress`] that ignores every report.
pub const QUIET: Progress<'static> = &|_, _| {};

/// `f` of every item, computed across the cores, in the order of `items`. A panic in `f`
/// propagates to the caller once the other workers stop.
pub fn map<T: Sync, R: Send>(
    items: &[T],
    progress: Progress<'_>,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let done = AtomicUsize::new(0);
    let total = items.len();
    progress(0, total);
    items
        .par_iter()
        .map(|item| {
            let r = f(item);
            progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
            r
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn results_keep_the_order_of_the_inputs() {
        let items: Vec<u64> = (0..200).collect();
        // Uneven work, so that the pieces finish out of order.
        let out = map(&items, QUIET, |&i| {
            std::thread::sleep(std::time::Duration::from_micros((200 - i) * 20));
            i
        });
        assert_eq!(out, items);
    }

    #[test]
    fn a_worker_panic_reaches_the_caller() {
        let items: Vec<u32> = (0..16).collect();
        let r = std::panic::catch_unwind(|| {
            map(&items, QUIET, |&i| {
                assert!(i != 7, "worker failed");
                i
            })
        });
        assert!(r.is_err(), "the panic of item 7 was swallowed");
    }

    #[test]
    fn progress_hears_of_every_piece() {
        let items = [1, 2, 3, 4, 5];
        let seen = Mutex::new(Vec::new());
        let record = |done: usize, total: usize| {
            seen.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((done, total))
        };
        map(&items, &record, |x| x * 2);
        let mut seen = seen.into_inner().unwrap_or_else(|e| e.into_inner());
        assert_eq!(seen[0], (0, 5), "the total comes first");
        seen.sort_unstable();
        assert_eq!(seen, (0..=5).map(|d| (d, 5)).collect::<Vec<_>>());
    }
}

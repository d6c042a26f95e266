//! The pieces the event loop works on: events, replica slots, requests and their attempts.

use crate::replica::ReplicaSim;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Ev {
    Arrival,
    ClientStart,
    Dispatch(usize),
    Step(usize),
    Ready(usize),
    Tick,
    Sample,
    SpotNotice(usize, u32),
    SpotKill(usize, u32),
    Timeout(usize, u32),
    /// Node `n`, empty since its epoch `e`, may be consolidated.
    Consolidate(usize, u32),
}

/// The events to come, earliest first; events at the same microsecond in the order they were
/// queued (by their sequence number, unique). A binary min-heap on one 128-bit key per event
/// (time, then sequence number), so that ordering two events is one comparison.
///
/// The event [`Events::pop`] returns stays at the root until the next push or pop: most
/// events queue one more (a replica's step, the next), which then takes the root's place
/// with one sift down instead of a removal and an insertion. The order is the same, the heap
/// holding the same events.
pub(super) struct Events {
    heap: Vec<(u128, Ev)>,
    /// The root was returned by `pop` and is no longer queued.
    taken: bool,
}

impl Events {
    pub(super) fn new() -> Events {
        Events {
            heap: Vec::new(),
            taken: false,
        }
    }

    /// Queues `ev` at `at` µs with sequence number `seq`.
    pub(super) fn push(&mut self, at: u64, seq: u64, ev: Ev) {
        let key = (u128::from(at) << 64) | u128::from(seq);
        if self.taken {
            self.taken = false;
            self.sift_down((key, ev));
            return;
        }
        let mut i = self.heap.len();
        self.heap.push((key, ev));
        // Sift up: move parents down until the new key's place is found.
        while i > 0 {
            let parent = (i - 1) / 2;
            if self.heap[parent].0 <= key {
                break;
            }
            self.heap[i] = self.heap[parent];
            i = parent;
        }
        self.heap[i] = (key, ev);
    }

    /// The earliest event and its time, taken off the queue.
    pub(super) fn pop(&mut self) -> Option<(u64, Ev)> {
        if self.taken {
            self.taken = false;
            if let Some(last) = self.heap.pop() {
                if !self.heap.is_empty() {
                    self.sift_down(last);
                }
            }
        }
        let &(key, ev) = self.heap.first()?;
        self.taken = true;
        Some(((key >> 64) as u64, ev))
    }

    /// Puts `entry` in the root's place (the root is dropped) and sifts it down.
    fn sift_down(&mut self, entry: (u128, Ev)) {
        let n = self.heap.len();
        let mut i = 0;
        loop {
            let left = 2 * i + 1;
            if left >= n {
                break;
            }
            let right = left + 1;
            let child = if right < n && self.heap[right].0 < self.heap[left].0 {
                right
            } else {
                left
            };
            if entry.0 <= self.heap[child].0 {
                break;
            }
            self.heap[i] = self.heap[child];
            i = child;
        }
        self.heap[i] = entry;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    Starting,
    Ready,
    Draining,
    Dead,
}

pub(super) struct Slot {
    pub(super) sim: ReplicaSim,
    pub(super) state: State,
    pub(super) since_us: u64,
    pub(super) epoch: u32,
    pub(super) stepping: bool,
    pub(super) step_started_us: u64,
    pub(super) busy_mark: u64,
    /// The node it was placed on, when nodes are modelled.
    pub(super) node: Option<usize>,
}

/// One node (or, for a replica spanning several, one group of nodes).
pub(super) struct Node {
    /// When it can start pods, µs.
    pub(super) ready_us: u64,
    /// Replicas placed on it.
    pub(super) replicas: u32,
    /// Not yet removed.
    pub(super) alive: bool,
    /// Changes with every placement and removal, so a stale consolidation does nothing.
    pub(super) epoch: u32,
}

/// One client request.
pub(super) struct Req {
    pub(super) arrival_us: u64,
    pub(super) input: u32,
    pub(super) output: u32,
    pub(super) first_us: Option<u64>,
    pub(super) admitted_us: Option<u64>,
    pub(super) last_token_us: u64,
    pub(super) attempts: u32,
    pub(super) done: bool,
    /// Live work items of this request.
    pub(super) work: u32,
}

impl Req {
    /// A request that has just arrived.
    pub(super) fn new(arrival_us: u64, input: u32, output: u32) -> Req {
        Req {
            arrival_us,
            input,
            output,
            first_us: None,
            admitted_us: None,
            last_token_us: 0,
            attempts: 0,
            done: false,
            work: 0,
        }
    }
}

/// One attempt on a replica.
pub(super) struct Work {
    pub(super) req: usize,
    pub(super) replica: usize,
    pub(super) alive: bool,
}

/// A slab with reuse, so memory follows what is in flight.
pub(super) struct Slab<T> {
    items: Vec<Option<T>>,
    free: Vec<usize>,
}

impl<T> Slab<T> {
    pub(super) fn new() -> Self {
        Slab {
            items: Vec::new(),
            free: Vec::new(),
        }
    }
    pub(super) fn insert(&mut self, t: T) -> usize {
        match self.free.pop() {
            Some(i) => {
                self.items[i] = Some(t);
                i
            }
            None => {
                self.items.push(Some(t));
                self.items.len() - 1
            }
        }
    }
    pub(super) fn get(&self, i: usize) -> Option<&T> {
        self.items.get(i).and_then(Option::as_ref)
    }
    pub(super) fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        self.items.get_mut(i).and_then(Option::as_mut)
    }
    pub(super) fn remove(&mut self, i: usize) -> Option<T> {
        let t = self.items.get_mut(i)?.take();
        if t.is_some() {
            self.free.push(i);
        }
        t
    }
}

pub(super) const US: f64 = 1e6;

pub(super) fn us(s: f64) -> u64 {
    (s * US).round().max(0.0) as u64
}

/// Closed-loop client state.
pub(super) struct Clients {
    /// Clients waiting to send their next request.
    pub(super) free: u32,
    /// Clients started so far. Client k starts at `warm-up · k / clients`; its start event is
    /// queued only when client k − 1 starts, so memory grows with the requests sent, never
    /// with the number of clients.
    pub(super) started: u32,
    /// The event sequence number of client 0's start; client k's is this plus k, as if every
    /// start had been queued at the beginning (ties with other events at the same
    /// microsecond break the same way).
    pub(super) seq0: u64,
    /// The traffic has run out: clients not yet started would never send a request.
    pub(super) traffic_out: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    proptest! {
        /// Events come out in the order of a binary heap of (time, sequence number), however
        /// pushes and pops interleave.
        #[test]
        fn events_come_out_by_time_then_sequence(
            ops in proptest::collection::vec((any::<bool>(), 0u64..50), 1..400),
        ) {
            let mut events = Events::new();
            let mut reference = BinaryHeap::new();
            let (mut now, mut seq) = (0u64, 0u64);
            for (push, dt) in ops {
                if push {
                    seq += 1;
                    events.push(now + dt, seq, Ev::Step(seq as usize));
                    reference.push(Reverse((now + dt, seq)));
                } else {
                    let got = events.pop();
                    let want = reference.pop().map(|Reverse(x)| x);
                    prop_assert_eq!(got, want.map(|(at, s)| (at, Ev::Step(s as usize))));
                    if let Some((at, _)) = want {
                        now = at;
                    }
                }
            }
            while let Some(Reverse((at, s))) = reference.pop() {
                prop_assert_eq!(events.pop(), Some((at, Ev::Step(s as usize))));
            }
            prop_assert_eq!(events.pop(), None);
        }
    }
}

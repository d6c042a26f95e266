//! The server's limits: what one request may send, how long it may take, how many run at once.

use std::time::Duration;

/// The limits of a server. [`Limits::default`] is what `inferplan serve` runs with; docs/serve.md
/// lists them.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Largest request body, bytes (413 above).
    pub body_bytes: usize,
    /// Time to receive a request's head (the connection is closed past it) and, apart, its
    /// whole body (408 past it): a slow client holds no thread.
    pub body_read: Duration,
    /// Time a command may compute (503 past it).
    pub compute: Duration,
    /// Commands computing at once, each on a blocking thread.
    pub concurrency: usize,
    /// Requests waiting for a free slot (503 at once beyond them).
    pub queue: usize,
    /// Time a request may wait for a free slot (503 past it).
    pub queue_wait: Duration,
    /// Most requests one `simulate` may simulate (`--requests`, and the seeds times it).
    pub sim_requests: u64,
    /// Most seeds one `simulate` may run (`--seeds`).
    pub sim_seeds: u64,
    /// Longest simulated time of one `simulate`, seconds (`--duration`).
    pub sim_duration_s: f64,
}

impl Default for Limits {
    fn default() -> Limits {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Limits {
            body_bytes: 1 << 20,
            body_read: Duration::from_secs(10),
            compute: Duration::from_secs(30),
            concurrency: cores,
            queue: 2048,
            queue_wait: Duration::from_secs(20),
            sim_requests: 1_000_000,
            sim_seeds: 8,
            sim_duration_s: 86_400.0,
        }
    }
}

//! Request generation: when requests arrive and how many tokens they carry.
//!
//! A [`TrafficSpec`] names an arrival process ([`Arrivals`]: Poisson, gamma-renewal with a
//! chosen burstiness, a 24-hour rate profile, or the replay of a recorded
//! [`Trace`](inferplan_plan::Trace)), a prompt-length and an output-length distribution
//! ([`LengthDist`]) and where to stop ([`Limit`]). [`Traffic`] turns it into a lazy,
//! deterministic stream of [`Request`]s: memory does not grow with the number of requests (a
//! replayed trace is held once, shared).
//!
//! Arrival times are integer microseconds since the start of the simulation. The arrival
//! process, the prompt lengths and the output lengths draw from three separate streams split
//! from the seed, so changing a length distribution leaves the arrival times unchanged
//! (common random numbers when comparing configurations).
//!
//! Distributions and arrival processes parse from short strings, as a command line would
//! give them: `800`, `uniform:lo=100,hi=900`, `normal:mean=500,sd=100`,
//! `lognormal:mean=800,p99=6000`; `poisson`, `poisson:rate=20`, `gamma:cv=2,rate=20`,
//! `profile:hourly=r0/r1/…/r23,cv=1`. Their `Display` writes the same form back.

mod arrivals;
mod error;
mod generation;
mod lengths;
mod parse;
mod spec;

pub use arrivals::Arrivals;
pub use error::TrafficError;
pub use generation::{Request, Traffic};
pub use lengths::LengthDist;
pub use spec::{Limit, TrafficSpec};

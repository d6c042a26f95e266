//! Waiting time of jobs in front of a pool of GPUs that each run one job at a time: a G/G/c
//! queue, approximated by Erlang C (M/M/c) with the Allen–Cunneen scaling for the
//! variability of arrivals and service.
//!
//! In M/M/c a job waits with probability C(c, a) (Erlang C, offered load a = λS), and the
//! wait of those that do is exponential with rate cμ − λ. Allen–Cunneen scales waits by
//! (ca² + cs²) / 2, the squared coefficients of variation of inter-arrival and service times;
//! a diffusion job of a fixed size takes nearly the same time every run (cs² ≈ 0).

/// Probability that an arriving job waits, for `c` servers at offered load `a` (= λ × S);
/// 1 when the pool is saturated (a ≥ c).
pub fn erlang_c(c: u32, a: f64) -> f64 {
    if c == 0 || a >= f64::from(c) {
        return 1.0;
    }
    if a <= 0.0 {
        return 0.0;
    }
    // Erlang B by the stable recursion, then C = B / (1 − ρ(1 − B)).
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
    }
    let rho = a / f64::from(c);
    b / (1.0 - rho * (1.0 - b))
}

/// The `q` quantile of the waiting time (before service starts), seconds, of jobs arriving at
/// `rate` per second to `c` GPUs that take `service_s` each, with squared coefficients of
/// variation `ca2` (arrivals; 1 = Poisson) and `cs2` (service). Infinite when the pool cannot
/// keep up.
pub fn wait_quantile(c: u32, rate: f64, service_s: f64, ca2: f64, cs2: f64, q: f64) -> f64 {
    let a = rate * service_s;
    if rate <= 0.0 {
        return 0.0;
    }
    if c == 0 || a >= f64::from(c) {
        return f64::INFINITY;
    }
    let p_wait = erlang_c(c, a);
    let tail = 1.0 - q;
    if p_wait <= tail {
        return 0.0;
    }
    let drain = f64::from(c) / service_s - rate;
    (p_wait / tail).ln() / drain * (ca2 + cs2) / 2.0
}

/// Mean waiting time, seconds (same model).
pub fn mean_wait(c: u32, rate: f64, service_s: f64, ca2: f64, cs2: f64) -> f64 {
    let a = rate * service_s;
    if rate <= 0.0 {
        return 0.0;
    }
    if c == 0 || a >= f64::from(c) {
        return f64::INFINITY;
    }
    erlang_c(c, a) / (f64::from(c) / service_s - rate) * (ca2 + cs2) / 2.0
}

/// The fewest GPUs (up to `max`) for which the `q` quantile of wait + service stays within
/// `limit_s`; `None` when even `max` cannot.
pub fn servers_for(
    rate: f64,
    service_s: f64,
    ca2: f64,
    cs2: f64,
    q: f64,
    limit_s: f64,
    max: u32,
) -> Option<u32> {
    if service_s > limit_s {
        return None;
    }
    let start = ((rate * service_s).floor() as u32).saturating_add(1).max(1);
    (start..=max.max(start)).find(|&c| {
        c <= max && service_s + wait_quantile(c, rate, service_s, ca2, cs2, q) <= limit_s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_c_known_values() {
        // One server: the probability of waiting is the utilisation.
        assert!((erlang_c(1, 0.7) - 0.7).abs() < 1e-12);
        // Two servers at a = 1 (ρ = 0.5): C = 1/3.
        assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(erlang_c(4, 4.0), 1.0);
        assert_eq!(erlang_c(4, 0.0), 0.0);
    }

    #[test]
    fn mm1_quantile_by_hand() {
        // M/M/1, λ = 0.5/s, S = 1 s: P(W > t) = 0.5 e^{-0.5 t}; p99 = 2 ln 50.
        let w = wait_quantile(1, 0.5, 1.0, 1.0, 1.0, 0.99);
        assert!((w - 2.0 * 50f64.ln()).abs() < 1e-9, "{w}");
        // Deterministic service halves the wait.
        let d = wait_quantile(1, 0.5, 1.0, 1.0, 0.0, 0.99);
        assert!((d - w / 2.0).abs() < 1e-9);
        assert!(wait_quantile(1, 1.0, 1.0, 1.0, 0.0, 0.99).is_infinite());
        assert!((mean_wait(1, 0.5, 1.0, 1.0, 1.0) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn more_servers_never_wait_longer() {
        for c in 1..40 {
            let a = wait_quantile(c, 3.0, 10.0, 1.0, 0.0, 0.99);
            let b = wait_quantile(c + 1, 3.0, 10.0, 1.0, 0.0, 0.99);
            assert!(b <= a, "{c}: {b} > {a}");
        }
        let c = servers_for(3.0, 10.0, 1.0, 0.0, 0.99, 30.0, 1000).unwrap();
        assert!(c > 30);
        assert!(10.0 + wait_quantile(c, 3.0, 10.0, 1.0, 0.0, 0.99) <= 30.0);
        assert!(10.0 + wait_quantile(c - 1, 3.0, 10.0, 1.0, 0.0, 0.99) > 30.0);
        assert_eq!(servers_for(3.0, 40.0, 1.0, 0.0, 0.99, 30.0, 1000), None);
    }

    /// A seeded M/D/c simulation: the approximation's p99 wait + service stays within 15 %
    /// of the simulated one over loads from light to heavy.
    #[test]
    fn approximation_against_simulated_mdc() {
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut uniform = move || {
            // xorshift64*: deterministic, good enough for a test.
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
        };
        for (c, rho) in [(1u32, 0.7), (4, 0.8), (8, 0.9), (16, 0.85)] {
            let service = 60.0;
            let rate = rho * f64::from(c) / service;
            let mut free = vec![0.0f64; c as usize];
            let mut t = 0.0;
            let mut lat = Vec::new();
            for i in 0..200_000 {
                t += -(1.0 - uniform()).ln() / rate;
                let (k, &at) = free
                    .iter()
                    .enumerate()
                    .min_by(|a, b| a.1.total_cmp(b.1))
                    .unwrap();
                let start = at.max(t);
                free[k] = start + service;
                if i > 10_000 {
                    lat.push(start - t + service);
                }
            }
            lat.sort_by(f64::total_cmp);
            let sim = lat[(lat.len() as f64 * 0.99) as usize];
            let model = service + wait_quantile(c, rate, service, 1.0, 0.0, 0.99);
            let err = (model / sim - 1.0).abs();
            assert!(
                err < 0.15,
                "c {c} ρ {rho}: model {model:.1} s, simulated {sim:.1} s"
            );
        }
    }
}

//! Portable transcendental functions: the same bits on every platform.
//!
//! The platform's `libm` (`f64::ln`, `f64::exp`, `f64::powf`, ...) differs between systems
//! in the last bits, and the simulator promises byte-identical output for a seed on Linux,
//! macOS and Windows, on x86-64 and on ARM. Everything on the step-time, estimate and
//! simulation path therefore uses these functions, built from IEEE basic operations only
//! (`+ − × ÷ √`, correctly rounded everywhere).
//!
//! [`ln`] and [`exp`] follow the method and polynomial coefficients of the freely
//! distributable fdlibm (Sun Microsystems, 1993): argument reduction to a small interval,
//! then a minimax polynomial; both are within 1 ulp of the true values. [`pow`] is this
//! module's own: `exp(y · ln x)` with the logarithm and the product carried in double-double
//! arithmetic (a value as an unevaluated sum of two `f64`), so that the rounding of `ln x` is
//! not amplified by `y`.

const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
const TWO54: f64 = f64::from_bits(0x4350_0000_0000_0000);
const LG1: f64 = f64::from_bits(0x3fe5_5555_5555_5593);
const LG2: f64 = f64::from_bits(0x3fd9_9999_9997_fa04);
const LG3: f64 = f64::from_bits(0x3fd2_4924_9422_9359);
const LG4: f64 = f64::from_bits(0x3fcc_71c5_1d8e_78af);
const LG5: f64 = f64::from_bits(0x3fc7_4664_96cb_03de);
const LG6: f64 = f64::from_bits(0x3fc3_9a09_d078_c69f);
const LG7: f64 = f64::from_bits(0x3fc2_f112_df3e_5244);

/// The natural logarithm, computed the same way on every platform (within 1 ulp).
/// `ln(0) = −∞`; negative arguments and NaN give NaN; `ln(+∞) = +∞`.
pub fn ln(x: f64) -> f64 {
    let mut x = x;
    let mut hx = (x.to_bits() >> 32) as i32;
    let lx = x.to_bits() as u32;
    let mut k: i32 = 0;
    if hx < 0x0010_0000 {
        // Below 2⁻¹⁰²², zero or negative.
        if ((hx & 0x7fff_ffff) as u32 | lx) == 0 {
            return f64::NEG_INFINITY;
        }
        if hx < 0 {
            return f64::NAN;
        }
        // Subnormal: scale up.
        k -= 54;
        x *= TWO54;
        hx = (x.to_bits() >> 32) as i32;
    }
    if hx >= 0x7ff0_0000 {
        return x + x;
    }
    k += (hx >> 20) - 1023;
    hx &= 0x000f_ffff;
    // Normalise x into [√2/2, √2): x = 2^k (1 + f).
    let i = (hx + 0x95f64) & 0x0010_0000;
    let high = (hx | (i ^ 0x3ff0_0000)) as u32;
    x = f64::from_bits((u64::from(high) << 32) | (x.to_bits() & 0xffff_ffff));
    k += i >> 20;
    let f = x - 1.0;
    let dk = f64::from(k);
    if (0x000f_ffff & (2 + hx)) < 3 {
        // |f| < 2⁻²⁰.
        if f == 0.0 {
            return dk * LN2_HI + dk * LN2_LO;
        }
        let r = f * f * (0.5 - 0.333_333_333_333_333_3 * f);
        return if k == 0 {
            f - r
        } else {
            dk * LN2_HI - ((r - dk * LN2_LO) - f)
        };
    }
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * (LG4 + w * LG6));
    let t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    let r = t2 + t1;
    let large_f = ((hx - 0x6147a) | (0x6b851 - hx)) > 0;
    if large_f {
        let hfsq = 0.5 * f * f;
        if k == 0 {
            f - (hfsq - s * (hfsq + r))
        } else {
            dk * LN2_HI - ((hfsq - (s * (hfsq + r) + dk * LN2_LO)) - f)
        }
    } else if k == 0 {
        f - s * (f - r)
    } else {
        dk * LN2_HI - ((s * (f - r) - dk * LN2_LO) - f)
    }
}

const INV_LN2: f64 = f64::from_bits(0x3ff7_1547_652b_82fe);
const EXP_OVERFLOW: f64 = f64::from_bits(0x4086_2e42_fefa_39ef);
const EXP_UNDERFLOW: f64 = f64::from_bits(0xc087_4910_d52d_3051);
const TWO_M1000: f64 = f64::from_bits(0x0170_0000_0000_0000);
const P1: f64 = f64::from_bits(0x3fc5_5555_5555_553e);
const P2: f64 = f64::from_bits(0xbf66_c16c_16be_bd93);
const P3: f64 = f64::from_bits(0x3f11_566a_af25_de2c);
const P4: f64 = f64::from_bits(0xbebb_bd41_c5d2_6bf1);
const P5: f64 = f64::from_bits(0x3e66_3769_72be_a4d0);

/// e^x, computed the same way on every platform (within 1 ulp). Overflows to +∞ above
/// about 709.78, underflows to 0 below about −745.13; NaN stays NaN.
#[inline]
pub fn exp(x: f64) -> f64 {
    let high = (x.to_bits() >> 32) as u32;
    let negative = high >> 31 == 1;
    let hx = high & 0x7fff_ffff;
    if hx >= 0x4086_2e42 {
        // |x| ≥ 709.78…: non-finite, overflow or underflow.
        if hx >= 0x7ff0_0000 {
            if x.is_nan() {
                return x + x;
            }
            return if negative { 0.0 } else { x };
        }
        if x > EXP_OVERFLOW {
            return f64::INFINITY;
        }
        if x < EXP_UNDERFLOW {
            return 0.0;
        }
    }
    // Reduce: x = k ln2 + r, |r| ≤ ln2 / 2, r = hi − lo.
    let (k, hi, lo, r) = if hx > 0x3fd6_2e42 {
        let (k, hi, lo) = if hx < 0x3ff0_a2b2 {
            // ln2/2 < |x| < 1.5 ln2.
            if negative {
                (-1, x + LN2_HI, -LN2_LO)
            } else {
                (1, x - LN2_HI, LN2_LO)
            }
        } else {
            let half = if negative { -0.5 } else { 0.5 };
            let k = (INV_LN2 * x + half) as i32;
            let t = f64::from(k);
            (k, x - t * LN2_HI, t * LN2_LO)
        };
        (k, hi, lo, hi - lo)
    } else if hx < 0x3e30_0000 {
        // |x| < 2⁻²⁸.
        return 1.0 + x;
    } else {
        (0, 0.0, 0.0, x)
    };
    let t = r * r;
    let c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
    if k == 0 {
        return 1.0 - ((r * c) / (c - 2.0) - r);
    }
    let y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
    // Multiply by 2^k by adding k to the exponent field.
    if k >= -1021 {
        f64::from_bits(y.to_bits().wrapping_add((k as u64) << 52))
    } else {
        f64::from_bits(y.to_bits().wrapping_add(((k + 1000) as u64) << 52)) * TWO_M1000
    }
}

// --- pow ------------------------------------------------------------------------------------

/// `x^y`, computed the same way on every platform: within 1 ulp of the true value for results
/// in the normal range with `|y ln x|` up to 40, and within 8 ulps up to the overflow limit
/// (the double-double logarithm is good to about 2⁻⁵⁹ relative, an error `y` scales). The special cases follow IEEE 754 `pow`: `x^0 = 1` and `1^y = 1` (even for NaN),
/// a negative `x` needs an integer `y` (otherwise NaN), `0^y` is 0 for `y > 0` and +∞ for
/// `y < 0` (signed for odd integers), and infinite arguments give their limits.
pub fn pow(x: f64, y: f64) -> f64 {
    if y == 0.0 || x == 1.0 {
        return 1.0;
    }
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if !x.is_sign_negative() {
        return pow_positive(x, y);
    }
    match parity(y) {
        Parity::Even => pow_positive(-x, y),
        Parity::Odd => -pow_positive(-x, y),
        Parity::NotInteger if x == 0.0 => pow_positive(0.0, y),
        Parity::NotInteger => f64::NAN,
    }
}

enum Parity {
    Even,
    Odd,
    NotInteger,
}

/// Whether `y` (not NaN) is an even or odd integer; the infinities and every `f64` of
/// magnitude 2⁵³ or more are even.
fn parity(y: f64) -> Parity {
    if y.is_infinite() || y.abs() >= 9_007_199_254_740_992.0 {
        Parity::Even
    } else if y.fract() != 0.0 {
        Parity::NotInteger
    } else if (y as i64) % 2 == 0 {
        Parity::Even
    } else {
        Parity::Odd
    }
}

/// `x^y` for `x` ≥ 0 (or +0), `x ≠ 1`, `y ≠ 0`, neither NaN.
fn pow_positive(x: f64, y: f64) -> f64 {
    if x == 1.0 {
        return 1.0;
    }
    if x == 0.0 || x.is_infinite() {
        return if (x == 0.0) == (y > 0.0) {
            0.0
        } else {
            f64::INFINITY
        };
    }
    if y.is_infinite() {
        return if (x < 1.0) == (y > 0.0) {
            0.0
        } else {
            f64::INFINITY
        };
    }
    let (ln_hi, ln_lo) = ln_double(x);
    let t = y * ln_hi;
    if t.abs() >= 746.0 {
        // Far beyond the range of `f64` either way (and `y` too large to split exactly).
        return exp(t);
    }
    // y · ln x = t_hi + t_lo, with |t_lo| ≤ ulp(t_hi), and e^(t_lo) = 1 + t_lo to 2⁻⁹⁰.
    let (p, p_lo) = two_product(y, ln_hi);
    let (t_hi, t_lo) = fast_two_sum(p, p_lo + y * ln_lo);
    let e = exp(t_hi);
    e + e * t_lo
}

/// √2, the top of the interval [`ln_double`] reduces its argument to.
const SQRT2: f64 = f64::from_bits(0x3ff6_a09e_667f_3bcd);

/// The natural logarithm of a positive finite `x` as a double-double `hi + lo`, good to
/// about 2⁻⁵⁹ relative: `x = 2^k (1 + f)` with `1 + f` in [√2/2, √2), and
/// `ln(1 + f) = 2s + s·R(s²)` with `s = f / (2 + f)` carried to double-double precision and
/// `R` the polynomial of [`ln`].
fn ln_double(x: f64) -> (f64, f64) {
    let (x, mut k) = if x < f64::MIN_POSITIVE {
        (x * TWO54, -54)
    } else {
        (x, 0)
    };
    let bits = x.to_bits();
    k += (bits >> 52) as i32 - 1023;
    // The significand in [1, 2), halved (exactly) when above √2.
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if m >= SQRT2 {
        m *= 0.5;
        k += 1;
    }
    let f = m - 1.0; // exact: m is within a factor 2 of 1
                     // s = f / (2 + f) + s_lo, with 2 + f = u + u_lo exactly.
    let u = 2.0 + f;
    let u_lo = f - (u - 2.0);
    let s = f / u;
    let (p, p_lo) = two_product(s, u);
    let s_lo = (((f - p) - p_lo) - s * u_lo) / u;
    // R(s²) with its leading term LG1·s² in double-double, then s·R likewise.
    let (z, z_lo) = two_product(s, s);
    let z_lo = z_lo + 2.0 * s * s_lo;
    let w = z * z;
    let rest = z * w * (LG3 + w * (LG5 + w * LG7)) + w * (LG2 + w * (LG4 + w * LG6));
    let (a, a_lo) = two_product(LG1, z);
    let (r, r_lo) = fast_two_sum(a, rest + (a_lo + LG1 * z_lo));
    let (q, q_lo) = two_product(s, r);
    let q_lo = q_lo + s * r_lo + s_lo * r;
    let dk = f64::from(k);
    // ln x = k·ln 2 + 2s + s·R; k·LN2_HI is exact (LN2_HI has 32 significant bits, k at
    // most 11).
    let (hi, lo) = two_sum(dk * LN2_HI, 2.0 * s);
    let (hi, lo2) = two_sum(hi, q);
    fast_two_sum(hi, lo + lo2 + (dk * LN2_LO + 2.0 * s_lo + q_lo))
}

/// `a + b = s + e` exactly, `s` the rounded sum (Knuth's two-sum).
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let b_virtual = s - a;
    (s, (a - (s - b_virtual)) + (b - b_virtual))
}

/// `a + b = s + e` exactly, `s` the rounded sum, when `|a| ≥ |b|` or `a` is 0 (Dekker).
fn fast_two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    (s, b - (s - a))
}

/// `a · b = p + e` exactly, `p` the rounded product (Dekker, with Veltkamp's split of each
/// factor into two 26-bit halves whose products are exact), for `|a|, |b|` below 2⁹⁹⁵.
fn two_product(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    let (a_hi, a_lo) = split(a);
    let (b_hi, b_lo) = split(b);
    let e = ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo;
    (p, e)
}

/// `a = hi + lo` with each half at most 26 significant bits (Veltkamp).
fn split(a: f64) -> (f64, f64) {
    const SPLITTER: f64 = 134_217_729.0; // 2²⁷ + 1
    let t = SPLITTER * a;
    let hi = t - (t - a);
    (hi, a - hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic source of uniform numbers on [0, 1) (SplitMix64), so that the
    /// accuracy tests below sample the same points everywhere.
    struct Uniform(u64);

    impl Uniform {
        fn f64(&mut self) -> f64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            ((z ^ (z >> 31)) >> 11) as f64 * TWO_POW_M53
        }

        /// On the open interval (0, 1): the midpoints of the 53-bit grid.
        fn open01(&mut self) -> f64 {
            self.f64() + TWO_POW_M53 / 2.0
        }
    }

    /// 2⁻⁵³: the spacing of the 53-bit uniform grid on [0, 1).
    const TWO_POW_M53: f64 = 1.0 / 9_007_199_254_740_992.0;

    /// Distance in units in the last place.
    fn ulps(a: f64, b: f64) -> u64 {
        if a == b {
            return 0;
        }
        (a.to_bits() as i64).abs_diff(b.to_bits() as i64)
    }

    #[test]
    fn portable_ln_matches_std_within_one_ulp() {
        let mut r = Uniform(12);
        let mut worst = 0;
        for _ in 0..200_000 {
            // Log-uniform over the whole normal range, plus the (0, 1) grid we actually use.
            let x = exp(r.f64() * 1400.0 - 700.0);
            worst = worst.max(ulps(ln(x), x.ln()));
            let u = r.open01();
            worst = worst.max(ulps(ln(u), u.ln()));
            let near_one = 1.0 + (r.f64() - 0.5) * 1e-5;
            worst = worst.max(ulps(ln(near_one), near_one.ln()));
        }
        assert!(worst <= 1, "worst {worst} ulps");
        assert_eq!(ln(1.0), 0.0);
        assert_eq!(ln(0.0), f64::NEG_INFINITY);
        assert!(ln(-1.0).is_nan());
        assert!(ln(f64::NAN).is_nan());
        assert_eq!(ln(f64::INFINITY), f64::INFINITY);
        assert_eq!(
            ulps(ln(f64::MIN_POSITIVE / 8.0), (f64::MIN_POSITIVE / 8.0).ln()),
            0
        );
        assert_eq!(ulps(ln(TWO_POW_M53 / 2.0), (TWO_POW_M53 / 2.0).ln()), 0);
    }

    #[test]
    fn portable_exp_matches_std_within_one_ulp() {
        let mut r = Uniform(13);
        let mut worst = 0;
        for _ in 0..200_000 {
            let x = r.f64() * 1450.0 - 740.0;
            worst = worst.max(ulps(exp(x), x.exp()));
            let small = (r.f64() - 0.5) * 2.0;
            worst = worst.max(ulps(exp(small), small.exp()));
        }
        assert!(worst <= 1, "worst {worst} ulps");
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(1e-30), 1.0);
        assert_eq!(exp(800.0), f64::INFINITY);
        assert_eq!(exp(-800.0), 0.0);
        assert_eq!(exp(f64::INFINITY), f64::INFINITY);
        assert_eq!(exp(f64::NEG_INFINITY), 0.0);
        assert!(exp(f64::NAN).is_nan());
    }

    #[test]
    fn portable_pow_matches_std() {
        let mut r = Uniform(14);
        // Worst ulps for |y ln x| up to 1, 40 and 700: 1 ulp, then the logarithm's 2⁻⁵⁹ grows
        // with y.
        let limits = [1.0, 40.0, 700.0];
        let mut worst = [0u64; 3];
        for _ in 0..100_000 {
            let x = exp(r.f64() * 100.0 - 50.0);
            let lnx = x.ln().abs().max(1e-300);
            for (w, limit) in worst.iter_mut().zip(limits) {
                let y = (r.f64() * 2.0 - 1.0) * limit / lnx;
                let want = x.powf(y);
                if want.is_normal() {
                    *w = (*w).max(ulps(pow(x, y), want));
                }
            }
        }
        assert!(
            worst[0] <= 1 && worst[1] <= 1 && worst[2] <= 8,
            "worst {worst:?} ulps"
        );
        // The simulator's use, (1 − k/E)^tokens: within 1 ulp where the result still
        // matters beside 1 (|tokens · ln(1 − k/E)| ≤ 40).
        let mut worst = 0;
        for _ in 0..100_000 {
            let miss = 1.0 - (1.0 + (r.f64() * 16.0).floor()) / 256.0;
            let tokens = (r.f64() * 8192.0).floor();
            if tokens * miss.ln().abs() <= 40.0 {
                worst = worst.max(ulps(pow(miss, tokens), miss.powf(tokens)));
            }
        }
        assert!(worst <= 1, "worst {worst} ulps");
    }

    #[test]
    fn portable_pow_special_cases() {
        let nan = f64::NAN;
        let inf = f64::INFINITY;
        for (x, y, want) in [
            (nan, 0.0, 1.0),
            (1.0, nan, 1.0),
            (2.0, 10.0, 1024.0),
            (2.0, -2.0, 0.25),
            (-2.0, 3.0, -8.0),
            (-2.0, 2.0, 4.0),
            (0.0, 2.0, 0.0),
            (0.0, -1.0, inf),
            (-0.0, -1.0, -inf),
            (-0.0, 0.5, 0.0),
            (inf, 2.0, inf),
            (inf, -2.0, 0.0),
            (0.5, inf, 0.0),
            (0.5, -inf, inf),
            (2.0, inf, inf),
            (-1.0, inf, 1.0),
            (10.0, 400.0, inf),
            (10.0, -400.0, 0.0),
            (1.0 + 1e-15, 1e300, inf),
        ] {
            let got = pow(x, y);
            assert!(
                got == want && got.is_sign_negative() == want.is_sign_negative(),
                "{x}^{y} = {got}, not {want}"
            );
        }
        assert!(pow(-2.0, 0.5).is_nan());
        assert!(pow(nan, 1.0).is_nan());
        assert!(pow(2.0, nan).is_nan());
        assert_eq!(pow(0.937_5, 3.0), 0.937_5 * 0.937_5 * 0.937_5);
        assert!(ulps(pow(9.0, 0.5), 3.0) <= 1);
    }
}

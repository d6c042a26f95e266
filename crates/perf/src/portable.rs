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
//! then a minimax polynomial; both are within 1 ulp of the true values.

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
}

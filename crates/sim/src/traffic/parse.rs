//! The `kind[:key=value,…]` strings that length distributions and arrival processes parse from.

use super::error::TrafficError;
use inferplan_plan::error::shown;

/// Splits `s` as a [`Spec`] and builds a value from it; a message from either step becomes a
/// [`TrafficError::Parse`] that quotes the input.
pub(super) fn parse_with<T>(
    s: &str,
    what: &'static str,
    build: impl FnOnce(&Spec) -> Result<T, String>,
) -> Result<T, TrafficError> {
    Spec::parse(s)
        .and_then(|spec| build(&spec))
        .map_err(|message| TrafficError::Parse {
            what,
            input: shown(s),
            message,
        })
}

/// `kind[:key=value,…]`, split but not interpreted.
pub(super) struct Spec<'a> {
    pub(super) kind: &'a str,
    pub(super) pairs: Vec<(&'a str, &'a str)>,
}

pub(super) const NOT_WHOLE: &str = "is not a whole number of tokens";

impl<'a> Spec<'a> {
    fn parse(s: &'a str) -> Result<Spec<'a>, String> {
        let s = s.trim();
        let (kind, rest) = match s.split_once(':') {
            Some((kind, rest)) => (kind.trim(), rest),
            None => (s, ""),
        };
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        if !rest.trim().is_empty() {
            for part in rest.split(',') {
                let part = part.trim();
                let (key, value) = part
                    .split_once('=')
                    .ok_or_else(|| format!("expected `key=value`, found `{}`", shown(part)))?;
                let (key, value) = (key.trim(), value.trim());
                if key.is_empty() {
                    return Err(format!("missing key before `={}`", shown(value)));
                }
                if pairs.iter().any(|(k, _)| k.eq_ignore_ascii_case(key)) {
                    return Err(format!("`{}` is given twice", shown(key)));
                }
                pairs.push((key, value));
            }
        }
        Ok(Spec { kind, pairs })
    }

    /// Refuses keys outside `keys`.
    pub(super) fn allow(&self, keys: &[&str], usage: &str) -> Result<(), String> {
        match self
            .pairs
            .iter()
            .find(|(k, _)| !keys.iter().any(|known| known.eq_ignore_ascii_case(k)))
        {
            Some((key, _)) => Err(format!("unknown key `{}` (expected `{usage}`)", shown(key))),
            None => Ok(()),
        }
    }

    pub(super) fn get(&self, key: &str) -> Option<&'a str> {
        self.pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| *v)
    }

    pub(super) fn required(&self, key: &str, usage: &str) -> Result<&'a str, String> {
        self.get(key)
            .ok_or_else(|| format!("missing key `{key}` (expected `{usage}`)"))
    }

    pub(super) fn number(&self, key: &str, usage: &str) -> Result<f64, String> {
        parse_number(key, self.required(key, usage)?)
    }

    pub(super) fn number_or(&self, key: &str, default: f64) -> Result<f64, String> {
        self.get(key)
            .map_or(Ok(default), |text| parse_number(key, text))
    }

    pub(super) fn whole(&self, key: &str, usage: &str) -> Result<u32, String> {
        let text = self.required(key, usage)?;
        parse_whole(text).ok_or_else(|| format!("`{key}`: `{}` {NOT_WHOLE}", shown(text)))
    }
}

/// A finite number.
pub(super) fn parse_number(key: &str, text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err(format!("`{key}`: `{}` is not a finite number", shown(text))),
    }
}

/// Whole tokens: decimal digits only, within `u32`.
pub(super) fn parse_whole(text: &str) -> Option<u32> {
    let digits = text.strip_prefix('+').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Whether a kind is meant as a number (`800`, `-3`, `1.5`, `.5`).
pub(super) fn looks_numeric(kind: &str) -> bool {
    kind.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | '.'))
}

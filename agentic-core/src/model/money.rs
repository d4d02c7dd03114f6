//! Money as an integer count of nano-US-dollars.
//!
//! Floats cannot represent cents exactly and drift when summed; an `i64` of nano-USD holds ±9.2 billion dollars with
//! exact addition. At the API's edges money is a decimal string (`"12.50"`), never a JSON float.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

const NANOS_PER_USD: i64 = 1_000_000_000;

/// An amount of US dollars, exact to the nano-dollar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, ToSchema)]
#[schema(value_type = String, example = "12.50")]
pub struct Money(i64);

/// A decimal amount that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a USD amount: {reason}")]
pub struct MoneyParseError {
    input: String,
    reason: &'static str,
}

impl Money {
    /// Zero dollars.
    pub const ZERO: Money = Money(0);
    /// The largest amount.
    pub const MAX: Money = Money(i64::MAX);

    /// From a count of nano-dollars.
    pub const fn from_nanos(nanos: i64) -> Self {
        Self(nanos)
    }

    /// From whole dollars, or `None` on overflow.
    pub const fn from_usd(usd: i64) -> Option<Self> {
        match usd.checked_mul(NANOS_PER_USD) {
            Some(n) => Some(Self(n)),
            None => None,
        }
    }

    /// The count of nano-dollars.
    pub const fn nanos(self) -> i64 {
        self.0
    }

    /// Sum, or `None` on overflow.
    pub const fn checked_add(self, other: Money) -> Option<Money> {
        match self.0.checked_add(other.0) {
            Some(n) => Some(Money(n)),
            None => None,
        }
    }

    /// Sum, or [`MoneyOverflow`]: spending is never silently dropped.
    pub const fn try_add(self, other: Money) -> Result<Money, MoneyOverflow> {
        match self.0.checked_add(other.0) {
            Some(n) => Ok(Money(n)),
            None => Err(MoneyOverflow),
        }
    }

    /// Difference, or `None` on overflow.
    pub const fn checked_sub(self, other: Money) -> Option<Money> {
        match self.0.checked_sub(other.0) {
            Some(n) => Some(Money(n)),
            None => None,
        }
    }

    /// Whether the amount is below zero.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }
}

impl fmt::Display for Money {
    /// Decimal dollars with at least two and at most nine fractional digits: `12.50`, `0.000003`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let whole = abs / NANOS_PER_USD as u64;
        let frac = abs % NANOS_PER_USD as u64;
        let mut digits = format!("{frac:09}");
        while digits.len() > 2 && digits.ends_with('0') {
            digits.pop();
        }
        write!(f, "{sign}{whole}.{digits}")
    }
}

impl FromStr for Money {
    type Err = MoneyParseError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |reason| MoneyParseError { input: input.to_owned(), reason };
        let s = input.trim();
        let (negative, s) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err("expected digits, optionally followed by '.' and up to 9 digits"));
        }
        if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err("at most 9 fractional digits"));
        }
        let whole: i64 = whole.parse().map_err(|_| err("too large"))?;
        let frac_nanos: i64 = if frac.is_empty() {
            0
        } else {
            let scale = 10_i64.pow(9 - frac.len() as u32);
            frac.parse::<i64>().map_err(|_| err("bad fraction"))? * scale
        };
        let nanos =
            whole.checked_mul(NANOS_PER_USD).and_then(|w| w.checked_add(frac_nanos)).ok_or_else(|| err("too large"))?;
        Ok(Money(if negative { -nanos } else { nanos }))
    }
}

impl Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    /// Accepts a decimal string (`"12.50"`) or a JSON integer of whole dollars; floats are refused because they
    /// have already lost precision by the time they reach us.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Money;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal USD amount as a string, e.g. \"12.50\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Money, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Money, E> {
                Money::from_usd(v).ok_or_else(|| E::custom("amount too large"))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Money, E> {
                i64::try_from(v).ok().and_then(Money::from_usd).ok_or_else(|| E::custom("amount too large"))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// A sum of money beyond what [`Money`] can hold (about 9.2 billion USD).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the amount of money is too large to represent")]
pub struct MoneyOverflow;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_format() {
        let check = |input: &str, nanos: Option<i64>, shown: &str| {
            let parsed = input.parse::<Money>().ok();
            assert_eq!(parsed.map(Money::nanos), nanos, "{input}");
            if let Some(m) = parsed {
                assert_eq!(m.to_string(), shown, "{input}");
            }
        };
        check("12.5", Some(12_500_000_000), "12.50");
        check("0.000000001", Some(1), "0.000000001");
        check("100", Some(100_000_000_000), "100.00");
        check("-3.25", Some(-3_250_000_000), "-3.25");
        check("1.0000000001", None, "");
        check("abc", None, "");
        check(".5", None, "");
        check("99999999999999999999", None, "");
    }

    #[test]
    fn serde_refuses_floats() {
        assert_eq!(serde_json::from_str::<Money>("\"1.25\"").unwrap().nanos(), 1_250_000_000);
        assert_eq!(serde_json::from_str::<Money>("7").unwrap().nanos(), 7_000_000_000);
        assert!(serde_json::from_str::<Money>("1.25").is_err());
        assert_eq!(serde_json::to_string(&Money::from_nanos(1_500_000_000)).unwrap(), "\"1.50\"");
    }
}

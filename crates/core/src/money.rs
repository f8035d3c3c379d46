//! Money as fixed-point integers: never binary floating point.
//!
//! Four decimal places (1 unit = 0.0001) because real price lists carry sub-cent prices (the UCI
//! Online Retail data has prices such as 0.001 GBP) and a line total of quantity x unit price must
//! be exact. `i64` at this scale holds +-922 trillion, ample for any ledger here.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, AddAssign, Sub};

pub const SCALE: i64 = 10_000;
const DECIMALS: usize = 4;

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);

    /// From the stored representation (ten-thousandths).
    pub const fn from_e4(units: i64) -> Self {
        Money(units)
    }

    pub const fn e4(self) -> i64 {
        self.0
    }

    pub fn from_major(major: i64) -> Self {
        Money(major * SCALE)
    }

    /// Parses a plain decimal such as `12`, `-3.5`, `0.001`. Thousands separators, currency symbols
    /// and exponents are refused rather than guessed at; more than four decimals is an error, not
    /// a silent rounding.
    pub fn parse(s: &str) -> Result<Money, String> {
        let t = s.trim();
        let (neg, digits) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        if int.is_empty() && frac.is_empty() {
            return Err(format!("'{s}' is not a decimal number"));
        }
        if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("'{s}' is not a decimal number"));
        }
        if frac.len() > DECIMALS {
            return Err(format!("'{s}' has more than {DECIMALS} decimal places"));
        }
        let int_v: i64 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| format!("'{s}' is too large"))?
        };
        let mut frac_v: i64 = 0;
        for (i, b) in frac.bytes().enumerate() {
            frac_v += i64::from(b - b'0') * 10_i64.pow((DECIMALS - 1 - i) as u32);
        }
        let v = int_v
            .checked_mul(SCALE)
            .and_then(|v| v.checked_add(frac_v))
            .ok_or_else(|| format!("'{s}' is too large"))?;
        Ok(Money(if neg { -v } else { v }))
    }

    /// quantity x unit price, exact; `None` on overflow.
    pub fn times(self, quantity: i64) -> Option<Money> {
        self.0.checked_mul(quantity).map(Money)
    }

    /// The amount as a float, for analytics only (never stored).
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / SCALE as f64
    }

    /// Exact division by a count, rounded half away from zero to the 4th decimal.
    pub fn div_round(self, n: i64) -> Money {
        if n == 0 {
            return Money::ZERO;
        }
        let q = self.0 / n;
        let r = self.0 % n;
        if (r.abs() * 2) >= n.abs() { Money(q + self.0.signum() * n.signum()) } else { Money(q) }
    }
}

impl fmt::Display for Money {
    /// Shortest exact form with at least two decimals: `2.55`, `0.001`, `-12.00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let int = abs / SCALE as u64;
        let mut frac = format!("{:04}", abs % SCALE as u64);
        while frac.len() > 2 && frac.ends_with('0') {
            frac.pop();
        }
        write!(f, "{sign}{int}.{frac}")
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, o: Money) -> Money {
        Money(self.0 + o.0)
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, o: Money) {
        self.0 += o.0;
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, o: Money) -> Money {
        Money(self.0 - o.0)
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        Money(iter.map(|m| m.0).sum())
    }
}

/// ISO 4217-shaped currency code: three ASCII letters, stored upper-case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(String);

impl Currency {
    pub fn parse(s: &str) -> Result<Currency, String> {
        let t = s.trim();
        if t.len() == 3 && t.bytes().all(|b| b.is_ascii_alphabetic()) {
            Ok(Currency(t.to_ascii_uppercase()))
        } else {
            Err(format!("'{s}' is not a three-letter currency code"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Currency {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Currency::parse(&s)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.0
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_exactly() {
        for (input, e4, shown) in [
            ("2.55", 25_500, "2.55"),
            ("0.001", 10, "0.001"),
            ("-11062.06", -110_620_600, "-11062.06"),
            ("12", 120_000, "12.00"),
            (".5", 5_000, "0.50"),
            ("+3.1234", 31_234, "3.1234"),
        ] {
            let m = Money::parse(input).unwrap();
            assert_eq!(m.e4(), e4, "{input}");
            assert_eq!(m.to_string(), shown, "{input}");
            assert_eq!(Money::parse(&m.to_string()).unwrap(), m);
        }
    }

    #[test]
    fn refuses_what_it_would_have_to_guess() {
        for bad in ["", "-", "1,000.00", "$5", "1e3", "0.00001", "abc", "1.2.3"] {
            assert!(Money::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn line_totals_are_exact() {
        let p = Money::parse("0.001").unwrap();
        assert_eq!(p.times(3).unwrap().to_string(), "0.003");
        assert_eq!(Money::parse("1.00").unwrap().div_round(3).e4(), 3_333);
        assert_eq!(Money::parse("2.00").unwrap().div_round(3).e4(), 6_667);
    }
}

/// Money as a decimal string in JSON (`"25.50"`), for documents people read and write (the
/// API, ledger entries); numbers are taken too. Stored amounts elsewhere stay integers.
pub mod decimal {
    use super::Money;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(m: &Money, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(m)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Money, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Text(String),
            Number(f64),
        }
        let text = match Written::deserialize(d)? {
            Written::Text(t) => t,
            Written::Number(n) => n.to_string(),
        };
        Money::parse(&text).map_err(serde::de::Error::custom)
    }
}

//! Turns filter text into tokens with their byte spans.

use super::error::{FilterError, Span};
use chrono::NaiveDate;

/// A duration unit: `h` hours, `d` days, `w` weeks, `m` months (30 days), `y` years (365 days).
pub const UNITS: &[(char, f64)] =
    &[('h', 1.0 / 24.0), ('d', 1.0), ('w', 7.0), ('m', 30.0), ('y', 365.0)];

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A name or keyword, as written.
    Ident(String),
    Str(String),
    Number(f64),
    /// A duration in days.
    Duration(f64),
    Date(NaiveDate),
    LParen,
    RParen,
    Comma,
    Dot,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Eof,
}

impl Tok {
    /// How the token is named in "expected ..., found ..." messages.
    pub fn describe(&self, src: &str, span: Span) -> String {
        match self {
            Tok::Eof => "the end of the filter".into(),
            Tok::Str(_) => "a string".into(),
            _ => format!("`{}`", src.get(span.start..span.end).unwrap_or("?")),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
}

/// The tokens of `src`, ending with [`Tok::Eof`].
pub fn lex(src: &str) -> Result<Vec<Token>, FilterError> {
    let mut out = Vec::new();
    let bytes = src.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = src[i..].chars().next().expect("i is a char boundary");
        let start = i;
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        let next = bytes.get(i + 1).copied();
        let (tok, len) = match c {
            '(' => (Tok::LParen, 1),
            ')' => (Tok::RParen, 1),
            ',' => (Tok::Comma, 1),
            '.' => (Tok::Dot, 1),
            '=' if next == Some(b'=') => (Tok::Eq, 2),
            '=' => (Tok::Eq, 1),
            '!' if next == Some(b'=') => (Tok::Ne, 2),
            '<' if next == Some(b'>') => (Tok::Ne, 2),
            '<' if next == Some(b'=') => (Tok::Le, 2),
            '<' => (Tok::Lt, 1),
            '>' if next == Some(b'=') => (Tok::Ge, 2),
            '>' => (Tok::Gt, 1),
            '"' | '\'' => string(src, i)?,
            '0'..='9' => number(src, i)?,
            '-' if next.is_some_and(|b| b.is_ascii_digit()) => number(src, i)?,
            c if c.is_alphabetic() || c == '_' => {
                let len = src[i..].find(|c: char| !is_ident_char(c)).unwrap_or(src.len() - i);
                (Tok::Ident(src[i..i + len].to_string()), len)
            }
            _ => {
                let span = Span::new(i, i + c.len_utf8());
                return Err(FilterError::new(src, span, format!("unexpected character `{c}`")));
            }
        };
        i += len;
        out.push(Token { tok, span: Span::new(start, i) });
    }
    out.push(Token { tok: Tok::Eof, span: Span::new(src.len(), src.len()) });
    Ok(out)
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// A string in double or single quotes with `\"`, `\'`, `\\`, `\n`, `\t`, `\r`, `\u{XXXX}`.
fn string(src: &str, start: usize) -> Result<(Tok, usize), FilterError> {
    let quote = src.as_bytes()[start] as char;
    let mut out = String::new();
    let mut chars = src[start + 1..].char_indices();
    while let Some((j, c)) = chars.next() {
        let at = start + 1 + j;
        match c {
            c if c == quote => return Ok((Tok::Str(out), at + 1 - start)),
            '\\' => {
                let (_, e) = chars.next().ok_or_else(|| unterminated(src, start))?;
                let bad = |len: usize| {
                    let span = Span::new(at, (at + len).min(src.len()));
                    FilterError::new(
                        src,
                        span,
                        "unknown escape; use \\\", \\', \\\\, \\n, \\t, \\r or \\u{...}",
                    )
                };
                out.push(match e {
                    '"' | '\'' | '\\' => e,
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    'u' => {
                        let rest = &src[at + 2..];
                        let close = rest.find('}').filter(|_| rest.starts_with('{'));
                        let close = close.ok_or_else(|| bad(2))?;
                        let ch =
                            u32::from_str_radix(&rest[1..close], 16).ok().and_then(char::from_u32);
                        let ch = ch.ok_or_else(|| bad(close + 3))?;
                        for _ in 0..close + 1 {
                            chars.next();
                        }
                        ch
                    }
                    _ => return Err(bad(1 + e.len_utf8())),
                });
            }
            c => out.push(c),
        }
    }
    Err(unterminated(src, start))
}

fn unterminated(src: &str, start: usize) -> FilterError {
    FilterError::new(src, Span::new(start, start + 1), "unterminated string; close it with a quote")
}

/// A number (`42`, `-0.5`), a duration (`30d`, `1.5w`) or a date (`2026-01-31`).
fn number(src: &str, start: usize) -> Result<(Tok, usize), FilterError> {
    let rest = &src[start..];
    let b = rest.as_bytes();
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let sign = usize::from(b[0] == b'-');
    let int = digits(sign);
    let is_date = sign == 0 && int == 4 && b.get(4) == Some(&b'-');
    if is_date {
        let len = rest.find(|c: char| !(c.is_ascii_digit() || c == '-')).unwrap_or(rest.len());
        let span = Span::new(start, start + len);
        return match NaiveDate::parse_from_str(&rest[..len], "%Y-%m-%d") {
            Ok(d) if len == 10 => Ok((Tok::Date(d), len)),
            _ => Err(FilterError::new(
                src,
                span,
                "not a date; write dates as YYYY-MM-DD, e.g. 2026-01-31",
            )),
        };
    }
    let mut len = sign + int;
    if b.get(len) == Some(&b'.') {
        let frac = digits(len + 1);
        if frac == 0 {
            let span = Span::new(start, start + len + 1);
            return Err(FilterError::new(
                src,
                span,
                "a number needs digits after the decimal point",
            ));
        }
        len += 1 + frac;
    }
    let value: f64 = rest[..len].parse().expect("digits with an optional point parse");
    let suffix = rest[len..].find(|c: char| !is_ident_char(c)).unwrap_or(rest.len() - len);
    if suffix == 0 {
        return Ok((Tok::Number(value), len));
    }
    let unit = &rest[len..len + suffix];
    let span = Span::new(start, start + len + suffix);
    let mut u = unit.chars();
    let factor = match (u.next(), u.next()) {
        (Some(c), None) => UNITS.iter().find(|(k, _)| *k == c.to_ascii_lowercase()).map(|u| u.1),
        _ => None,
    };
    match factor {
        Some(f) => Ok((Tok::Duration(value * f), len + suffix)),
        None => Err(FilterError::new(
            src,
            span,
            format!("unknown unit `{unit}`; durations end in h, d, w, m (30 days) or y, e.g. 30d"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn tokens() {
        assert_eq!(
            toks(r#"a.b >= -1.5 != "x\"y\u{e9}" 12w 2026-01-31 <>"#),
            [
                Tok::Ident("a".into()),
                Tok::Dot,
                Tok::Ident("b".into()),
                Tok::Ge,
                Tok::Number(-1.5),
                Tok::Ne,
                Tok::Str("x\"yé".into()),
                Tok::Duration(84.0),
                Tok::Date(NaiveDate::from_ymd_opt(2026, 1, 31).unwrap()),
                Tok::Ne,
                Tok::Eof
            ]
        );
        assert_eq!(toks("24h 'it'")[0], Tok::Duration(1.0));
    }

    #[test]
    fn lexical_errors_point_at_the_culprit() {
        let e = lex("x = \"abc").unwrap_err();
        assert_eq!(e.span, Span::new(4, 5));
        assert_eq!(lex("x = 5 § 2").unwrap_err().message, "unexpected character `§`");
        assert_eq!(lex("2026-13-01").unwrap_err().span, Span::new(0, 10));
        assert!(lex("x < 3q").unwrap_err().message.starts_with("unknown unit `q`"));
        assert!(lex(r#""\u{zz}""#).is_err());
        assert!(lex(r#""\u{110000}""#).is_err());
    }
}

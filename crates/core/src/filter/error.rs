//! Filter errors: where (byte offset, line and column), what, what was expected, and a
//! suggestion, rendered with the offending line and a caret under the offending token.

use std::fmt;

/// A byte range of the filter text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// From the start of `self` to the end of `other`.
    pub fn to(self, other: Span) -> Span {
        Span { start: self.start, end: other.end.max(self.start) }
    }
}

/// Why a filter was refused. [`fmt::Display`] renders the full message:
///
/// ```text
/// unknown field `last_purchse_days`; did you mean `last_purchase_days`? (line 1, column 20, byte 19)
///   country = "DE" and last_purchse_days < 90
///                      ^^^^^^^^^^^^^^^^^
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    /// The problem in one sentence, including any suggestion.
    pub message: String,
    /// The offending token.
    pub span: Span,
    /// What the parser would have accepted at `span`, as written in filters (`and`, `)`...).
    pub expected: Vec<String>,
    /// The nearest known name, for an unknown one.
    pub suggestion: Option<String>,
    source: String,
}

impl FilterError {
    pub fn new(source: &str, span: Span, message: impl Into<String>) -> FilterError {
        FilterError {
            message: message.into(),
            span,
            expected: Vec::new(),
            suggestion: None,
            source: source.to_string(),
        }
    }

    /// An unknown name: the message gains "did you mean `x`?" when a known name is close.
    pub fn unknown<'a>(
        source: &str,
        span: Span,
        what: &str,
        name: &str,
        known: impl IntoIterator<Item = &'a str>,
    ) -> FilterError {
        let suggestion = closest(name, known);
        let mut message = format!("unknown {what} `{name}`");
        if let Some(s) = &suggestion {
            message.push_str(&format!("; did you mean `{s}`?"));
        }
        FilterError { suggestion, ..FilterError::new(source, span, message) }
    }

    pub fn with_expected(mut self, expected: &[&str]) -> FilterError {
        self.expected = expected.iter().map(|s| s.to_string()).collect();
        self
    }

    /// The 1-based line and column (in characters) of the span's start.
    pub fn line_column(&self) -> (usize, usize) {
        let start = floor_boundary(&self.source, self.span.start);
        let before = &self.source[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[line_start..].chars().count() + 1)
    }

    /// The offending line and a caret line under the span, each indented by two spaces.
    pub fn excerpt(&self) -> String {
        let src = &self.source;
        let start = floor_boundary(src, self.span.start);
        let line_start = src[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = src[start..].find('\n').map_or(src.len(), |i| start + i);
        let end = floor_boundary(src, self.span.end.clamp(start, line_end));
        let line: Vec<char> = src[line_start..line_end]
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let pad = src[line_start..start].chars().count();
        let width = src[start..end].chars().count().max(1);
        // A long line is cut to a window around the token, marked with "...".
        let from = pad.saturating_sub(EXCERPT_WIDTH / 2).min(line.len());
        let to = (from + EXCERPT_WIDTH).min(line.len());
        let prefix = if from > 0 { "..." } else { "" };
        let suffix = if to < line.len() { "..." } else { "" };
        let text: String = line[from..to].iter().collect();
        let shown = format!("{prefix}{text}{suffix}");
        let pad = pad - from + prefix.len();
        let width = width.min((prefix.len() + to - from).saturating_sub(pad)).max(1);
        format!("  {}\n  {}{}", shown.trim_end(), " ".repeat(pad), "^".repeat(width))
    }
}

/// Characters of a long line shown around the offending token.
const EXCERPT_WIDTH: usize = 100;

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (line, column) = self.line_column();
        writeln!(f, "{} (line {line}, column {column}, byte {})", self.message, self.span.start)?;
        f.write_str(&self.excerpt())
    }
}

impl std::error::Error for FilterError {}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The known name nearest to `name` (case-insensitive optimal string alignment distance ≤ 2,
/// and less than the name's length), ties going to the first listed.
pub fn closest<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let lower = name.to_lowercase();
    let limit = 2.min(lower.chars().count().saturating_sub(1));
    known
        .into_iter()
        .map(|k| (edit_distance(&lower, &k.to_lowercase()), k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k.to_string())
}

/// Damerau–Levenshtein distance, optimal string alignment variant (an adjacent swap costs 1).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let w = b.len() + 1;
    let mut d: Vec<usize> = vec![0; (a.len() + 1) * w];
    for i in 0..=a.len() {
        for j in 0..=b.len() {
            d[i * w + j] = if i == 0 || j == 0 {
                i + j
            } else {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                let mut v = (d[(i - 1) * w + j] + 1)
                    .min(d[i * w + j - 1] + 1)
                    .min(d[(i - 1) * w + j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    v = v.min(d[(i - 2) * w + j - 2] + 1);
                }
                v
            };
        }
    }
    d[a.len() * w + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("ab", "ba"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(closest("contry", ["country", "city"]), Some("country".into()));
        assert_eq!(closest("zz", ["id"]), None);
    }

    #[test]
    fn excerpt_marks_the_span_on_its_line() {
        let e = FilterError::new("a = 1 and\n  éb = 2", Span::new(12, 15), "bad");
        assert_eq!(e.line_column(), (2, 3));
        assert_eq!(e.to_string(), "bad (line 2, column 3, byte 12)\n    éb = 2\n    ^^");
    }

    #[test]
    fn long_lines_are_cut_around_the_token() {
        let src = format!("{}zz{}", "a".repeat(200), "b".repeat(200));
        let e = FilterError::new(&src, Span::new(200, 202), "bad");
        let want =
            format!("  ...{}zz{}...\n  {}^^", "a".repeat(50), "b".repeat(48), " ".repeat(53));
        assert_eq!(e.excerpt(), want);
        let e = FilterError::new(&src, Span::new(350, 402), "bad");
        assert!(e.excerpt().ends_with(&format!("{}{}", " ".repeat(53), "^".repeat(50))));
    }
}

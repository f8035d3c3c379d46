//! Recursive descent over the tokens; see the grammar in the module docs.

use super::ast::{CmpOp, Expr, Operand, Window};
use super::check::{self, Literal};
use super::error::{FilterError, Span};
use super::lexer::{Tok, Token};
use super::schema::{FIELDS, FUNCTIONS, Field};
use crate::Purpose;

/// Parentheses and `not`s nest at most this deep (the parser recurses on them).
pub const MAX_DEPTH: usize = 32;

const PREDICATE_START: &[&str] =
    &["a field", "attr.<name>", "consent(...)", "did(...)", "events(...)", "not", "("];
const COMPARISONS: &[&str] =
    &["=", "!=", "<", "<=", ">", ">=", "in", "not in", "between", "is null", "is not null"];
const KEYWORDS: &[&str] = &["and", "or", "not", "in", "between", "is", "null", "true", "false"];

pub struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    pub fn new(src: &'a str, toks: Vec<Token>) -> Parser<'a> {
        Parser { src, toks, pos: 0, depth: 0 }
    }

    /// filter = or_expr EOF
    pub fn filter(&mut self) -> Result<Expr, FilterError> {
        let e = self.or_expr()?;
        if self.peek().tok != Tok::Eof {
            return Err(self.unexpected(&["and", "or", "the end of the filter"]));
        }
        Ok(e)
    }

    fn peek(&self) -> &Token {
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if t.tok != Tok::Eof {
            self.pos += 1;
        }
        t
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(&self.peek().tok, Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        let yes = self.is_kw(kw);
        if yes {
            self.pos += 1;
        }
        yes
    }

    fn expect(&mut self, tok: Tok, name: &str) -> Result<Token, FilterError> {
        if self.peek().tok == tok { Ok(self.bump()) } else { Err(self.unexpected(&[name])) }
    }

    fn expect_kw(&mut self, kw: &str) -> Result<(), FilterError> {
        if self.eat_kw(kw) { Ok(()) } else { Err(self.unexpected(&[kw])) }
    }

    /// "expected `a`, `b` or `c`, found `x`" at the current token.
    fn unexpected(&self, expected: &[&str]) -> FilterError {
        let t = self.peek();
        let names: Vec<String> = expected.iter().map(|e| quote(e)).collect();
        let list = match names.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        };
        let found = t.tok.describe(self.src, t.span);
        FilterError::new(self.src, t.span, format!("expected {list}, found {found}"))
            .with_expected(expected)
    }

    fn nest(&mut self) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let span = self.peek().span;
            return Err(FilterError::new(
                self.src,
                span,
                format!("the filter nests deeper than {MAX_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    /// or_expr = and_expr { "or" and_expr }
    fn or_expr(&mut self) -> Result<Expr, FilterError> {
        let mut terms = vec![self.and_expr()?];
        while self.eat_kw("or") {
            terms.push(self.and_expr()?);
        }
        Ok(if terms.len() == 1 { terms.pop().expect("one term") } else { Expr::Or(terms) })
    }

    /// and_expr = not_expr { "and" not_expr }
    fn and_expr(&mut self) -> Result<Expr, FilterError> {
        let mut terms = vec![self.not_expr()?];
        while self.eat_kw("and") {
            terms.push(self.not_expr()?);
        }
        Ok(if terms.len() == 1 { terms.pop().expect("one term") } else { Expr::And(terms) })
    }

    /// not_expr = "not" not_expr | "(" or_expr ")" | predicate
    fn not_expr(&mut self) -> Result<Expr, FilterError> {
        if self.is_kw("not") {
            self.nest()?;
            self.bump();
            let e = self.not_expr()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(e)));
        }
        if self.peek().tok == Tok::LParen {
            self.nest()?;
            self.bump();
            let e = self.or_expr()?;
            if self.peek().tok != Tok::RParen {
                return Err(self.unexpected(&["and", "or", ")"]));
            }
            self.bump();
            self.depth -= 1;
            return Ok(e);
        }
        self.predicate()
    }

    /// predicate = consent | did | operand comparison
    fn predicate(&mut self) -> Result<Expr, FilterError> {
        let t = self.peek().clone();
        let Tok::Ident(name) = &t.tok else {
            return Err(self.unexpected(PREDICATE_START));
        };
        let lower = name.to_ascii_lowercase();
        if KEYWORDS.contains(&lower.as_str()) {
            return Err(self.unexpected(PREDICATE_START));
        }
        self.bump();
        if self.peek().tok == Tok::LParen {
            return match lower.as_str() {
                "consent" => self.consent(t.span),
                "did" => {
                    let (event, within, span) = self.event_args(t.span, "did")?;
                    Ok(Expr::Did { event, within, span })
                }
                "events" => {
                    let (event, within, span) = self.event_args(t.span, "events")?;
                    self.comparison(Operand::Events { event, within }, span)
                }
                _ => Err(FilterError::unknown(
                    self.src,
                    t.span,
                    "function",
                    name,
                    FUNCTIONS.iter().map(|f| f.0),
                )),
            };
        }
        if lower == "attr" && self.peek().tok == Tok::Dot {
            self.bump();
            let n = self.peek().clone();
            let Tok::Ident(attr) = n.tok else {
                return Err(self.unexpected(&["an attribute name"]));
            };
            self.bump();
            return self.comparison(Operand::Attr(attr), t.span.to(n.span));
        }
        match Field::lookup(name) {
            Some(f) => self.comparison(Operand::Field(f), t.span),
            None if lower == "consent" || lower == "did" => Err(self.unexpected(&["("])),
            None => Err(FilterError::unknown(
                self.src,
                t.span,
                "field",
                name,
                FIELDS.iter().map(|d| d.name),
            )),
        }
    }

    /// consent = "consent" "(" string ")"
    fn consent(&mut self, start: Span) -> Result<Expr, FilterError> {
        self.bump();
        let (purpose, at) = self.string_arg()?;
        let end = self.expect(Tok::RParen, ")")?.span;
        let purpose = Purpose::parse(&purpose).map_err(|_| {
            FilterError::unknown(
                self.src,
                at,
                "consent purpose",
                &purpose,
                Purpose::ALL.iter().map(|p| p.as_str()),
            )
        })?;
        Ok(Expr::Consent { purpose, span: start.to(end) })
    }

    /// event_args = "(" string [ "," "within" "=" duration ] ")"
    fn event_args(
        &mut self,
        start: Span,
        function: &str,
    ) -> Result<(String, Option<Window>, Span), FilterError> {
        self.bump();
        let (event, _) = self.string_arg()?;
        let mut within = None;
        if self.peek().tok == Tok::Comma {
            self.bump();
            let arg = self.peek().clone();
            match &arg.tok {
                Tok::Ident(a) if a.eq_ignore_ascii_case("within") => {}
                Tok::Ident(a) => {
                    return Err(FilterError::unknown(
                        self.src,
                        arg.span,
                        "argument",
                        a,
                        ["within"],
                    ));
                }
                _ => return Err(self.unexpected(&["within"])),
            }
            self.bump();
            self.expect(Tok::Eq, "=")?;
            let d = self.peek().clone();
            match d.tok {
                Tok::Duration(days) if days >= 0.0 => within = Some(Window { days }),
                _ => {
                    let msg = format!(
                        "`within` takes a duration (h, d, w, m or y), e.g. {function}(\"{event}\", within=30d)"
                    );
                    return Err(FilterError::new(self.src, d.span, msg));
                }
            }
            self.bump();
        }
        let end = if self.peek().tok == Tok::RParen {
            self.bump().span
        } else {
            return Err(self.unexpected(&[",", ")"]));
        };
        Ok((event, within, start.to(end)))
    }

    fn string_arg(&mut self) -> Result<(String, Span), FilterError> {
        let t = self.peek().clone();
        match t.tok {
            Tok::Str(s) => {
                self.bump();
                Ok((s, t.span))
            }
            _ => Err(self.unexpected(&["a string"])),
        }
    }

    /// comparison = cmp_op literal | ["not"] "in" "(" literal { "," literal } ")"
    ///            | ["not"] "between" literal "and" literal | "is" ["not"] "null"
    fn comparison(&mut self, operand: Operand, start: Span) -> Result<Expr, FilterError> {
        let op = match self.peek().tok {
            Tok::Eq => Some(CmpOp::Eq),
            Tok::Ne => Some(CmpOp::Ne),
            Tok::Lt => Some(CmpOp::Lt),
            Tok::Le => Some(CmpOp::Le),
            Tok::Gt => Some(CmpOp::Gt),
            Tok::Ge => Some(CmpOp::Ge),
            _ => None,
        };
        if let Some(op) = op {
            let op_span = self.bump().span;
            check::operator(self.src, &operand, op, op_span)?;
            let (lit, span) = self.literal()?;
            let value = check::value(self.src, &operand, lit, span)?;
            return Ok(Expr::Compare { operand, op, value, span: start.to(span) });
        }
        if self.eat_kw("is") {
            let negated = self.eat_kw("not");
            let end = self.peek().span;
            self.expect_kw("null")?;
            let e = Expr::IsNull { operand, span: start.to(end) };
            return Ok(if negated { Expr::Not(Box::new(e)) } else { e });
        }
        let negated = self.eat_kw("not");
        let e = if self.eat_kw("in") {
            self.in_list(operand, start)?
        } else if self.is_kw("between") {
            let op_span = self.bump().span;
            check::operator(self.src, &operand, CmpOp::Lt, op_span)?;
            let (lo, lo_span) = self.literal()?;
            let low = check::value(self.src, &operand, lo, lo_span)?;
            self.expect_kw("and")?;
            let (hi, hi_span) = self.literal()?;
            let high = check::value(self.src, &operand, hi, hi_span)?;
            Expr::Between { operand, low, high, span: start.to(hi_span) }
        } else if negated {
            return Err(self.unexpected(&["in", "between"]));
        } else {
            return Err(self.unexpected(COMPARISONS));
        };
        Ok(if negated { Expr::Not(Box::new(e)) } else { e })
    }

    fn in_list(&mut self, operand: Operand, start: Span) -> Result<Expr, FilterError> {
        self.expect(Tok::LParen, "(")?;
        let mut values = Vec::new();
        loop {
            let (lit, span) = self.literal()?;
            values.push(check::value(self.src, &operand, lit, span)?);
            match self.peek().tok {
                Tok::Comma => {
                    self.bump();
                }
                Tok::RParen => break,
                _ => return Err(self.unexpected(&[",", ")"])),
            }
        }
        let end = self.bump().span;
        Ok(Expr::In { operand, values, span: start.to(end) })
    }

    /// literal = string | number | duration | date | "true" | "false"
    fn literal(&mut self) -> Result<(Literal, Span), FilterError> {
        let t = self.peek().clone();
        let lit = match t.tok {
            Tok::Str(s) => Literal::Text(s),
            Tok::Number(n) => Literal::Number(n),
            Tok::Duration(d) => Literal::Duration(d),
            Tok::Date(d) => Literal::Date(d),
            Tok::Ident(s) if s.eq_ignore_ascii_case("true") => Literal::Bool(true),
            Tok::Ident(s) if s.eq_ignore_ascii_case("false") => Literal::Bool(false),
            Tok::Ident(s) if !KEYWORDS.contains(&s.to_ascii_lowercase().as_str()) => {
                let msg = format!("expected a value, found `{s}`; write text in quotes: \"{s}\"");
                return Err(FilterError::new(self.src, t.span, msg).with_expected(&["a value"]));
            }
            _ => {
                return Err(
                    self.unexpected(&["a string", "number", "duration", "date", "true", "false"])
                );
            }
        };
        self.bump();
        Ok((lit, t.span))
    }
}

/// `and` as "`and`"; descriptions ("a string", "the end of the filter") stay as they are.
fn quote(e: &str) -> String {
    let descriptive = e.starts_with("a ")
        || e.starts_with("an ")
        || e.starts_with("the ")
        || ["number", "duration", "date"].contains(&e);
    if descriptive { e.to_string() } else { format!("`{e}`") }
}

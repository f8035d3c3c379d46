//! Parser and checker tests; error messages are checked verbatim.

use super::*;
use crate::Purpose;

fn err(src: &str) -> String {
    parse(src).unwrap_err().to_string()
}

fn root(src: &str) -> Expr {
    parse(src).unwrap_or_else(|e| panic!("{e}")).root
}

fn cmp(field: Field, op: CmpOp, value: Value, start: usize, end: usize) -> Expr {
    Expr::Compare { operand: Operand::Field(field), op, value, span: Span::new(start, end) }
}

#[test]
fn the_brief_example_parses() {
    let src = r#"country in ("DE","AT") and clv_predicted > 500 and last_purchase_days < 90 and not consent("marketing")"#;
    let Expr::And(terms) = root(src) else { panic!("an and") };
    assert_eq!(terms.len(), 4);
    assert_eq!(
        terms[0],
        Expr::In {
            operand: Operand::Field(Field::Country),
            values: vec![Value::Text("DE".into()), Value::Text("AT".into())],
            span: Span::new(0, 22),
        }
    );
    assert_eq!(terms[1], cmp(Field::ClvPredicted, CmpOp::Gt, Value::Number(500.0), 27, 46));
    assert_eq!(
        terms[3],
        Expr::Not(Box::new(Expr::Consent {
            purpose: Purpose::Marketing,
            span: Span::new(83, 103)
        }))
    );
}

#[test]
fn and_binds_tighter_than_or_and_keywords_ignore_case() {
    let e = root("orders > 1 OR orders < 0 And Returns = 0");
    let Expr::Or(terms) = e else { panic!("an or") };
    assert!(matches!(&terms[1], Expr::And(t) if t.len() == 2));
    assert!(matches!(root("NOT (orders > 1)"), Expr::Not(_)));
    assert!(matches!(root("((orders > 1))"), Expr::Compare { .. }));
}

#[test]
fn literals_take_their_operand_type() {
    assert_eq!(
        root("last_purchase_days < 12w"),
        cmp(Field::LastPurchaseDays, CmpOp::Lt, Value::Number(84.0), 0, 24)
    );
    assert_eq!(
        root("tenure_days >= 1y"),
        cmp(Field::SignupDays, CmpOp::Ge, Value::Number(365.0), 0, 17)
    );
    assert_eq!(
        root("signup_at >= 1970-01-02"),
        cmp(Field::SignupAt, CmpOp::Ge, Value::Time(86_400_000_000), 0, 23)
    );
    assert_eq!(root(r#"Gender = "F""#), cmp(Field::Gender, CmpOp::Eq, Value::Category(0), 0, 12));
    assert_eq!(
        root(r#"segment != "At Risk""#),
        cmp(Field::RfmSegment, CmpOp::Ne, Value::Category(7), 0, 20)
    );
    let Expr::Compare { operand, value, .. } = root("attr.renewal <= 2026-03-01") else { panic!() };
    assert_eq!(
        (operand, value),
        (Operand::Attr("renewal".into()), Value::Text("2026-03-01".into()))
    );
    assert!(matches!(root("attr.vip = TRUE"), Expr::Compare { value: Value::Bool(true), .. }));
    let Expr::Compare { operand, .. } = root(r#"events("log\"in", within=24h) >= 2"#) else {
        panic!()
    };
    assert_eq!(
        operand,
        Operand::Events { event: "log\"in".into(), within: Some(Window { days: 1.0 }) }
    );
    assert!(matches!(root(r#"did('login')"#), Expr::Did { within: None, .. }));
}

#[test]
fn negated_forms_are_not_of_the_positive_form() {
    for (src, inner) in [
        ("age not between 20 and 30", "between"),
        ("age not in (20, 30)", "in"),
        ("age is not null", "null"),
    ] {
        let Expr::Not(e) = root(src) else { panic!("{src}") };
        let ok = match *e {
            Expr::Between { .. } => inner == "between",
            Expr::In { .. } => inner == "in",
            Expr::IsNull { .. } => inner == "null",
            _ => false,
        };
        assert!(ok, "{src}");
    }
}

#[test]
fn nesting_is_bounded() {
    let deep = format!("{}orders > 1{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert!(parse(&deep).is_ok());
    let deeper = format!("{}orders > 1{}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
    assert!(parse(&deeper).unwrap_err().message.contains("deeper than 32"));
    let long = vec!["orders > 1"; 10_000].join(" and ");
    assert!(matches!(root(&long), Expr::And(t) if t.len() == 10_000));
}

#[test]
fn unknown_names_suggest_the_nearest() {
    assert_eq!(
        err(r#"country = "DE" and last_purchse_days < 90"#),
        "unknown field `last_purchse_days`; did you mean `last_purchase_days`? (line 1, column 20, byte 19)
  country = \"DE\" and last_purchse_days < 90
                     ^^^^^^^^^^^^^^^^^"
    );
    assert_eq!(
        err(r#"rfm_segment = "champion""#),
        "unknown rfm_segment `champion`; did you mean `champions`? (line 1, column 15, byte 14)
  rfm_segment = \"champion\"
                ^^^^^^^^^^"
    );
    assert_eq!(
        err(r#"nps_category = "fan""#),
        "unknown nps_category `fan`; the values are promoter, passive, detractor (line 1, column 16, byte 15)
  nps_category = \"fan\"
                 ^^^^^"
    );
    assert_eq!(
        err(r#"not consent("marketng")"#),
        "unknown consent purpose `marketng`; did you mean `marketing`? (line 1, column 13, byte 12)
  not consent(\"marketng\")
              ^^^^^^^^^^"
    );
    assert_eq!(
        err(r#"consnt("marketing")"#),
        "unknown function `consnt`; did you mean `consent`? (line 1, column 1, byte 0)
  consnt(\"marketing\")
  ^^^^^^"
    );
    assert_eq!(
        err(r#"did("login", withn=30d)"#),
        "unknown argument `withn`; did you mean `within`? (line 1, column 14, byte 13)
  did(\"login\", withn=30d)
               ^^^^^"
    );
    let e = parse("zzz_qqq > 1").unwrap_err();
    assert_eq!((e.message.as_str(), e.suggestion), ("unknown field `zzz_qqq`", None));
}

#[test]
fn type_errors_say_what_the_field_is_and_show_a_comparison_that_works() {
    assert_eq!(
        err("country = 5"),
        "`country` is text; compare it with a string, e.g. country = \"DE\" (line 1, column 11, byte 10)
  country = 5
            ^"
    );
    assert_eq!(
        err(r#"country < "DE""#),
        "`country` is text; compare it with =, !=, in or is null (line 1, column 9, byte 8)
  country < \"DE\""
            .to_string()
            + "\n          ^"
    );
    assert_eq!(
        err("last_purchase_days < 2026-01-01"),
        "`last_purchase_days` is a number of days; compare it with a number or a duration, e.g. \
last_purchase_days < 90 or last_purchase_days < 12w (line 1, column 22, byte 21)
  last_purchase_days < 2026-01-01
                       ^^^^^^^^^^"
    );
    assert_eq!(
        err("country = \"DE\"\n  and clv_predicted > \"big\""),
        "`clv_predicted` is a number; compare it with a number, e.g. clv_predicted > 500 (line 2, column 23, byte 37)
    and clv_predicted > \"big\"
                        ^^^^^"
    );
    assert_eq!(
        err("signup_at > 5"),
        "`signup_at` is a date; compare it with a date, e.g. signup_at >= 2026-01-01 (line 1, column 13, byte 12)
  signup_at > 5
              ^"
    );
    assert_eq!(
        err("gender = 1"),
        "`gender` is a category; compare it with a string, e.g. gender = \"female\" (line 1, column 10, byte 9)
  gender = 1
           ^"
    );
}

#[test]
fn syntax_errors_list_what_was_expected() {
    assert_eq!(
        err("country = DE"),
        "expected a value, found `DE`; write text in quotes: \"DE\" (line 1, column 11, byte 10)
  country = DE
            ^^"
    );
    assert_eq!(
        err(r#"(country = "DE""#),
        "expected `and`, `or` or `)`, found the end of the filter (line 1, column 16, byte 15)
  (country = \"DE\"
                 ^"
    );
    let e = parse(r#"country = "DE" orders > 3"#).unwrap_err();
    assert_eq!(e.expected, ["and", "or", "the end of the filter"]);
    assert_eq!(
        e.to_string(),
        "expected `and`, `or` or the end of the filter, found `orders` (line 1, column 16, byte 15)
  country = \"DE\" orders > 3
                 ^^^^^^"
    );
    assert_eq!(
        err("country"),
        "expected `=`, `!=`, `<`, `<=`, `>`, `>=`, `in`, `not in`, `between`, `is null` or \
`is not null`, found the end of the filter (line 1, column 8, byte 7)
  country
         ^"
    );
    assert_eq!(
        err(r#"country in ("DE" "AT")"#),
        "expected `,` or `)`, found a string (line 1, column 18, byte 17)
  country in (\"DE\" \"AT\")
                   ^^^^"
    );
    assert_eq!(
        err("x = \"unterminated"),
        "unterminated string; close it with a quote (line 1, column 5, byte 4)
  x = \"unterminated
      ^"
    );
}

#[test]
fn every_field_example_parses() {
    for d in FIELDS {
        parse(d.example).unwrap_or_else(|e| panic!("{}: {e}", d.name));
    }
    for (_, example, _) in FUNCTIONS {
        parse(example).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn the_guide_lists_every_field() {
    let guide = include_str!("../../../../docs/filter-language.md");
    for d in FIELDS {
        assert!(guide.contains(&format!("| `{}`", d.name)), "{} is not in the guide", d.name);
    }
}

#[test]
fn the_guide_examples_parse() {
    for src in [
        r#"orders > 3 and (rfm_segment = "at_risk" or health < 40)"#,
        r#"not did("login", within=30d)"#,
        r#"events("export", within=12w) >= 5"#,
        r#"attr.tier = "gold" and attr.seats >= 3"#,
        r#"nps_category in ("passive", "detractor") and feedback_sentiment < -0.2"#,
        "signup_at >= 2026-01-01 and age between 25 and 45",
        r#"email is not null and country not in ("US", "CA")"#,
        r#"Country = "DE" AND attr.renewal < 2026-07-01 and attr.vip = true"#,
        r#"gender = "woman" and rfm_segment = "At Risk" and consent("product_updates")"#,
    ] {
        parse(src).unwrap_or_else(|e| panic!("{e}"));
    }
}

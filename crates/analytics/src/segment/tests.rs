//! The plan against the one-row reference on random filters and frames, and worked examples.

use super::*;
use crate::rfm::Segment;
use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;
use rapport_core::filter::{RFM_SEGMENTS, parse};
use rapport_core::{AttrValue, CustomerSummary, Gender, Money, Purpose, Timestamp};

fn now() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
}

fn days_ago(d: i64) -> Timestamp {
    now() - Duration::days(d)
}

fn select(frame: &CustomerFrame, src: &str) -> Vec<String> {
    let plan = compile(&parse(src).unwrap(), &frame.schema());
    plan.eval(frame, now()).ones().map(|i| frame.id(i).to_string()).collect()
}

fn example_frame() -> CustomerFrame {
    let mut f = CustomerFrame::new();
    let row = |id: &str, country: &str, clv: f64, last: i64, consents: Vec<Purpose>| CustomerRow {
        id: id.into(),
        country: Some(country.into()),
        clv_predicted: Some(clv),
        summary: CustomerSummary {
            purchase_orders: 2,
            purchase_value: Money::from_major(300),
            last_purchase_at: Some(days_ago(last)),
            ..Default::default()
        },
        consents,
        ..Default::default()
    };
    f.push(&row("a", "DE", 900.0, 10, vec![]));
    f.push(&row("b", "AT", 600.0, 30, vec![Purpose::Marketing]));
    f.push(&row("c", "FR", 900.0, 10, vec![]));
    f.push(&row("d", "DE", 100.0, 10, vec![]));
    f.push(&row("e", "DE", 900.0, 120, vec![]));
    f.push(&CustomerRow { id: "f".into(), ..Default::default() });
    let mut g = row("g", "AT", 700.0, 89, vec![Purpose::Surveys]);
    g.birth_year = Some(1990);
    g.gender = Some(Gender::Female);
    g.rfm = Some([5, 4, 3]);
    g.nps_score = Some(6);
    g.attributes.insert("tier".into(), AttrValue::Text("gold".into()));
    g.attributes.insert("seats".into(), AttrValue::Int(4));
    g.events = vec![("login".into(), days_ago(3)), ("login".into(), days_ago(40))];
    f.push(&g);
    f
}

#[test]
fn the_brief_example_selects_what_it_says() {
    let f = example_frame();
    let src = r#"country in ("DE","AT") and clv_predicted > 500 and last_purchase_days < 90 and not consent("marketing")"#;
    assert_eq!(select(&f, src), ["a", "g"]);
}

#[test]
fn derived_fields_and_functions() {
    let f = example_frame();
    assert_eq!(select(&f, "age = 36 and gender = \"f\""), ["g"]);
    assert_eq!(select(&f, "rfm_segment = \"champions\" and rfm_score = 12"), ["g"]);
    assert_eq!(select(&f, "nps_category = \"detractor\""), ["g"]);
    assert_eq!(select(&f, "attr.tier = \"gold\" and attr.seats between 3 and 4"), ["g"]);
    assert_eq!(select(&f, r#"did("login", within=30d) and events("login") = 2"#), ["g"]);
    assert_eq!(select(&f, r#"events("login", within=1m) = 1"#), ["g"]);
    assert_eq!(select(&f, "avg_order_value = 150 and id = \"a\""), ["a"]);
    assert_eq!(select(&f, "last_purchase_at >= 2026-05-01 and country = \"FR\""), ["c"]);
}

#[test]
fn nulls_are_unknown_and_not_of_unknown_is_unknown() {
    let f = example_frame();
    assert_eq!(select(&f, "not (age > 30)"), Vec::<String>::new());
    assert_eq!(select(&f, "age <= 30 or age is null").len(), 6);
    assert_eq!(select(&f, "country is null"), ["f"]);
    // false and unknown is false; true or unknown is true.
    let plan = compile(&parse("age > 100 and orders > 0").unwrap(), &f.schema());
    let t = plan.eval3(&f, now());
    assert_eq!((t.truth.count(), t.known.count()), (0, 7));
    assert_eq!(select(&f, r#"country = "FR" or age > 30"#), ["c", "g"]);
    // A text attribute compared with a number is unknown, not false.
    assert_eq!(select(&f, "not (attr.tier > 3)"), Vec::<String>::new());
}

#[test]
fn unknown_data_names_are_warnings_with_suggestions() {
    let f = example_frame();
    let plan = compile(&parse(r#"attr.teir = "gold" or did("logn")"#).unwrap(), &f.schema());
    let w: Vec<String> = plan.warnings().iter().map(|w| w.to_string()).collect();
    assert_eq!(
        w,
        [
            "unknown attribute `teir` (no customer has it); did you mean `tier`? (line 1, column 1, byte 0)
  attr.teir = \"gold\" or did(\"logn\")
  ^^^^^^^^^^^^^^^^^^",
            "unknown event `logn`; did you mean `login`? (line 1, column 23, byte 22)
  attr.teir = \"gold\" or did(\"logn\")
                        ^^^^^^^^^^^"
        ]
    );
    let plan = compile(&parse("attr.seats = \"x\"").unwrap(), &f.schema());
    assert_eq!(
        plan.warnings()[0].message,
        "`attr.seats` holds numbers, never the type compared here"
    );
    assert!(select(&f, r#"did("logn")"#).is_empty());
}

#[test]
fn rfm_segment_names_are_the_analytics_ones() {
    let names: Vec<&str> = Segment::ALL.iter().map(|s| s.as_str()).collect();
    assert_eq!(names, RFM_SEGMENTS);
}

fn leaf() -> impl Strategy<Value = String> {
    let s = |v: &[&'static str]| proptest::sample::select(v.to_vec()).prop_map(String::from);
    let op = || s(&["=", "!=", "<", "<=", ">", ">="]);
    prop_oneof![
        s(&[
            r#"country = "DE""#,
            r#"country != "AT""#,
            r#"country in ("DE", "FR", "XX")"#,
            "country is null",
            r#"gender = "female""#,
            r#"gender != "male""#,
            r#"rfm_segment in ("champions", "lost", "new")"#,
            r#"nps_category != "detractor""#,
            r#"attr.tier = "gold""#,
            r#"attr.tier in ("gold", 2, true)"#,
            "attr.seats = true",
            "attr.seats is not null",
            r#"attr.seats between 1 and "z""#,
            r#"consent("marketing")"#,
            r#"did("login", within=30d)"#,
            r#"did("buy")"#,
            "last_purchase_at >= 2026-05-01",
            "rfm_segment is null",
        ]),
        (
            s(&["orders", "clv_predicted", "last_purchase_days", "age", "rfm_score", "nps_score"]),
            op(),
            -5..400i32
        )
            .prop_map(|(f, o, n)| format!("{f} {o} {n}")),
        (s(&["attr.tier", "attr.seats"]), op(), 0..6i32)
            .prop_map(|(f, o, n)| format!("{f} {o} {n}")),
        (s(&["age", "last_purchase_days", r#"events("login", within=2w)"#]), 0..60i32, 0..60i32)
            .prop_map(|(f, a, b)| format!("{f} between {a} and {b}")),
        (op(), 0..4i32).prop_map(|(o, n)| format!(r#"events("buy", within=10d) {o} {n}"#)),
    ]
}

fn filter_text() -> impl Strategy<Value = String> {
    leaf().prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4)
                .prop_map(|v| format!("({})", v.join(" and "))),
            prop::collection::vec(inner.clone(), 2..4)
                .prop_map(|v| format!("({})", v.join(" or "))),
            inner.prop_map(|e| format!("not {e}")),
        ]
    })
}

fn row() -> impl Strategy<Value = CustomerRow> {
    let opt = |p: f64| proptest::bool::weighted(p);
    (
        (
            proptest::option::of(proptest::sample::select(vec!["DE", "AT", "FR"])),
            proptest::option::of(0..4usize),
        ),
        (proptest::option::of(1940..2010i16), 0..5i64, proptest::option::of(-50.0..900.0f64)),
        (proptest::option::of(-20..300i64), proptest::option::of((1..=5u8, 1..=5u8, 1..=5u8))),
        (proptest::option::of(0..=10i16), opt(0.5), proptest::option::of(0..4i64)),
        (opt(0.5), prop::collection::vec((0..2usize, -5..60i64), 0..5)),
    )
        .prop_map(
            |(
                (country, gender),
                (birth, orders, clv),
                (last, rfm),
                (nps, attr_text, seats),
                (consent, events),
            )| {
                let mut r = CustomerRow {
                    id: "x".into(),
                    country: country.map(String::from),
                    gender: gender.map(|g| Gender::ALL[g]),
                    birth_year: birth,
                    clv_predicted: clv,
                    rfm: rfm.map(|(a, b, c)| [a, b, c]),
                    nps_score: nps,
                    summary: CustomerSummary {
                        orders,
                        last_purchase_at: last.map(days_ago),
                        ..Default::default()
                    },
                    ..Default::default()
                };
                if attr_text {
                    r.attributes.insert(
                        "tier".into(),
                        AttrValue::Text(["gold", "silver"][orders as usize % 2].into()),
                    );
                } else if orders > 1 {
                    r.attributes.insert("tier".into(), AttrValue::Int(orders));
                }
                match seats {
                    Some(0) => r.attributes.insert("seats".into(), AttrValue::Bool(true)),
                    Some(n) => {
                        r.attributes.insert("seats".into(), AttrValue::Number(n as f64 + 0.5))
                    }
                    None => None,
                };
                if consent {
                    r.consents.push(Purpose::Marketing);
                }
                r.events = events
                    .into_iter()
                    .map(|(k, d)| (["login", "buy"][k].to_string(), days_ago(d)))
                    .collect();
                r
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn the_plan_agrees_with_the_reference_row_by_row(
        src in filter_text(),
        rows in prop::collection::vec(row(), 0..140),
    ) {
        let filter = parse(&src).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut frame = CustomerFrame::new();
        for r in &rows {
            frame.push(r);
        }
        let got = compile(&filter, &frame.schema()).eval3(&frame, now());
        for i in 0..frame.len() {
            let want = eval_row(&filter.root, &RowView { frame: &frame, row: i, now: now() });
            let plan = got.known.get(i).then(|| got.truth.get(i));
            prop_assert_eq!(plan, want, "row {} of {}: {}", i, frame.len(), src);
        }
    }
}

#[test]
fn events_set_by_name_select_as_events_pushed_with_the_rows() {
    let pushed = example_frame();
    let mut set = CustomerFrame::new();
    for i in 0..pushed.len() {
        set.push(&CustomerRow { id: pushed.id(i).into(), ..Default::default() });
    }
    let micros = |d: i64| days_ago(d).timestamp_micros();
    // Out of order and across customers, as a store returns them.
    set.set_events("login", vec![(6, micros(40)), (1, micros(100)), (6, micros(3))]);
    set.set_events("never", vec![]);
    for src in [
        r#"did("login", within=30d)"#,
        r#"events("login") = 2"#,
        r#"events("login", within=1m) = 1"#,
        r#"did("login")"#,
    ] {
        let want: Vec<String> = match src {
            r#"did("login")"# => vec!["b".into(), "g".into()],
            _ => select(&pushed, src),
        };
        assert_eq!(select(&set, src), want, "{src}");
    }
    assert_eq!(set.schema().events.into_iter().collect::<Vec<_>>(), ["login"]);
}

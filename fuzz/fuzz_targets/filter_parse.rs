//! Parses arbitrary UTF-8 as a filter. Errors must render; a filter that parses is compiled and
//! evaluated on a tiny frame, and the plan must agree with the one-row reference evaluator.
#![no_main]

use chrono::{Duration, TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use rapport_analytics::segment::{CustomerFrame, CustomerRow, RowView, compile, eval_row};
use rapport_core::filter::parse;
use rapport_core::{AttrValue, CustomerSummary, Gender, Purpose};
use std::sync::OnceLock;

fn frame() -> &'static CustomerFrame {
    static FRAME: OnceLock<CustomerFrame> = OnceLock::new();
    FRAME.get_or_init(|| {
        let now = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
        let mut f = CustomerFrame::new();
        for i in 0..70i64 {
            let mut r = CustomerRow {
                id: format!("c{i}"),
                country: (i % 4 != 0).then(|| ["DE", "AT", "FR"][i as usize % 3].to_string()),
                gender: (i % 5 != 0).then(|| Gender::ALL[i as usize % 4]),
                birth_year: (i % 3 != 0).then_some(1950 + i as i16),
                rfm: (i % 2 == 0).then(|| [1 + (i % 5) as u8, 1 + (i / 5 % 5) as u8, 3]),
                nps_score: (i % 6 != 0).then_some((i % 11) as i16),
                clv_predicted: (i % 7 != 0).then_some(i as f64 * 13.5),
                summary: CustomerSummary {
                    orders: i % 9,
                    last_purchase_at: (i % 4 != 1).then(|| now - Duration::days(i * 3)),
                    ..Default::default()
                },
                ..Default::default()
            };
            if i % 3 == 0 {
                r.attributes.insert(
                    "tier".into(),
                    AttrValue::Text(["gold", "silver"][i as usize % 2].into()),
                );
            }
            if i % 4 == 0 {
                r.attributes.insert("seats".into(), AttrValue::Int(i % 10));
            }
            if i % 2 == 1 {
                r.consents.push(Purpose::ALL[i as usize % 5]);
            }
            r.events =
                (0..i % 5).map(|k| ("login".to_string(), now - Duration::days(k * 9))).collect();
            f.push(&r);
        }
        f
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else { return };
    match parse(src) {
        Err(e) => {
            let _ = e.to_string();
        }
        Ok(filter) => {
            let f = frame();
            let plan = compile(&filter, &f.schema());
            for w in plan.warnings() {
                let _ = w.to_string();
            }
            let now = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
            let got = plan.eval3(f, now);
            for i in 0..f.len() {
                let want = eval_row(&filter.root, &RowView { frame: f, row: i, now });
                let have = got.known.get(i).then(|| got.truth.get(i));
                assert_eq!(have, want, "row {i}: {src}");
            }
        }
    }
});

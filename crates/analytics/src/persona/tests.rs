use super::*;

/// Ten customers: the first four (the members) are Germans born 1990 who buy Electronics
/// often and complain about delivery; the other six are French, born 1960, buy Garden once
/// and praise the prices.
fn facts() -> Facts {
    let labels = Labels {
        countries: vec!["DE".into(), "FR".into()],
        genders: vec!["female".into(), "male".into()],
        categories: vec!["Electronics".into(), "Garden".into()],
        channels: vec!["support".into()],
        events: vec!["report_exported".into(), "login".into()],
        themes: vec!["delivery".into(), "price".into()],
        ideas: vec!["Faster shipping".into()],
        ..Labels::default()
    };
    let member = |i: usize| CustomerFacts {
        birth_year: Some(1990),
        gender: Some((i % 2) as u32),
        country: Some(0),
        orders: 10,
        revenue: 1000.0,
        categories: vec![(0, 1000.0)],
        channels: vec![(0, 3)],
        events: vec![(0, 5), (1, 9)],
        ..CustomerFacts::default()
    };
    let other = |i: usize| CustomerFacts {
        birth_year: Some(1960),
        gender: Some((i % 2) as u32),
        country: Some(1),
        orders: 1,
        revenue: 50.0,
        categories: vec![(1, 50.0)],
        events: vec![(1, 1)],
        ..CustomerFacts::default()
    };
    let customers: Vec<CustomerFacts> =
        (0..10).map(|i| if i < 4 { member(i) } else { other(i) }).collect();
    let mut feedback = Vec::new();
    for c in 0..4u32 {
        let text = format!("Parcel {c} arrived two weeks late.");
        feedback.push(FeedbackFact {
            customer: c,
            text,
            sentiment: -0.6 - f64::from(c) / 10.0,
            theme: Some(0),
        });
    }
    for c in 4..10u32 {
        let text = format!("Great prices, saved {c} euros.");
        feedback.push(FeedbackFact { customer: c, text, sentiment: 0.7, theme: Some(1) });
    }
    Facts { labels, customers, feedback, requests: vec![(0, 0), (0, 0), (1, 0), (5, 0)] }
}

fn members() -> Vec<bool> {
    (0..10).map(|i| i < 4).collect()
}

#[test]
fn size_and_shares_of_customers_and_revenue() {
    let p = build(&facts(), &members(), 2026);
    assert_eq!((p.size, p.population), (4, 10));
    assert!((p.share_customers - 0.4).abs() < 1e-12);
    // 4 × 1000 of 4 × 1000 + 6 × 50.
    assert!((p.share_revenue - 4000.0 / 4300.0).abs() < 1e-12);
}

#[test]
fn lifts_compare_the_members_with_everyone() {
    let p = build(&facts(), &members(), 2026);
    let de = &p.demographics.countries[0];
    assert_eq!((de.label.as_str(), de.share), ("DE", 1.0));
    assert!((de.lift - 2.5).abs() < 1e-12, "1.0 / 0.4, got {}", de.lift);
    let ages = &p.demographics.age_bands;
    assert_eq!(ages.len(), 1);
    assert_eq!(ages[0].label, "35–44", "born 1990, 36 in 2026");
    let exported = p.behaviours.features.iter().find(|f| f.label == "report_exported").unwrap();
    assert!((exported.lift - 2.5).abs() < 1e-12);
    let login = p.behaviours.features.iter().find(|f| f.label == "login").unwrap();
    assert!((login.lift - 1.0).abs() < 1e-12, "everyone logs in");
    assert_eq!((p.behaviours.median_orders, p.behaviours.population_median_orders), (10.0, 1.0));
    assert_eq!(p.behaviours.median_basket, 100.0);
}

#[test]
fn all_negative_delivery_feedback_is_the_top_pain_point_with_its_quotes() {
    let p = build(&facts(), &members(), 2026);
    let top = &p.pain_points[0];
    assert_eq!((top.theme.as_str(), top.negative), ("delivery", 4));
    assert_eq!(p.pain_points.len(), 1, "the members never complain about price");
    assert_eq!(top.quotes.len(), 3);
    assert_eq!(top.quotes[0], "Parcel 3 arrived two weeks late.", "the most negative first");
    assert!(top.quotes.iter().all(|q| q.contains("late")));
    assert_eq!(p.sentiment.negative, 1.0);
}

#[test]
fn the_empathy_map_quotes_members_and_states_its_evidence() {
    let p = build(&facts(), &members(), 2026);
    let e = &p.empathy;
    assert_eq!(e.says.len(), 1, "one theme, one quote");
    assert!(e.says[0].text.starts_with("Parcel "));
    assert_eq!(e.thinks[0].text, "“delivery” is letting them down");
    assert_eq!(e.thinks[0].evidence, "4 of their 4 items about delivery are negative");
    assert_eq!(e.feels[0].text, "Frustrated");
    assert!(e.feels[0].quote.as_deref().unwrap().contains("late"));
    assert!(e.does[0].text.contains("10 purchase orders"));
    // No quote from a non-member ever appears.
    let all = serde_json_free_text(&p);
    assert!(!all.contains("Great prices"));
}

/// Every quote and statement text of a profile, joined.
fn serde_json_free_text(p: &PersonaProfile) -> String {
    let e = &p.empathy;
    let stmts = e.says.iter().chain(&e.thinks).chain(&e.does).chain(&e.feels).chain(&p.goals);
    let mut s: Vec<String> =
        stmts.flat_map(|s| [s.text.clone(), s.quote.clone().unwrap_or_default()]).collect();
    s.extend(p.pain_points.iter().flat_map(|pp| pp.quotes.clone()));
    s.join("\n")
}

#[test]
fn goals_count_distinct_requesters() {
    let p = build(&facts(), &members(), 2026);
    let asked = p.goals.iter().find(|g| g.text.contains("Faster shipping")).unwrap();
    assert_eq!(asked.evidence, "2 of them requested it", "customer 0 asked twice, 5 is no member");
    assert_eq!(p.goals[0].text, "Buy Electronics most");
}

#[test]
fn the_name_comes_from_the_most_distinctive_traits() {
    let p = build(&facts(), &members(), 2026);
    assert_eq!(p.suggested_name, "Frustrated Electronics buyers aged 35–44");
    let others: Vec<bool> = members().iter().map(|m| !m).collect();
    let q = build(&facts(), &others, 2026);
    assert_eq!(q.suggested_name, "One-time Garden buyers aged 65+");
    // Nobody of a group without purchases has bought: dormant, whatever their mood.
    let mut f = facts();
    f.customers
        .iter_mut()
        .take(4)
        .for_each(|c| (c.orders, c.revenue, c.categories) = (0, 0.0, vec![]));
    assert_eq!(build(&f, &members(), 2026).suggested_name, "Dormant customers aged 35–44");
}

#[test]
fn an_empty_group_has_zeros_not_nans() {
    let p = build(&facts(), &[false; 10], 2026);
    assert_eq!((p.size, p.share_revenue, p.behaviours.median_orders), (0, 0.0, 0.0));
    assert!(p.pain_points.is_empty() && p.empathy.feels.is_empty());
}

#[test]
fn avatars_are_deterministic_and_follow_the_id() {
    let a = Avatar::of("7", "Loyal Electronics buyers");
    assert_eq!(a, Avatar::of("7", "Loyal Electronics buyers"));
    assert_eq!(a.initials, "LE");
    let hues: std::collections::BTreeSet<u16> =
        (0..20).map(|i| Avatar::of(&i.to_string(), "x").hue).collect();
    assert!(hues.len() > 10, "ids spread over the colour wheel: {hues:?}");
    assert!(a.svg(48).contains(">LE</text>"));
    assert_eq!(Avatar::of("1", "<script>").initials, "S");
}

#[test]
fn median_of_even_and_odd_counts() {
    assert_eq!(tally::median(&mut [3.0, 1.0, 2.0]), 2.0);
    assert_eq!(tally::median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
    assert_eq!(tally::median(&mut []), 0.0);
}

#[test]
fn quotes_opening_with_the_same_sentence_are_quoted_once() {
    let mut f = facts();
    for (k, tail) in ["Very disappointed.", "Please fix this."].iter().enumerate() {
        f.feedback[k].text = format!("Late again! {tail}");
    }
    let p = build(&f, &members(), 2026);
    let quotes = &p.pain_points[0].quotes;
    assert_eq!(quotes.iter().filter(|q| q.starts_with("Late again!")).count(), 1, "{quotes:?}");
    assert_eq!(quotes.len(), 3, "the other members' texts fill the list");
}

#[test]
fn a_theme_without_feeling_either_way_is_a_concern_not_a_verdict() {
    let mut f = facts();
    f.feedback.iter_mut().take(4).for_each(|i| i.sentiment = 0.0);
    let p = build(&f, &members(), 2026);
    assert_eq!(p.empathy.thinks[0].text, "“delivery” is on their mind");
    assert_eq!(
        p.empathy.thinks[0].evidence,
        "4 of their items are about delivery: 0 positive, 0 negative"
    );
}

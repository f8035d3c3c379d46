use super::*;

const DAY: i64 = 86_400_000_000;

/// Customers 0..n with the events of sources given as (customer, day) pairs.
fn input(n: usize, sources: Vec<Vec<(u32, i64)>>, stages: Vec<Vec<Met>>) -> JourneyInput {
    let k = stages.len();
    JourneyInput {
        customers: n,
        names: (0..k).map(|i| format!("S{i}")).collect(),
        stages,
        sources: sources
            .into_iter()
            .map(|rows| Occurrences::new(n, rows.into_iter().map(|(c, d)| (c, d * DAY)).collect()))
            .collect(),
        ..JourneyInput::default()
    }
}

fn times(source: usize) -> Vec<Met> {
    vec![Met::Times { source, min_count: 1 }]
}

fn reached(map: &JourneyMap) -> Vec<u64> {
    map.stages.iter().map(|s| s.reached).collect()
}

#[test]
fn a_stage_met_only_before_the_previous_one_is_not_reached() {
    // Customer 0: visit day 1, buy day 3. Customer 1: bought on day 0, visited on day 2 and
    // never bought again: not a buyer after the visit. Customer 2: bought twice around a visit.
    let visits = vec![(0, 1), (1, 2), (2, 5)];
    let buys = vec![(0, 3), (1, 0), (2, 4), (2, 9)];
    let map = compute(&input(3, vec![visits, buys], vec![times(0), times(1)]));
    assert_eq!(reached(&map), vec![3, 2]);
    assert_eq!(map.stages[1].dropped, 1);
}

#[test]
fn a_condition_met_at_the_same_instant_counts() {
    let map = compute(&input(1, vec![vec![(0, 4)], vec![(0, 4)]], vec![times(0), times(1)]));
    assert_eq!(reached(&map), vec![1, 1]);
    assert_eq!(map.stages[1].median_days, Some(0.0));
}

#[test]
fn at_least_n_counts_only_occurrences_after_the_previous_stage() {
    // Logins on days 1, 2, 3 and 10, 11; the purchase on day 5: only two logins after it.
    let logins = vec![(0, 1), (0, 2), (0, 3), (0, 10), (0, 11)];
    let stages = vec![times(1), vec![Met::Times { source: 0, min_count: 3 }]];
    let map = compute(&input(1, vec![logins.clone(), vec![(0, 5)]], stages.clone()));
    assert_eq!(reached(&map), vec![1, 0]);
    let more = [logins, vec![(0, 12)]].concat();
    let map = compute(&input(1, vec![more, vec![(0, 5)]], stages));
    assert_eq!(reached(&map), vec![1, 1]);
    assert_eq!(map.stages[1].median_days, Some(7.0), "day 5 to the third login after, day 12");
}

#[test]
fn any_condition_reaches_a_stage_at_the_earliest() {
    let stages = vec![
        times(0),
        vec![Met::Times { source: 1, min_count: 1 }, Met::Times { source: 2, min_count: 1 }],
    ];
    let map = compute(&input(1, vec![vec![(0, 0)], vec![(0, 9)], vec![(0, 4)]], stages));
    assert_eq!(map.stages[1].median_days, Some(4.0));
}

#[test]
fn medians_of_odd_and_even_counts() {
    let visits: Vec<(u32, i64)> = (0..4).map(|c| (c, 0)).collect();
    let buys = vec![(0, 1), (1, 2), (2, 10)];
    let map = compute(&input(4, vec![visits.clone(), buys.clone()], vec![times(0), times(1)]));
    assert_eq!(map.stages[1].median_days, Some(2.0));
    let buys = [buys, vec![(3, 4)]].concat();
    let map = compute(&input(4, vec![visits, buys], vec![times(0), times(1)]));
    assert_eq!(map.stages[1].median_days, Some(3.0), "(2 + 4) / 2");
    assert_eq!(map.stages[0].median_days, None, "stage 0 has no previous time");
}

#[test]
fn drop_offs_and_the_last_stage_sum_to_the_population() {
    let a: Vec<(u32, i64)> = (0..10).map(|c| (c, 1)).collect();
    let b: Vec<(u32, i64)> = (0..6).map(|c| (c, 2)).collect();
    let c: Vec<(u32, i64)> = (0..2).map(|c| (c, 3)).collect();
    let map = compute(&input(12, vec![a, b, c], vec![times(0), times(1), times(2)]));
    assert_eq!(map.population, 12);
    assert_eq!(reached(&map), vec![10, 6, 2]);
    let dropped: Vec<u64> = map.stages.iter().map(|s| s.dropped).collect();
    assert_eq!(dropped, vec![2, 4, 4]);
    assert_eq!(dropped.iter().sum::<u64>() + map.stages[2].reached, map.population);
    assert_eq!(map.stages[1].conversion, Some(0.6));
    assert_eq!(map.stages[2].drop_share, Some(4.0 / 6.0));
    let stayed: Vec<u64> = map.stages.iter().map(|s| s.stayed).collect();
    assert_eq!(stayed, vec![4, 4, 2]);
}

#[test]
fn an_empty_stage_stops_everyone_and_later_stages_are_empty() {
    let a: Vec<(u32, i64)> = (0..3).map(|c| (c, 1)).collect();
    let map = compute(&input(3, vec![a.clone(), vec![], a], vec![times(0), times(1), times(2)]));
    assert_eq!(reached(&map), vec![3, 0, 0]);
    assert_eq!(map.stages[2].conversion, None, "nobody to convert from");
    assert_eq!(map.stages[2].median_days, None);
    assert_eq!(map.stages[1].drop_share, Some(1.0));
}

#[test]
fn a_filter_stage_takes_the_previous_time_and_a_segment_limits_the_population() {
    let visits = vec![(0, 1), (1, 1), (2, 1)];
    let buys = vec![(0, 6), (1, 8), (2, 3)];
    let stages = vec![times(0), vec![Met::Members(vec![true, true, false])], times(1)];
    let mut inp = input(3, vec![visits, buys], stages);
    let map = compute(&inp);
    assert_eq!(reached(&map), vec![3, 2, 2]);
    assert_eq!(map.stages[1].median_days, Some(0.0), "a filter has no time of its own");
    assert_eq!(map.stages[2].median_days, Some(6.0), "5 and 7 days after the visit");
    inp.population = Some(vec![false, true, true]);
    let map = compute(&inp);
    assert_eq!(map.population, 2);
    assert_eq!(reached(&map), vec![2, 1, 1]);
}

#[test]
fn satisfaction_belongs_to_the_furthest_stage() {
    let visits = vec![(0, 1), (1, 1), (2, 1)];
    let buys = vec![(0, 2)];
    let mut inp = input(3, vec![visits, buys], vec![times(0), times(1)]);
    inp.nps = vec![Some(10), Some(0), Some(3)];
    inp.sentiment = vec![Some(0.5), None, Some(-0.25)];
    let map = compute(&inp);
    let stayed = &map.stages[0].satisfaction;
    assert_eq!(stayed.nps.as_ref().map(|e| (e.score, e.responses)), Some((-100.0, 2)));
    assert_eq!((stayed.sentiment, stayed.sentiment_customers), (Some(-0.25), 1));
    let bought = &map.stages[1].satisfaction;
    assert_eq!(bought.nps.as_ref().map(|e| e.score), Some(100.0));
    assert!(bought.csat.is_none());
}

#[test]
fn pain_points_come_from_those_who_dropped_before_the_stage() {
    let visits = vec![(0, 1), (1, 1), (2, 1)];
    let buys = vec![(0, 2)];
    let mut inp = input(4, vec![visits, buys], vec![times(0), times(1)]);
    let say = |customer, at, theme: &str, text: &str| Complaint {
        customer,
        at,
        theme: Some(theme.into()),
        text: text.into(),
    };
    inp.complaints = vec![
        say(1, 10, "pricing", "too expensive"),
        say(1, 20, "pricing", "still too expensive"),
        say(2, 15, "setup", "could not set it up"),
        say(0, 30, "pricing", "a buyer: counts nowhere, everyone reached the last stage"),
        say(3, 5, "trust", "never visited"),
    ];
    let map = compute(&inp);
    let at_buy = &map.stages[1];
    assert_eq!(at_buy.complaints, 3);
    let themes: Vec<(&str, u64)> =
        at_buy.pain_points.iter().map(|t| (t.theme.as_str(), t.complaints)).collect();
    assert_eq!(themes, vec![("pricing", 2), ("setup", 1)]);
    let quotes: Vec<&str> = at_buy.quotes.iter().map(|q| q.text.as_str()).collect();
    assert_eq!(
        quotes,
        vec!["still too expensive", "could not set it up"],
        "latest, one per customer"
    );
    assert_eq!(map.stages[0].quotes.len(), 1, "the customer who never visited");
}

#[test]
fn stage_definitions_parse_and_print_back() {
    let s =
        StageDef::parse("Renewal = purchase>=2 | survey:nps>=9 | filter:country = \"DE\"").unwrap();
    assert_eq!(s.name, "Renewal");
    assert_eq!(s.conditions.len(), 3);
    assert_eq!(s.conditions[0], Condition::Purchase { min_count: 2 });
    assert_eq!(s.conditions_text(), "purchase>=2 | survey:nps>=9 | filter:country = \"DE\"");
    assert_eq!(StageDef::parse(&format!("Renewal={}", s.conditions_text())).unwrap(), s);
    assert!(StageDef::parse("x=event:").is_err());
    assert!(StageDef::parse("x=purchase>=0").is_err());
    assert!(StageDef::parse("=purchase").is_err());
    assert!(StageDef::parse("x=survey:web").is_err());
    let json = serde_json_like(&JourneySpec::default_journey());
    assert!(json.contains("pricing_viewed"));
    assert!(JourneySpec::default_journey().check().is_ok());
}

/// The spec through its Debug form (serde_json is not a dependency of this crate).
fn serde_json_like(spec: &JourneySpec) -> String {
    format!("{spec:?}")
}

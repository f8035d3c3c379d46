use super::*;

fn nps_spec() -> SurveySpec {
    SurveySpec {
        id: "nps-q4".into(),
        name: "Quarterly NPS".into(),
        kind: "NPS".into(),
        questions: vec![
            QuestionSpec {
                id: "why_low".into(),
                prompt: "What disappointed you?".into(),
                kind: "text".into(),
                when: Some("0-6".into()),
                ..Default::default()
            },
            QuestionSpec {
                id: "plan".into(),
                prompt: "Which plan are you on?".into(),
                kind: "single".into(),
                choices: vec!["Free".into(), "Pro".into()],
                ..Default::default()
            },
        ],
        ..Default::default()
    }
}

fn form(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Vec<String> {
    let pairs: Vec<(String, String)> =
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |name| pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
}

#[test]
fn nps_gets_its_standard_question_and_follow_ups_by_band() {
    let s = Survey::parse(nps_spec()).unwrap();
    assert_eq!(s.kind, SurveyKind::Nps);
    assert_eq!(s.questions[0].id, "score");
    assert!(matches!(s.questions[0].answer, AnswerKind::Rating { min: 0, max: 10, .. }));
    let first: Vec<_> = s.first_step().map(|q| q.id.as_str()).collect();
    assert_eq!(first, ["score", "plan"]);
    assert_eq!(s.follow_ups(Some(3)).count(), 1);
    assert_eq!(s.follow_ups(Some(9)).count(), 0);
    assert_eq!(s.follow_ups(None).count(), 0);
    assert_eq!(s.feedback_source(), "nps");
    assert_eq!(s.expires_after_days, 30);
}

#[test]
fn answers_are_read_and_checked_by_question() {
    let s = Survey::parse(nps_spec()).unwrap();
    let ok = s.read_answers(s.first_step(), &form(&[("score", "4"), ("plan", "Pro")])).unwrap();
    assert_eq!(score_of(&s, &ok), Some(4));
    let errs =
        s.read_answers(s.first_step(), &form(&[("score", "11"), ("plan", "Gold")])).unwrap_err();
    assert_eq!(errs.len(), 2);
    assert_eq!(errs[0].field, "score");
    assert!(errs[0].reason.contains("0 to 10"), "{}", errs[0]);
    assert_eq!(errs[1].field, "plan");
    let missing = s.read_answers(s.first_step(), &form(&[("plan", "Pro")])).unwrap_err();
    assert_eq!(missing[0].to_string(), "score: please answer this question");
}

#[test]
fn feedback_text_prefers_free_text_and_falls_back_to_choices() {
    let s = Survey::parse(nps_spec()).unwrap();
    let first = s.read_answers(s.first_step(), &form(&[("score", "3"), ("plan", "Free")])).unwrap();
    assert_eq!(feedback_text(&s, &first).as_deref(), Some("Which plan are you on?: Free"));
    let mut all = first.clone();
    all.extend(s.read_answers(s.follow_ups(Some(3)), &form(&[("why_low", " Too slow ")])).unwrap());
    assert_eq!(feedback_text(&s, &all).as_deref(), Some("Too slow"));
}

#[test]
fn multiple_choice_keeps_the_survey_order() {
    let spec = SurveySpec {
        id: "features".into(),
        name: "Features".into(),
        kind: "custom".into(),
        questions: vec![QuestionSpec {
            id: "used".into(),
            prompt: "Which do you use?".into(),
            kind: "multiple".into(),
            choices: vec!["Reports".into(), "Exports".into(), "API".into()],
            ..Default::default()
        }],
        ..Default::default()
    };
    let s = Survey::parse(spec).unwrap();
    assert_eq!(s.feedback_source(), "survey");
    let a = s.read_answers(s.first_step(), &form(&[("used", "API"), ("used", "Reports")])).unwrap();
    assert_eq!(a[0].value, AnswerValue::Choices(vec!["Reports".into(), "API".into()]));
    assert!(s.read_answers(s.first_step(), &form(&[("used", "Fax")])).is_err());
}

#[test]
fn bad_specs_name_the_field() {
    let mut spec = nps_spec();
    spec.kind = "poll".into();
    assert_eq!(Survey::parse(spec).unwrap_err().field, "kind");

    let mut spec = nps_spec();
    spec.questions[1].choices = vec!["Only".into()];
    assert_eq!(Survey::parse(spec).unwrap_err().field, "questions[1].choices");

    let mut spec = nps_spec();
    spec.questions[0].when = Some("12-14".into());
    let e = Survey::parse(spec).unwrap_err();
    assert_eq!(e.field, "questions[0].when");
    assert!(e.reason.contains("0-10"), "{e}");

    let mut spec = nps_spec();
    spec.questions[1].id = "why_low".into();
    assert!(Survey::parse(spec).unwrap_err().reason.contains("used twice"));

    let spec = SurveySpec {
        id: "x".into(),
        name: "X".into(),
        kind: "custom".into(),
        questions: vec![QuestionSpec {
            id: "t".into(),
            prompt: "Why?".into(),
            kind: "text".into(),
            when: Some("1-2".into()),
            ..Default::default()
        }],
        ..Default::default()
    };
    assert_eq!(Survey::parse(spec).unwrap_err().field, "questions");
}

#[test]
fn bands_parse() {
    assert_eq!(Band::parse("0-6").unwrap(), Band { min: 0, max: 6 });
    assert_eq!(Band::parse("9").unwrap(), Band { min: 9, max: 9 });
    assert!(Band::parse("7-2").is_err());
    assert!(Band::parse("low").is_err());
}

//! The surveys story: definitions, consent-checked invitations, one response per token (also
//! when two race), follow-ups, embed tokens, expiry, responses becoming feedback, erasure.

use crate::story::{id, ts};
use crate::{
    AudienceFilter, Backend, EmbedKeys, IngestOptions, Kind, NewResponse, RowOutcome, Submitted,
    TokenState,
};
use rapport_core::survey::{Answer, AnswerValue, QuestionSpec, Survey, SurveySpec};
use rapport_core::*;

fn nps(survey_id: &str) -> Survey {
    Survey::parse(SurveySpec {
        id: survey_id.into(),
        name: "Quarterly NPS".into(),
        kind: "nps".into(),
        questions: vec![QuestionSpec {
            id: "why".into(),
            prompt: "What disappointed you?".into(),
            kind: "text".into(),
            when: Some("0-6".into()),
            ..Default::default()
        }],
        ..Default::default()
    })
    .unwrap()
}

fn keys(token: &str, digest: &str) -> EmbedKeys {
    EmbedKeys { token: token.into(), digest: digest.into(), secret: format!("secret-{token}") }
}

fn score(v: i16) -> Vec<Answer> {
    vec![Answer { question: "score".into(), value: AnswerValue::Score(v) }]
}

fn response(digest: &str, customer: Option<&str>, v: i16, at: &str) -> NewResponse {
    NewResponse {
        token_digest: digest.into(),
        customer: customer.map(id),
        answers: score(v),
        at: ts(at),
        follow_up_open: v <= 6,
    }
}

async fn setup(s: &dyn Backend) {
    let mut customers = Vec::new();
    for (c, country) in [("c1", "DE"), ("c2", "DE"), ("c3", "FR"), ("c4", "FR")] {
        let mut cu = Customer::bare(id(c));
        cu.country = Some(country.into());
        customers.push(cu);
    }
    s.upsert_customers(customers, &IngestOptions::default()).await.unwrap();
    let consent = |ext: &str, c: &str, granted: bool, at: &str| Consent {
        id: id(ext),
        customer: id(c),
        purpose: Purpose::Surveys,
        granted,
        source: None,
        at: ts(at),
    };
    let rows = vec![
        consent("k1", "c1", true, "2026-01-01"),
        consent("k2", "c2", true, "2026-01-01"),
        consent("k3", "c2", false, "2026-02-01"),
        consent("k4", "c4", true, "2026-01-01"),
        Consent { purpose: Purpose::Marketing, ..consent("k5", "c3", true, "2026-01-01") },
    ];
    s.ingest_consents(rows, &IngestOptions::default()).await.unwrap();
}

pub async fn surveys_invitations_and_responses(s: &dyn Backend) {
    setup(s).await;
    let now = ts("2026-03-01");
    let survey = nps("nps-q1");
    assert_eq!(
        s.put_survey(&survey, &keys("embed-1", "e1"), now).await.unwrap(),
        RowOutcome::Inserted
    );
    assert_eq!(
        s.put_survey(&survey, &keys("other", "e9"), now).await.unwrap(),
        RowOutcome::Unchanged
    );
    let mut renamed = survey.clone();
    renamed.name = "Q1 NPS".into();
    assert_eq!(
        s.put_survey(&renamed, &keys("other", "e9"), now).await.unwrap(),
        RowOutcome::Updated
    );
    let info = s.survey(&id("nps-q1")).await.unwrap();
    assert_eq!((info.survey.name.as_str(), info.embed_token.as_str()), ("Q1 NPS", "embed-1"));
    assert_eq!(info.embed_secret, "secret-embed-1");
    assert!(s.survey(&id("nope")).await.is_err());

    // Only the latest grant counts: c2 revoked, c3 consented to marketing only.
    let all = s.survey_audience(&id("nps-q1"), &AudienceFilter::default()).await.unwrap();
    let ids: Vec<&str> = all.members.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["c1", "c4"]);
    assert_eq!((all.without_consent, all.already_invited), (2, 0));
    let fr = AudienceFilter { country: Some("FR".into()), ..Default::default() };
    let ids: Vec<String> = s
        .survey_audience(&id("nps-q1"), &fr)
        .await
        .unwrap()
        .members
        .iter()
        .map(|m| m.id.to_string())
        .collect();
    assert_eq!(ids, ["c4"]);
    let one = AudienceFilter { customers: vec![id("c1"), id("c2")], ..Default::default() };
    let a = s.survey_audience(&id("nps-q1"), &one).await.unwrap();
    assert_eq!((a.members.len(), a.without_consent), (1, 1));

    // An invitation for a customer without consent is not written, whatever the caller says.
    let key = |c: &str| all.members.iter().find(|m| m.id.as_str() == c).map(|m| m.key);
    let (k1, k4) = (key("c1").unwrap(), key("c4").unwrap());
    let invites =
        vec![(k1, "t1".to_string()), (k4, "t4".to_string()), (k1 + k4 + 1000, "tx".to_string())];
    let invited =
        s.create_invitations(&id("nps-q1"), invites, ts("2026-04-01"), now).await.unwrap();
    assert_eq!(invited, [k1, k4]);
    let again = s.survey_audience(&id("nps-q1"), &AudienceFilter::default()).await.unwrap();
    assert_eq!((again.members.len(), again.already_invited), (0, 2));
    let twice = s
        .create_invitations(&id("nps-q1"), vec![(k1, "t1b".into())], ts("2026-04-01"), now)
        .await
        .unwrap();
    assert!(twice.is_empty(), "one invitation per customer and survey");

    let open = s.open_token("t1", now).await.unwrap().unwrap();
    assert!(matches!(&open.state, TokenState::Open { customer, .. } if customer.as_str() == "c1"));
    assert_eq!(open.survey.name, "Q1 NPS");
    assert!(s.open_token("unknown", now).await.unwrap().is_none());
    assert_eq!(
        s.open_token("t1", ts("2026-04-02")).await.unwrap().unwrap().state,
        TokenState::Expired
    );

    // One response per token; the follow-up once.
    let r = s.submit_response(response("t1", None, 3, "2026-03-02")).await.unwrap();
    assert!(matches!(r, Submitted::Recorded { .. }), "{r:?}");
    let again = s.submit_response(response("t1", None, 10, "2026-03-02")).await.unwrap();
    assert_eq!(again, Submitted::AlreadyAnswered);
    let state = s.open_token("t1", now).await.unwrap().unwrap().state;
    assert!(
        matches!(state, TokenState::Answered { score: Some(3), follow_up_open: true, .. }),
        "{state:?}"
    );
    let why = vec![Answer {
        question: "why".into(),
        value: AnswerValue::Text("Exports are slow".into()),
    }];
    assert!(matches!(
        s.submit_follow_up("t1", why.clone()).await.unwrap(),
        Submitted::Recorded { .. }
    ));
    assert_eq!(s.submit_follow_up("t1", why).await.unwrap(), Submitted::AlreadyAnswered);
    assert_eq!(
        s.submit_response(response("tx", None, 9, "2026-03-02")).await.unwrap(),
        Submitted::UnknownToken
    );
    assert_eq!(
        s.submit_response(response("t4", None, 9, "2026-05-01")).await.unwrap(),
        Submitted::Expired
    );

    // Two racing submissions of one token: exactly one is recorded.
    let (a, b) = tokio::join!(
        s.submit_response(response("t4", None, 9, "2026-03-03")),
        s.submit_response(response("t4", None, 8, "2026-03-03")),
    );
    let recorded = [&a, &b].iter().filter(|r| matches!(r, Ok(Submitted::Recorded { .. }))).count();
    assert_eq!(recorded, 1, "{a:?} {b:?}");

    // Embed token: any number of responses, with or without a customer.
    assert_eq!(s.open_token("e1", now).await.unwrap().unwrap().state, TokenState::Embed);
    for who in [Some("c3"), None, None] {
        let r = s.submit_response(response("e1", who, 10, "2026-03-04")).await.unwrap();
        assert!(matches!(r, Submitted::Recorded { .. }));
    }

    // Responses of known customers became feedback with the survey's source: ratings, text.
    let ratings = s.ratings("nps").await.unwrap();
    let mut scores: Vec<i16> = ratings.iter().map(|r| r.rating).collect();
    scores.sort();
    assert_eq!(scores.len(), 3, "c1, c4 and c3 (embed); anonymous responses are not feedback");
    assert_eq!(scores[0], 3);
    let responses = s.survey_responses(&id("nps-q1")).await.unwrap();
    assert_eq!(responses.len(), 5);
    assert_eq!(responses[0].customer.as_ref().map(|c| c.as_str()), Some("c1"));
    assert_eq!(responses[0].answers.len(), 2, "the follow-up is kept with the response");
    assert_eq!(responses.iter().filter(|r| r.via == "embed").count(), 3);
    let fb = s.record(Kind::Feedback, &id(&format!("survey-{}", responses[0].id))).await.unwrap();
    let crate::Entity::Feedback(fb) = fb else { panic!("{fb:?}") };
    assert_eq!((fb.source.as_str(), fb.rating), ("nps", Some(3)));
    assert_eq!(fb.text.as_deref(), Some("Exports are slow"));
    let info = s.survey(&id("nps-q1")).await.unwrap();
    assert_eq!((info.invited, info.responses), (2, 5));
    assert_eq!(s.surveys().await.unwrap().len(), 1);

    // Erasure takes the customer's invitations and responses with it.
    s.delete_customer(&id("c1")).await.unwrap();
    assert!(s.open_token("t1", now).await.unwrap().is_none());
    let info = s.survey(&id("nps-q1")).await.unwrap();
    assert_eq!((info.invited, info.responses), (1, 4));
}

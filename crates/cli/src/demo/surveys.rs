//! The demo company's surveys: a quarterly NPS survey sent to every customer who consented to
//! surveys six weeks before "today", answered by about a third of them (scores follow how much
//! and how recently each bought; follow-ups quote the demo's feedback themes), and a custom
//! feature survey on the website, answered anonymously.
//!
//! Written through the same store calls the server makes, with the demo's fixed clock.

use super::data::THEMES;
use super::today;
use anyhow::Context;
use chrono::Duration;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rapport_core::survey::{Answer, AnswerValue, Survey};
use rapport_server::auth::digest;
use rapport_store::{AudienceFilter, Backend, EmbedKeys, NewResponse, Submitted};

const NPS: &str = r#"
id = "nps-2026-q3"
name = "How are we doing? (Q3 2026)"
kind = "nps"
intro = "Two minutes, two questions: your answer goes straight to our product team."
thanks = "Thank you! We read every answer."

[[questions]]
id = "why_low"
prompt = "What should we do better?"
type = "text"
when = "0-6"

[[questions]]
id = "why_high"
prompt = "What do you like most?"
type = "text"
when = "9-10"
"#;

const FEATURES: &str = r#"
id = "feature-survey"
name = "Which features do you use?"
kind = "custom"

[[questions]]
id = "used"
prompt = "Which of these do you use at least weekly?"
type = "multiple"
choices = ["Dashboard", "Exports", "Mobile app", "Integrations"]

[[questions]]
id = "ease"
prompt = "How easy is the product to use?"
type = "rating"
min = 1
max = 5
low = "Very hard"
high = "Very easy"

[[questions]]
id = "wish"
prompt = "What one thing should we build next?"
type = "text"
"#;

fn survey(text: &str) -> anyhow::Result<Survey> {
    let spec = rapport_server::surveys::parse_spec(text).map_err(|e| anyhow::anyhow!("{e}"))?;
    Survey::parse(spec).map_err(|e| anyhow::anyhow!("demo survey: {e}"))
}

fn keys(rng: &mut ChaCha8Rng) -> EmbedKeys {
    let token = format!("e{:032x}", rng.random::<u128>());
    EmbedKeys { digest: digest(&token), secret: format!("{:032x}", rng.random::<u128>()), token }
}

/// A 0–10 score for a customer who bought `orders` times, last `days_ago` days ago.
fn nps_score(rng: &mut ChaCha8Rng, orders: i64, days_ago: Option<i64>) -> i16 {
    let recent = days_ago.is_some_and(|d| d < 120);
    let base = match (orders, recent) {
        (o, true) if o >= 4 => 8.8,
        (o, true) if o >= 2 => 8.0,
        (_, true) => 7.2,
        (o, false) if o >= 2 => 6.0,
        _ => 5.0,
    };
    let noise: f64 = (0..3).map(|_| rng.random_range(-1.6..1.6)).sum();
    (base + noise).round().clamp(0.0, 10.0) as i16
}

pub async fn build(db: &dyn Backend, seed: u64) -> anyhow::Result<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5u64);
    let themes: Vec<Vec<&str>> = THEMES.lines().map(|l| l.split('|').collect()).collect();
    let (nps, features) = (survey(NPS)?, survey(FEATURES)?);
    let sent_at = today() - Duration::days(42);
    db.put_survey(&nps, &keys(&mut rng), sent_at).await?;
    db.put_survey(&features, &keys(&mut rng), sent_at).await?;

    let audience = db.survey_audience(&nps.id, &AudienceFilter::default()).await?;
    let tokens: Vec<String> =
        audience.members.iter().map(|_| format!("{:032x}", rng.random::<u128>())).collect();
    let rows = audience.members.iter().zip(&tokens).map(|(m, t)| (m.key, digest(t))).collect();
    db.create_invitations(&nps.id, rows, sent_at + Duration::days(30), sent_at).await?;
    let mut answered = 0;
    for (m, token) in audience.members.iter().zip(&tokens) {
        if !rng.random_bool(0.35) {
            continue;
        }
        let s = db.customer_summary(&m.id).await?;
        let days_ago = s.last_purchase_at.map(|t| (today() - t).num_days());
        let score = nps_score(&mut rng, s.purchase_orders, days_ago);
        let at = sent_at + Duration::minutes(rng.random_range(5..60 * 24 * 20));
        let mut answers =
            vec![Answer { question: "score".into(), value: AnswerValue::Score(score) }];
        let theme = &themes[rng.random_range(0..themes.len())];
        let follow = match score {
            0..=6 => Some(("why_low", theme[4 + rng.random_range(0..2)])),
            9..=10 => Some(("why_high", theme[2 + rng.random_range(0..2)])),
            _ => None,
        };
        // Most who get a follow-up answer it.
        let text = follow.filter(|_| rng.random_bool(0.7));
        let r = NewResponse {
            token_digest: digest(token),
            customer: None,
            answers: answers.clone(),
            at,
            follow_up_open: text.is_some(),
        };
        match db.submit_response(r).await? {
            Submitted::Recorded { .. } => answered += 1,
            other => anyhow::bail!("demo survey answer for {}: {other:?}", m.id),
        }
        if let Some((question, text)) = text {
            answers
                .push(Answer { question: question.into(), value: AnswerValue::Text(text.into()) });
            let more = answers.split_off(1);
            db.submit_follow_up(&digest(token), more).await.context("demo follow-up")?;
        }
    }
    answered += feature_answers(db, &features, &mut rng).await?;
    Ok(answered)
}

/// Anonymous answers to the website's feature survey, through its embed token.
async fn feature_answers(
    db: &dyn Backend,
    s: &Survey,
    rng: &mut ChaCha8Rng,
) -> anyhow::Result<usize> {
    let info = db.survey(&s.id).await?;
    let wishes = [
        "A dark mode",
        "Scheduled exports to S3",
        "Offline mode in the mobile app",
        "A HubSpot integration",
        "",
    ];
    let features = ["Dashboard", "Exports", "Mobile app", "Integrations"];
    let n = 180;
    for i in 0..n {
        let used: Vec<String> =
            features.iter().filter(|_| rng.random_bool(0.45)).map(|f| f.to_string()).collect();
        let mut answers = vec![Answer {
            question: "ease".into(),
            value: AnswerValue::Score(rng.random_range(2..=5)),
        }];
        if !used.is_empty() {
            answers.push(Answer { question: "used".into(), value: AnswerValue::Choices(used) });
        }
        let wish = wishes[rng.random_range(0..wishes.len())];
        if !wish.is_empty() {
            answers.push(Answer { question: "wish".into(), value: AnswerValue::Text(wish.into()) });
        }
        let r = NewResponse {
            token_digest: digest(&info.embed_token),
            customer: None,
            answers,
            at: today() - Duration::hours(4 * (n - i) as i64),
            follow_up_open: false,
        };
        db.submit_response(r).await?;
    }
    Ok(n)
}

//! Discovery end to end on synthetic corpora with planted topics (seeded), in English and
//! Portuguese; ids across re-runs; determinism; assignment against discovery.

use super::cluster::SplitMix64;
use super::text::{Class, Token, builtin_class, tokens};
use super::*;

/// Planted topics: each text of a topic holds two of its phrases amid filler.
const TOPICS: [&[&str]; 4] = [
    &["battery life", "charger cable", "battery drains fast", "charging port"],
    &["late delivery", "tracking number", "package arrived damaged", "courier lost"],
    &["screen cracked", "touch screen", "screen flickers", "display brightness"],
    &["refund request", "money back", "refund denied", "return label"],
];

/// Words of no topic: each is in a few percent of the texts, as the words around a topic
/// are in real feedback.
const FILLER: &str = "bought item month wife husband son daughter thinks overall seems okay \
    honestly price fair compared brands daily home kids colour shape weight size box manual \
    quickly store online laptop tablet friend gift week morning evening weekend holiday office \
    kitchen garden car travel work school birthday christmas summer winter spring autumn \
    neighbour sister brother mother father colleague boss team project meeting party dinner \
    lunch breakfast coffee tea water music movie game book paper pen desk chair table lamp \
    window door wall floor roof street city village country beach mountain river lake forest";
fn pick<'a>(rng: &mut SplitMix64, xs: &[&'a str]) -> &'a str {
    xs[(rng.next_u64() % xs.len() as u64) as usize]
}

/// `per_topic` texts per topic and as many of filler alone (the topic of each, or `None`).
fn corpus(per_topic: usize, seed: u64) -> (Vec<String>, Vec<Option<usize>>) {
    let filler: Vec<&str> = FILLER.split_whitespace().collect();
    let mut rng = SplitMix64::new(seed);
    let mut out = Vec::new();
    for i in 0..per_topic * (TOPICS.len() + 1) {
        let topic = (i % (TOPICS.len() + 1) < TOPICS.len()).then_some(i % (TOPICS.len() + 1));
        let mut words: Vec<String> = (0..4).map(|_| pick(&mut rng, &filler).to_string()).collect();
        if let Some(t) = topic {
            words.insert(2, pick(&mut rng, TOPICS[t]).into());
            words.push(format!(", {}.", pick(&mut rng, TOPICS[t])));
        }
        out.push((words.join(" "), topic));
    }
    out.into_iter().unzip()
}

fn params(themes: usize) -> ValidThemeParams {
    ThemeParams { themes, ..ThemeParams::default() }.check().unwrap()
}

/// A theme's texts per planted topic (the last slot: filler texts).
fn composition(
    found: &Discovery,
    topic: &[Option<usize>],
    id: ThemeId,
) -> [usize; TOPICS.len() + 1] {
    let mut per = [0; TOPICS.len() + 1];
    for (a, t) in found.assignments.iter().zip(topic) {
        if a.is_some_and(|a| a.theme == id) {
            per[t.unwrap_or(TOPICS.len())] += 1;
        }
    }
    per
}

/// For each planted topic: the themes mostly of it (largest first), the share of the topic's
/// texts they hold, and the least share of a theme's texts of that topic (its purity). A
/// topic may come out split into several themes when k exceeds the topics.
fn recovered(found: &Discovery, topic: &[Option<usize>]) -> Vec<(Vec<ThemeId>, f64, f64)> {
    let mut out = vec![(Vec::new(), 0.0, 1.0f64); TOPICS.len()];
    for theme in found.model.themes() {
        let per = composition(found, topic, theme.id);
        let (t, &most) =
            per.iter().enumerate().max_by_key(|e| (e.1, std::cmp::Reverse(e.0))).unwrap();
        if t < TOPICS.len() {
            let planted = topic.iter().filter(|&&x| x == Some(t)).count() as f64;
            out[t].0.push(theme.id);
            out[t].1 += most as f64 / planted;
            out[t].2 = out[t].2.min(most as f64 / theme.size as f64);
        }
    }
    out
}

#[test]
fn planted_topics_are_recovered_and_named_by_their_phrases() {
    let (texts, topic) = corpus(300, 7);
    let found = discover(&texts, &params(8), &[]);
    for (t, (ids, recall, purity)) in recovered(&found, &topic).into_iter().enumerate() {
        assert!(recall >= 0.8, "topic {t}: {recall:.2} of its texts in its themes");
        assert!(purity >= 0.95, "topic {t}: {purity:.2} of a theme's texts are of it");
        let theme = found.model.theme(ids[0]).unwrap();
        let label_phrase = theme.label.split(" / ").next().unwrap();
        assert!(TOPICS[t].iter().any(|p| p.contains(label_phrase)), "topic {t}: {theme:?}");
        for &e in &theme.examples {
            assert_eq!(topic[e], Some(t), "an example of topic {t} is of it: {}", texts[e]);
        }
    }
    let noise = topic.iter().filter(|t| t.is_none()).count();
    let noise_assigned =
        topic.iter().zip(&found.assignments).filter(|(t, a)| t.is_none() && a.is_some());
    assert!(noise_assigned.count() * 2 < noise, "most filler-only texts stay unassigned");
}

#[test]
fn a_new_text_gets_the_theme_discovery_gave_it() {
    let (texts, _) = corpus(100, 3);
    let found = discover(&texts, &params(8), &[]);
    for (text, a) in texts.iter().zip(&found.assignments) {
        let again = found.model.assign(text);
        assert_eq!(again.map(|a| a.theme), a.map(|a| a.theme), "{text}");
        if let (Some(x), Some(y)) = (again, a) {
            assert!((x.score - y.score).abs() < 1e-5);
        }
    }
    let battery = found.model.assign("The BATTERY LIFE is poor; the charger cable broke.").unwrap();
    assert!(found.model.theme(battery.theme).unwrap().label.contains("battery"));
    assert_eq!(found.model.assign("nothing relevant here at all"), None);
}

#[test]
fn ids_persist_when_the_corpus_grows_by_a_tenth() {
    let (texts, _) = corpus(300, 11);
    let first = discover(&texts, &params(8), &[]);
    // The same corpus again gives the same ids, previous themes or not (hashed phrases).
    let again = discover(&texts, &params(8), &[]);
    assert_eq!(first.model.themes(), again.model.themes());
    let (more, _) = corpus(30, 12);
    let grown: Vec<String> = texts.iter().chain(&more).cloned().collect();
    let second = discover(&grown, &params(8), first.model.themes());
    let old: Vec<ThemeId> = first.model.themes().iter().map(|t| t.id).collect();
    let kept = second.model.themes().iter().filter(|t| old.contains(&t.id)).count();
    assert!(kept * 4 >= old.len() * 3, "{kept} of {} ids kept", old.len());
    // Every planted topic keeps the ids of its themes.
    let (_, topic) = corpus(300, 11);
    let (_, more_topic) = corpus(30, 12);
    let grown_topic: Vec<_> = topic.iter().chain(&more_topic).copied().collect();
    for (b, a) in recovered(&first, &topic).iter().zip(&recovered(&second, &grown_topic)) {
        assert_eq!(a.0, b.0);
    }
}

#[test]
fn discovery_is_deterministic_on_a_parallel_sized_corpus() {
    // Over 20,000 texts the passes run on chunks on threads.
    let (texts, topic) = corpus(5_000, 5);
    let a = discover(&texts, &params(10), &[]);
    let b = discover(&texts, &params(10), &[]);
    assert_eq!(a.model.themes(), b.model.themes());
    assert_eq!(a.assignments, b.assignments);
    let r = recovered(&a, &topic);
    assert!(r.iter().all(|r| r.1 >= 0.8 && r.2 >= 0.95), "{r:?}");
    let other_seed = ThemeParams { themes: 10, seed: 1, ..ThemeParams::default() }.check().unwrap();
    let c = discover(&texts, &other_seed, &[]);
    let r = recovered(&c, &topic);
    assert!(r.iter().all(|r| r.1 >= 0.75 && r.2 >= 0.95), "another seed finds them too: {r:?}");
}

#[test]
fn portuguese_reviews_give_portuguese_phrases_with_negations_and_accents_kept() {
    let topics: [&[&str]; 6] = [
        &["Entrega rápida, chegou antes do prazo.", "Chegou antes do prazo, entrega rápida!"],
        &[
            "Não recebi o produto até agora.",
            "Ainda não recebi o produto, péssimo.",
            "Nao recebi o produto.",
        ],
        &["Produto de ótima qualidade, recomendo.", "Ótima qualidade, recomendo a loja."],
        &["Veio com defeito, não funciona.", "Produto com defeito, não liga."],
        &["Cor diferente da foto.", "Produto diferente do anunciado na foto."],
        &["Atendimento excelente da loja.", "Excelente atendimento, resolveram tudo."],
    ];
    let openers = ["Comprei pelo site.", "Gostei.", "Pedido feito em maio.", "Loja boa.", "Enfim."];
    let mut rng = SplitMix64::new(9);
    let mut texts = Vec::new();
    let mut topic = Vec::new();
    for i in 0..600 {
        let t = i % topics.len();
        texts.push(format!("{} {}", pick(&mut rng, &openers), pick(&mut rng, topics[t])));
        topic.push(t);
    }
    let found = discover(&texts, &params(6), &[]);
    let labels: Vec<&str> = found.model.themes().iter().map(|t| t.label.as_str()).collect();
    let theme_with = |phrase: &str| {
        let t = found.model.themes().iter().find(|t| t.label.contains(phrase));
        t.unwrap_or_else(|| panic!("no theme named by {phrase:?}: {labels:?}"))
    };
    // The accented spelling is the commoner, so it is the one shown.
    for phrase in
        ["antes do prazo", "não recebi", "ótima qualidade", "defeito", "foto", "atendimento"]
    {
        let theme = theme_with(phrase);
        let of = |d: usize| found.assignments[d].is_some_and(|a| a.theme == theme.id);
        let t = topic[theme.examples[0]];
        let recall = (0..texts.len()).filter(|&d| topic[d] == t && of(d)).count();
        assert!(recall >= 90, "{phrase}: {recall} of 100 texts");
    }
    let unaccented = found.model.assign("nao recebi o produto").unwrap();
    assert_eq!(unaccented.theme, theme_with("não recebi").id);
}

#[test]
fn stabilise_carries_ids_over_overlapping_phrases_and_hashes_the_rest() {
    let theme = |id: u64, phrases: &[&str]| Theme {
        id: ThemeId(id),
        label: phrases[0].into(),
        phrases: phrases
            .iter()
            .map(|p| ThemePhrase { text: (*p).into(), weight: 0.5, docs: 1 })
            .collect(),
        size: 1,
        examples: vec![],
    };
    let previous =
        [theme(7, &["battery life", "charger", "battery"]), theme(8, &["refund", "money back"])];
    let mut next = [
        theme(0, &["Money back", "refund", "return label"]),
        theme(0, &["screen", "touch screen"]),
        theme(0, &["screen", "display"]),
    ];
    stabilise(&previous, &mut next, 0.3);
    assert_eq!(next[0].id, ThemeId(8), "2 of 3 phrases shared, case folded");
    assert_eq!(next[1].id, ThemeId(fnv1a("screen\n")));
    assert_ne!(next[2].id, next[1].id, "same top phrase, another id");
    assert_eq!(next[2].id, ThemeId(fnv1a("screen\ndisplay\n")));
    assert_eq!(ThemeId::try_from(next[1].id.to_string()), Ok(next[1].id));
}

#[test]
fn words_are_letter_runs_folded_with_breaks_at_punctuation() {
    let mut got = Vec::new();
    tokens("Não recebi, o PRODUTO!! Doesn’t work… 2x-3", &mut Default::default(), |t| {
        got.push(match t {
            Token::Word { folded, lower } => format!("{folded}/{lower}"),
            Token::Break => "|".into(),
        })
    });
    assert_eq!(
        got,
        [
            "nao/não",
            "recebi/recebi",
            "|",
            "o/o",
            "produto/produto",
            "|",
            "doesn't/doesn't",
            "work/work",
            "|",
            "2x/2x",
            "3/3"
        ]
    );
    assert_eq!(builtin_class("nao"), Class::Negation);
    assert_eq!(builtin_class("the"), Class::Stop);
    assert_eq!(builtin_class("2024"), Class::Stop);
    assert_eq!(builtin_class("entrega"), Class::Content);
}

#[test]
fn parameters_out_of_range_are_refused_by_name() {
    let bad = |p: ThemeParams| p.check().unwrap_err().field;
    assert_eq!(bad(ThemeParams { themes: 0, ..Default::default() }), "themes");
    assert_eq!(bad(ThemeParams { min_similarity: 0.0, ..Default::default() }), "min_similarity");
    assert_eq!(bad(ThemeParams { max_doc_share: 1.5, ..Default::default() }), "max_doc_share");
    assert!(ThemeParams::default().check().is_ok());
    let empty: [&str; 0] = [];
    let found = discover(&empty, &params(5), &[]);
    assert!(found.model.themes().is_empty() && found.model.assign("anything").is_none());
}

use super::*;

fn hasher() -> MinHasher {
    DuplicateParams::default().check().unwrap()
}

fn similarity(a: &str, b: &str) -> f32 {
    let h = hasher();
    jaccard(&h.shingles(a), &h.shingles(b))
}

#[test]
fn the_same_words_written_differently_are_duplicates() {
    let pairs = [
        ("Great product, fast delivery!", "great product fast delivery"),
        ("Não recebi o produto até agora!!!", "nao recebi o produto ate agora"),
        (
            "Produto chegou antes do prazo, muito bem embalado. Recomendo a loja!",
            "produto chegou antes do prazo muito bem embalado recomendo a loja",
        ),
        ("ÓTIMO", "ótimo!"),
    ];
    let h = hasher();
    for (a, b) in pairs {
        assert_eq!(similarity(a, b), 1.0, "{a:?} / {b:?}");
        assert_eq!(h.signature(a), h.signature(b));
    }
}

#[test]
fn small_edits_of_longer_texts_stay_above_the_threshold() {
    let pairs = [
        (
            "I ordered the blue one but received a red one and support never answered my emails",
            "i ordered the blue one but received a red one, and support never answered my email",
        ),
        (
            "Comprei dois produtos e só recebi um, já entrei em contato com a loja e até agora nada",
            "Comprei dois produtos e so recebi um. Ja entrei em contato com a loja e ate agora nada!!",
        ),
        (
            "O produto veio com defeito e a loja não respondeu minhas mensagens sobre a troca",
            "O produto veio com defeito e a loja não respondeu às minhas mensagens sobre a troca",
        ),
    ];
    for (a, b) in pairs {
        assert!(similarity(a, b) >= 0.8, "{a:?} / {b:?}: {}", similarity(a, b));
    }
}

#[test]
fn different_opinions_in_similar_words_are_not_duplicates() {
    let pairs = [
        ("great product", "bad product"),
        ("Ótimo produto", "Péssimo produto"),
        ("muito bom", "muito ruim"),
        ("not good", "good"),
        ("Produto chegou antes do prazo", "Produto chegou depois do prazo"),
        (
            "The app crashes when I open the settings page",
            "The app is fast when I open the settings page",
        ),
    ];
    for (a, b) in pairs {
        // Well under the default threshold 0.8; "Ótimo produto" / "Péssimo produto" is the
        // closest (8 of 14 character 4-grams: "imo produto").
        assert!(similarity(a, b) < 0.6, "{a:?} / {b:?}: {}", similarity(a, b));
    }
    // "great product" / "bad product": 5 of 13 character 4-grams, as the module docs say.
    assert!((similarity("great product", "bad product") - 5.0 / 13.0).abs() < 1e-6);
}

#[test]
fn short_texts_use_character_shingles_and_longer_ones_word_pairs() {
    let h = hasher();
    assert_eq!(h.shingles("ok").len(), 1, "under four characters: one shingle");
    assert_eq!(h.shingles("").len(), 0);
    assert_eq!(h.shingles("?!").len(), 0);
    // Four words (< k + 3 = 5): character 4-grams of "a bb cc dd" (10 characters).
    assert_eq!(h.shingles("a bb cc dd").len(), 7);
    // Five words: four word pairs.
    assert_eq!(h.shingles("a bb cc dd ee").len(), 4);
    assert_eq!(h.shingles("a b a b a b").len(), 2, "a set: repeated pairs count once");
}

#[test]
fn one_changed_word_in_m_gives_the_word_pair_jaccard_m_minus_3_over_m_plus_1() {
    let words: Vec<String> = (0..30).map(|i| format!("w{i}")).collect();
    for (m, at) in [(10, 4), (20, 9), (30, 15)] {
        let a = words[..m].join(" ");
        let mut edited = words[..m].to_vec();
        edited[at] = "changed".into();
        let want = (m as f32 - 3.0) / (m as f32 + 1.0);
        assert!((similarity(&a, &edited.join(" ")) - want).abs() < 1e-6, "m = {m}");
    }
}

#[test]
fn signatures_are_deterministic_across_hashers_and_releases() {
    let (a, b) = (hasher(), hasher());
    let text = "The delivery was late and the box arrived damaged";
    assert_eq!(a.signature(text), b.signature(text));
    // Stored signatures must keep matching new ones: this pins the hashing (bump FORMAT and
    // recompute stored signatures if it ever has to change).
    assert_eq!(
        &a.signature(text).values()[..4],
        &[93_727_841, 901_163_918, 202_767_378, 61_335_758]
    );
    let other = DuplicateParams { seed: 1, ..DuplicateParams::default() }.check().unwrap();
    assert_ne!(other.signature(text).values(), a.signature(text).values());
    assert!(!a.is_own(&other.signature(text)));
    // Banding and threshold do not shape signatures: they need no recomputation.
    let banded = DuplicateParams { bands: 12, threshold: 0.7, ..DuplicateParams::default() };
    assert!(banded.check().unwrap().is_own(&a.signature(text)));
}

#[test]
fn signatures_round_trip_through_bytes() {
    let h = hasher();
    for text in ["The delivery was late and the box arrived damaged", "ok", ""] {
        let sig = h.signature(text);
        let bytes = sig.to_bytes();
        assert_eq!(bytes.len(), if text.is_empty() { 5 } else { 5 + 4 * 96 });
        let back = Signature::from_bytes(&bytes).unwrap();
        assert_eq!(back, sig);
        assert!(h.is_own(&back));
    }
    assert!(Signature::from_bytes(&[]).is_err());
    assert!(Signature::from_bytes(&[9, 0, 0, 0, 0]).is_err(), "unknown format");
    assert!(Signature::from_bytes(&[FORMAT, 0, 0, 0, 0, 1]).is_err(), "ragged");
    let mut truncated = h.signature("ok").to_bytes();
    truncated.truncate(5 + 4 * 50);
    assert!(!h.is_own(&Signature::from_bytes(&truncated).unwrap()), "wrong length");
}

#[test]
fn parameters_are_checked_naming_the_field() {
    let bad = |p: DuplicateParams| p.check().unwrap_err().field;
    let d = DuplicateParams::default();
    assert_eq!(bad(DuplicateParams { shingle: 0, ..d }), "shingle");
    assert_eq!(bad(DuplicateParams { num_hashes: 4, ..d }), "num_hashes");
    assert_eq!(bad(DuplicateParams { bands: 10, ..d }), "bands");
    assert_eq!(bad(DuplicateParams { bands: 0, ..d }), "bands");
    assert_eq!(bad(DuplicateParams { threshold: 0.0, ..d }), "threshold");
    assert_eq!(bad(DuplicateParams { threshold: f32::NAN, ..d }), "threshold");
    assert_eq!(d.check().unwrap().rows(), 6);
}

/// Two sets of 100 hashes sharing `common`: Jaccard common / (200 − common).
fn pair_of_sets(state: &mut u64, common: usize) -> (Shingles, Shingles) {
    let shared: Vec<u32> = (0..common).map(|_| splitmix64(state) as u32).collect();
    let own =
        |state: &mut u64| (0..100 - common).map(|_| splitmix64(state) as u32).collect::<Vec<_>>();
    let a = Shingles::from_hashes(shared.iter().copied().chain(own(state)));
    let b = Shingles::from_hashes(shared.iter().copied().chain(own(state)));
    (a, b)
}

/// 1,000 pairs at each known similarity: the index finds the partner as often as
/// 1 − (1 − s^r)^b says (within 4 standard deviations), and the estimate is unbiased.
#[test]
fn recall_at_a_known_jaccard_follows_the_banding_curve() {
    let h = hasher();
    let mut state = 42;
    for common in [46, 67, 82, 89, 95] {
        let pairs: Vec<_> = (0..1000).map(|_| pair_of_sets(&mut state, common)).collect();
        let s = jaccard(&pairs[0].0, &pairs[0].1) as f64;
        assert!((s - common as f64 / (200 - common) as f64).abs() < 1e-6);
        let index = LshIndex::build(
            &h,
            pairs.iter().enumerate().map(|(i, p)| (i as i64, h.signature_of(&p.0))),
        );
        let mut found = 0;
        let mut estimate = 0.0;
        for (i, (_, b)) in pairs.iter().enumerate() {
            let sig = h.signature_of(b);
            found += usize::from(index.candidates(&sig).contains(&(i as i64)));
            estimate += h.signature_of(&pairs[i].0).similarity(&sig) as f64;
        }
        let p = h.candidate_probability(s);
        let rate = found as f64 / 1000.0;
        let sd = (p * (1.0 - p) / 1000.0).sqrt().max(0.001);
        assert!((rate - p).abs() < 4.0 * sd, "s = {s:.3}: found {rate}, expected {p:.4}");
        let sd_mean = (s * (1.0 - s) / 96.0 / 1000.0).sqrt();
        assert!(
            (estimate / 1000.0 - s).abs() < 4.0 * sd_mean,
            "s = {s:.3}: mean estimate {}",
            estimate / 1000.0
        );
    }
    assert!(h.candidate_probability(0.8) > 0.99);
    assert!(h.candidate_probability(0.3) < 0.02);
}

#[test]
fn clusters_group_duplicates_and_leave_the_rest() {
    let texts = [
        "Great product, fast delivery!",             // 0
        "Não recebi o produto e ninguém responde",   // 1
        "great product fast delivery",               // 2
        "bad product",                               // 3
        "!!!",                                       // 4
        "nao recebi o produto e ninguem responde!!", // 5
        "great product",                             // 6
        "",                                          // 7
        "Great product, fast delivery!",             // 8
        "I ordered the blue one but received a red one and support never answered my emails", // 9
        "i ordered the blue one but received a red one, and support never answered my email", // 10
        "??",                                        // 11
    ];
    let groups = hasher().clusters(&texts);
    assert_eq!(groups, vec![vec![0, 2, 8], vec![1, 5], vec![9, 10]]);
    assert!(hasher().clusters(&Vec::<String>::new()).is_empty());
}

#[test]
fn clusters_link_through_verified_pairs_only() {
    // b is a and c with one word changed each way; a and c differ in two words.
    let base: Vec<String> = (0..40).map(|i| format!("w{i}")).collect();
    let mut b = base.clone();
    b[10] = "x".into();
    let mut c = b.clone();
    c[30] = "y".into();
    let far = (0..40).map(|i| format!("v{i}")).collect::<Vec<_>>().join(" ");
    let texts = [base.join(" "), b.join(" "), c.join(" "), far];
    let loose = DuplicateParams { threshold: 0.85, ..DuplicateParams::default() }.check().unwrap();
    assert_eq!(loose.clusters(&texts), vec![vec![0, 1, 2]], "a ~ b ~ c chain");
    let strict = DuplicateParams { threshold: 0.91, ..DuplicateParams::default() }.check().unwrap();
    assert!(strict.clusters(&texts).is_empty(), "one changed word in 40: 37/41 = 0.902");
}

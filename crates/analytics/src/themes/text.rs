//! Words for theme discovery: a tokeniser that works for any language written with spaces
//! (lowercased runs of Unicode letters and digits, Latin accents folded), the built-in English
//! and Portuguese stop words and negations, and the corpus vocabulary built on fixed chunks.

use super::in_chunks;
use rustc_hash::FxHashMap;

/// A token stream's sentence break: phrases never span one.
pub(super) const BREAK: u32 = u32::MAX;

/// Most words a phrase key can address (21 bits per word, see [`super::phrases`]).
pub(super) const MAX_WORDS: usize = (1 << 21) - 2;

/// English and Portuguese function words, accents folded. Short on purpose: the corpus adds
/// its own (words in more than `max_doc_share` of the texts), which is what makes this work
/// for other languages too.
const STOP_WORDS: &str = "
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing down during each else even ever
few for from further get got had has have having he her here hers herself him himself his how
i if in into is it its itself just let me more most much my myself now of off on once only or
other our ours ourselves out over own really same she should so some such than that the their
theirs them themselves then there these they this those through to too under until up us very
was we were what when where which while who whom why will with would you your yours yourself
yourselves one thing things still well way lot lots etc ok im ive id youre thats dont
i'm i've i'll i'd it's that's there's here's what's let's you're you've you'll you'd he's
she's we're we've we'll they're they've they'll also however though although yet just
simply quite rather pretty probably perhaps maybe actually anyway indeed like many every
another since whether either neither may might must shall us upon via per within
across after afterwards almost alone along already always amongst anyhow anyone anything
anywhere around become becomes became beforehand behind beside besides beyond cannot could
else elsewhere enough especially everyone everything everywhere except first former
hence hereby however hundred last latter least less mostly move much namely next nobody
often otherwise part please put seem seemed seems several something sometime sometimes
somewhere thereby therefore thus together toward towards whatever whenever wherever
whereas whole whose would yet think thought know knew want wanted need needed say said
says go going goes went gone get gets getting make makes made try tried trying come came
take took give gave look looks looked see saw seen tell told thing things lot bit way
sobre apos cada onde entao ser sido estar esta estava estavam estive fazer fez faz ter
tendo havia tiver seria sera fosse forem nesse nessa neste nesta desse dessa deste desta
daquele aquele aquela aquilo algum alguma alguns algumas outro outra outros outras todo
toda todos todas ate mim comigo sim la cá la ali lo
a ao aos as ate com como da das de dela dele deles depois do dos e ela elas ele eles em
entre era eram essa essas esse esses esta estas este estes estou esta estao eu foi fomos
for foram ha isso isto ja la lhe lhes mais mas me mesmo meu meus minha minhas muito muita
muitos muitas na nas no nos nossa nosso num numa o os ou para pela pelas pelo pelos por
pra pro qual quando que quem se seja ser sera seu seus so sua suas tambem te tem tinha
tenho ter teu tua tudo um uma umas uns voce voces vou vai ai aqui assim bem pois porque
q pq vc ta to agora ainda
";

/// Words that negate what follows: a phrase may start with one ("não recebi", "not working")
/// but never end with one, and alone it is no phrase.
const NEGATIONS: &str = "
not no never nor cannot can't cant don't doesn't doesnt didn't didnt isn't isnt wasn't wasnt
won't wont aren't arent weren't werent haven't havent hasn't hasnt hadn't couldn't couldnt
wouldn't wouldnt shouldn't without nothing none
nao nem nunca sem jamais nenhum nenhuma nada
";

/// What a word may be in a phrase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Class {
    /// Starts and ends phrases, and is a phrase alone.
    Content,
    /// Only inside a phrase.
    Stop,
    /// Starts a phrase or sits inside one.
    Negation,
}

/// The built-in class of a folded word (corpus stop words are added later).
pub(super) fn builtin_class(word: &str) -> Class {
    use std::sync::OnceLock;
    static LISTS: OnceLock<FxHashMap<&'static str, Class>> = OnceLock::new();
    let lists = LISTS.get_or_init(|| {
        let mut m: FxHashMap<&str, Class> =
            STOP_WORDS.split_whitespace().map(|w| (w, Class::Stop)).collect();
        m.extend(NEGATIONS.split_whitespace().map(|w| (w, Class::Negation)));
        m
    });
    match lists.get(word) {
        Some(&c) => c,
        // One letter, or digits alone, are never content ("5", "x").
        None if word.chars().nth(1).is_none() || word.bytes().all(|b| b.is_ascii_digit()) => {
            Class::Stop
        }
        None => Class::Content,
    }
}

/// A Latin letter without its accent ("ã" -> "a", "ç" -> "c"; [`crate::text::fold`]), a
/// typographic apostrophe as a plain one; any other character as it is.
fn fold(c: char) -> char {
    match c {
        '’' => '\'',
        c => crate::text::fold(c),
    }
}

/// Characters that end a sentence or clause: phrases do not cross them.
fn is_break(c: char) -> bool {
    matches!(
        c,
        '.' | ',' | ';' | ':' | '!' | '?' | '(' | ')' | '[' | ']' | '"' | '\n' | '…' | '¿' | '¡'
    )
}

/// One token of a text.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Token<'a> {
    /// A word: folded (the key) and lowercased as written (for display).
    Word {
        folded: &'a str,
        lower: &'a str,
    },
    Break,
}

/// Calls `f` with each token of `text`. Words are runs of letters and digits, with inner
/// apostrophes kept ("don't"); breaks are reported once between words.
pub(super) fn tokens(text: &str, bufs: &mut (String, String), mut f: impl FnMut(Token)) {
    let (folded, lower) = bufs;
    folded.clear();
    lower.clear();
    // A break is reported only between two words.
    let mut broken = true;
    let mut chars = text.chars().peekable();
    loop {
        let c = chars.next();
        match c {
            Some(c) if c.is_alphanumeric() => {
                for l in c.to_lowercase() {
                    lower.push(l);
                    folded.push(fold(l));
                }
                continue;
            }
            Some('\'' | '’')
                if !folded.is_empty() && chars.peek().is_some_and(|n| n.is_alphanumeric()) =>
            {
                lower.push('\'');
                folded.push('\'');
                continue;
            }
            _ => {}
        }
        if !folded.is_empty() {
            f(Token::Word { folded, lower });
            folded.clear();
            lower.clear();
            broken = false;
        }
        match c {
            None => break,
            Some(c) if is_break(c) && !broken => {
                f(Token::Break);
                broken = true;
            }
            Some(_) => {}
        }
    }
}

/// The corpus as word ids: every text's tokens (ids or [`BREAK`]), one after another.
pub(super) struct Corpus {
    pub tokens: Vec<u32>,
    /// Text `i` is `tokens[starts[i]..starts[i + 1]]`.
    pub starts: Vec<usize>,
    pub words: Vec<Word>,
    /// Folded word -> id.
    pub ids: FxHashMap<Box<str>, u32>,
}

/// A word of the vocabulary.
#[derive(Clone, Debug)]
pub(super) struct Word {
    pub folded: Box<str>,
    /// The most common way it is written (lowercased), for labels.
    pub display: Box<str>,
    /// Texts it occurs in.
    pub docs: u32,
    pub class: Class,
}

impl Corpus {
    /// The id of a folded word.
    pub fn word(&self, folded: &str) -> Option<u32> {
        self.ids.get(folded).copied()
    }

    pub fn text(&self, i: usize) -> &[u32] {
        &self.tokens[self.starts[i]..self.starts[i + 1]]
    }
}

/// One chunk's tokens with chunk-local word ids.
#[derive(Default)]
struct Local {
    ids: FxHashMap<Box<str>, u32>,
    words: Vec<Box<str>>,
    docs: Vec<u32>,
    uses: Vec<u32>,
    /// How often each accented spelling of a word occurs (local id, spelling).
    spellings: FxHashMap<(u32, Box<str>), u32>,
    tokens: Vec<u32>,
    ends: Vec<usize>,
}

fn tokenise_chunk<S: AsRef<str>>(texts: &[S]) -> Local {
    let mut local = Local::default();
    let mut bufs = (String::new(), String::new());
    let mut seen: Vec<u32> = Vec::new();
    for text in texts {
        let start = local.tokens.len();
        tokens(text.as_ref(), &mut bufs, |t| match t {
            Token::Break => local.tokens.push(BREAK),
            Token::Word { folded, lower } => {
                let id = match local.ids.get(folded) {
                    Some(&id) => id,
                    None => {
                        let id = local.words.len() as u32;
                        local.ids.insert(folded.into(), id);
                        local.words.push(folded.into());
                        local.docs.push(0);
                        local.uses.push(0);
                        id
                    }
                };
                local.uses[id as usize] += 1;
                if lower != folded {
                    *local.spellings.entry((id, lower.into())).or_default() += 1;
                }
                local.tokens.push(id);
            }
        });
        seen.clear();
        seen.extend(local.tokens[start..].iter().filter(|&&t| t != BREAK));
        seen.sort_unstable();
        seen.dedup();
        for &id in &seen {
            local.docs[id as usize] += 1;
        }
        local.ends.push(local.tokens.len());
    }
    local
}

/// Tokenises every text and keeps the words found in at least `min_docs` texts (other words
/// become breaks: no phrase can hold them). Words in more than `max_docs` texts become stop
/// words. Ids follow first occurrence, so they depend on the texts alone.
pub(super) fn corpus<S: AsRef<str> + Sync>(texts: &[S], min_docs: u32, max_docs: u32) -> Corpus {
    let locals = in_chunks(texts, tokenise_chunk);
    // Chunk-local ids -> ids in first-occurrence order over the whole corpus.
    let mut ids: FxHashMap<&str, u32> = FxHashMap::default();
    let mut names: Vec<&str> = Vec::new();
    let mut docs: Vec<u32> = Vec::new();
    let mut uses: Vec<u32> = Vec::new();
    let mut maps = Vec::with_capacity(locals.len());
    for local in &locals {
        let map: Vec<u32> = local
            .words
            .iter()
            .zip(local.docs.iter().zip(&local.uses))
            .map(|(w, (&d, &u))| {
                let id = *ids.entry(w).or_insert_with(|| {
                    names.push(w);
                    docs.push(0);
                    uses.push(0);
                    names.len() as u32 - 1
                });
                docs[id as usize] += d;
                uses[id as usize] += u;
                id
            })
            .collect();
        maps.push(map);
    }
    // Keep words in enough texts, renumbered compactly.
    let mut keep = vec![BREAK; names.len()];
    let mut words = Vec::new();
    for (id, &name) in names.iter().enumerate() {
        if docs[id] >= min_docs && words.len() < MAX_WORDS {
            keep[id] = words.len() as u32;
            let class = match builtin_class(name) {
                Class::Content if docs[id] > max_docs => Class::Stop,
                c => c,
            };
            words.push(Word { folded: name.into(), display: name.into(), docs: docs[id], class });
        }
    }
    // The display form: the commonest spelling, the folded one included (ties: the first in
    // string order, so it depends on the counts alone).
    let mut spellings: FxHashMap<(u32, &str), u32> = FxHashMap::default();
    for (local, map) in locals.iter().zip(&maps) {
        for ((id, s), &n) in &local.spellings {
            let kept = keep[map[*id as usize] as usize];
            if kept != BREAK {
                *spellings.entry((kept, s)).or_default() += n;
            }
        }
    }
    let mut best: Vec<(u32, &str)> =
        (0..names.len()).filter(|&i| keep[i] != BREAK).map(|i| (uses[i], names[i])).collect();
    for (&(id, _), &n) in &spellings {
        best[id as usize].0 -= n;
    }
    for (&(id, s), &n) in &spellings {
        let b = &mut best[id as usize];
        if n > b.0 || (n == b.0 && s < b.1) {
            *b = (n, s);
        }
    }
    for (word, (_, s)) in words.iter_mut().zip(best) {
        word.display = s.into();
    }
    let mut tokens = Vec::new();
    let mut starts = vec![0];
    for (local, map) in locals.iter().zip(&maps) {
        let mut from = 0;
        for &end in &local.ends {
            tokens.extend(
                local.tokens[from..end]
                    .iter()
                    .map(|&t| if t == BREAK { BREAK } else { keep[map[t as usize] as usize] }),
            );
            starts.push(tokens.len());
            from = end;
        }
    }
    let ids = words.iter().enumerate().map(|(i, w)| (w.folded.clone(), i as u32)).collect();
    Corpus { tokens, starts, words, ids }
}

/// A text as its folded words joined by spaces ("Não  Recebi!" -> "nao recebi").
pub(super) fn normalise(text: &str) -> String {
    let mut out = String::new();
    tokens(text, &mut (String::new(), String::new()), |t| {
        if let Token::Word { folded, .. } = t {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(folded);
        }
    });
    out
}

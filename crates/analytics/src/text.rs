//! Text helpers shared by the text analytics (duplicates, themes).

/// The base letters of U+0100..U+017F (Latin Extended-A), lower and upper alike; `_` keeps
/// the letter (ligatures, kra, eng).
const EXTENDED_A: &[u8; 128] = b"aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii__jjkk_llllllllllnnnnnnn__oooooo__rrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";

/// A lowercase Latin letter without its accent (reviews drop accents often enough that "nao"
/// and "não" must be one word): Latin-1 and Latin Extended-A, which cover
/// Portuguese, Spanish, French, German, Italian and the Central European languages.
pub fn fold(c: char) -> char {
    match c {
        'à'..='å' => 'a',
        'ç' => 'c',
        'è'..='ë' => 'e',
        'ì'..='ï' => 'i',
        'ñ' => 'n',
        'ò'..='ö' | 'ø' => 'o',
        'ù'..='ü' => 'u',
        'ý' | 'ÿ' => 'y',
        '\u{100}'..='\u{17f}' => match EXTENDED_A[c as usize - 0x100] {
            b'_' => c,
            base => base as char,
        },
        _ => c,
    }
}

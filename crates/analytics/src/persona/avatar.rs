//! A picture-free avatar: initials on a shape and colour derived from the persona's id, so a
//! persona keeps its face when renamed and two personas rarely share one.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Avatar {
    /// Up to two upper-case letters or digits.
    pub initials: String,
    /// Hue in degrees, 0..360.
    pub hue: u16,
    pub shape: Shape,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    Circle,
    Square,
    Hexagon,
}

impl Avatar {
    /// The avatar of the persona with `seed` (its id) and `name`.
    pub fn of(seed: &str, name: &str) -> Avatar {
        let h = xxhash_rust::xxh3::xxh3_64(seed.as_bytes());
        let shape = [Shape::Circle, Shape::Square, Shape::Hexagon][(h % 3) as usize];
        Avatar { initials: initials(name), hue: ((h >> 8) % 360) as u16, shape }
    }

    /// A self-contained SVG of `size` pixels. Initials are letters and digits only, so the
    /// text needs no escaping.
    pub fn svg(&self, size: u32) -> String {
        let fill = format!("hsl({}, 55%, 42%)", self.hue);
        let body = match self.shape {
            Shape::Circle => format!(r#"<circle cx="50" cy="50" r="48" fill="{fill}"/>"#),
            Shape::Square => {
                format!(r#"<rect x="2" y="2" width="96" height="96" rx="18" fill="{fill}"/>"#)
            }
            Shape::Hexagon => {
                format!(r#"<polygon points="50,2 92,26 92,74 50,98 8,74 8,26" fill="{fill}"/>"#)
            }
        };
        format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100" width="{size}" height="{size}" role="img" aria-label="{i}">{body}<text x="50" y="50" dy="0.35em" text-anchor="middle" font-family="sans-serif" font-size="38" font-weight="600" fill="#fff">{i}</text></svg>"##,
            i = self.initials
        )
    }
}

/// The first letter of the first two words with one ("Loyal Electronics buyers" → "LE").
fn initials(name: &str) -> String {
    let out: String = name
        .split_whitespace()
        .filter_map(|w| w.chars().find(|c| c.is_alphanumeric()))
        .flat_map(char::to_uppercase)
        .filter(char::is_ascii_alphanumeric)
        .take(2)
        .collect();
    if out.is_empty() { "?".to_string() } else { out }
}

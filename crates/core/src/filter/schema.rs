//! The fields a filter can name: one table, with each field's type and meaning.

/// A customer field or computed metric a filter can compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Id,
    Name,
    Email,
    Country,
    City,
    Company,
    Gender,
    BirthYear,
    Age,
    SignupAt,
    SignupDays,
    Orders,
    PurchaseOrders,
    Purchases,
    Revenue,
    AvgOrderValue,
    Returns,
    FirstPurchaseAt,
    FirstPurchaseDays,
    LastPurchaseAt,
    LastPurchaseDays,
    Events,
    LastEventAt,
    LastEventDays,
    FeedbackCount,
    FeedbackSentiment,
    LastFeedbackAt,
    LastFeedbackDays,
    Interactions,
    LastInteractionAt,
    LastInteractionDays,
    RfmR,
    RfmF,
    RfmM,
    RfmScore,
    RfmSegment,
    ClvPredicted,
    ClvHistorical,
    PAlive,
    Health,
    NpsScore,
    NpsCategory,
}

/// What a field holds, which decides the literals it can be compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// Free text: `=`, `!=`, `in`, `is null`.
    Text,
    /// A number: every comparison.
    Number,
    /// Whole days from an instant to the evaluation time: a number or a duration (`12w`).
    Days,
    /// An instant: compared with a date (`2026-01-01`, midnight UTC).
    Date,
    /// One of a closed list of names: `=`, `!=`, `in`, `is null`, with a string.
    Category(&'static [&'static str]),
}

/// One row of [`FIELDS`].
#[derive(Debug, Clone, Copy)]
pub struct FieldDef {
    pub field: Field,
    /// The name written in filters (lower case; filters match it case-insensitively).
    pub name: &'static str,
    /// Other names for the same field.
    pub aliases: &'static [&'static str],
    pub ty: FieldType,
    /// One line: what the value is.
    pub meaning: &'static str,
    /// A comparison that type-checks, quoted in error messages.
    pub example: &'static str,
}

pub const GENDERS: &[&str] = &["female", "male", "other", "undisclosed"];
/// The RFM segment names, as `rapport_analytics::rfm::Segment::as_str` writes them.
pub const RFM_SEGMENTS: &[&str] = &[
    "champions",
    "loyal",
    "potential_loyalists",
    "new",
    "promising",
    "need_attention",
    "about_to_sleep",
    "at_risk",
    "cannot_lose_them",
    "hibernating",
    "lost",
];
/// NPS categories of the latest score: 9–10, 7–8, 0–6.
pub const NPS_CATEGORIES: &[&str] = &["promoter", "passive", "detractor"];

macro_rules! fields {
    ($($f:ident $name:literal [$($alias:literal),*] $ty:expr, $meaning:literal, $ex:literal;)+) => {
        /// Every field a filter can name, with its type and meaning (docs/filter-language.md).
        pub const FIELDS: &[FieldDef] = &[$(FieldDef {
            field: Field::$f, name: $name, aliases: &[$($alias),*], ty: $ty,
            meaning: $meaning, example: $ex,
        }),+];
    };
}

use FieldType::{Category, Date, Days, Number, Text};

fields! {
    Id "id" [] Text, "the customer's external id", r#"id = "c-1001""#;
    Name "name" [] Text, "full name", r#"name = "Ann Lee""#;
    Email "email" [] Text, "e-mail address (domain lower-cased)", r#"email = "ann@example.com""#;
    Country "country" [] Text, "country as imported, e.g. an ISO code", r#"country = "DE""#;
    City "city" [] Text, "city", r#"city = "Leeds""#;
    Company "company" [] Text, "external id of the customer's company", r#"company = "acme""#;
    Gender "gender" [] Category(GENDERS), "female, male, other or undisclosed", r#"gender = "female""#;
    BirthYear "birth_year" [] Number, "year of birth", "birth_year >= 1980";
    Age "age" [] Number, "evaluation year minus birth year", "age >= 30";
    SignupAt "signup_at" [] Date, "when the customer signed up", "signup_at >= 2026-01-01";
    SignupDays "signup_days" ["tenure_days"] Days, "days since sign-up", "signup_days > 365";
    Orders "orders" [] Number, "orders of any status", "orders > 3";
    PurchaseOrders "purchase_orders" [] Number, "purchase orders (RFM frequency)", "purchase_orders > 3";
    Purchases "purchases" ["purchase_occasions"] Number, "distinct days with a purchase", "purchases > 3";
    Revenue "revenue" ["purchase_value"] Number, "sum of purchase line amounts", "revenue > 500";
    AvgOrderValue "avg_order_value" [] Number, "revenue / purchase orders (none without any)", "avg_order_value > 50";
    Returns "returns" [] Number, "return orders", "returns > 0";
    FirstPurchaseAt "first_purchase_at" [] Date, "time of the first purchase", "first_purchase_at >= 2026-01-01";
    FirstPurchaseDays "first_purchase_days" [] Days, "days since the first purchase", "first_purchase_days < 90";
    LastPurchaseAt "last_purchase_at" [] Date, "time of the last purchase", "last_purchase_at >= 2026-01-01";
    LastPurchaseDays "last_purchase_days" [] Days, "days since the last purchase (RFM recency)", "last_purchase_days < 90";
    Events "events" [] Number, "product events of any name", "events > 10";
    LastEventAt "last_event_at" [] Date, "time of the last product event", "last_event_at >= 2026-01-01";
    LastEventDays "last_event_days" [] Days, "days since the last product event", "last_event_days < 30";
    FeedbackCount "feedback_count" [] Number, "feedback items", "feedback_count > 0";
    FeedbackSentiment "feedback_sentiment" [] Number, "mean sentiment of the feedback, -1..1", "feedback_sentiment < -0.2";
    LastFeedbackAt "last_feedback_at" [] Date, "time of the last feedback item", "last_feedback_at >= 2026-01-01";
    LastFeedbackDays "last_feedback_days" [] Days, "days since the last feedback item", "last_feedback_days < 30";
    Interactions "interactions" [] Number, "timeline interactions (tickets, calls, e-mails...)", "interactions > 5";
    LastInteractionAt "last_interaction_at" [] Date, "time of the last interaction", "last_interaction_at >= 2026-01-01";
    LastInteractionDays "last_interaction_days" [] Days, "days since the last interaction", "last_interaction_days < 30";
    RfmR "rfm_r" [] Number, "RFM recency score 1-5 (5 = most recent)", "rfm_r >= 4";
    RfmF "rfm_f" [] Number, "RFM frequency score 1-5", "rfm_f >= 4";
    RfmM "rfm_m" [] Number, "RFM monetary score 1-5", "rfm_m >= 4";
    RfmScore "rfm_score" [] Number, "rfm_r + rfm_f + rfm_m, 3-15", "rfm_score >= 12";
    RfmSegment "rfm_segment" ["segment"] Category(RFM_SEGMENTS), "RFM segment named from R and F", r#"rfm_segment = "champions""#;
    ClvPredicted "clv_predicted" ["clv"] Number, "predicted lifetime value (BG/NBD x Gamma-Gamma)", "clv_predicted > 500";
    ClvHistorical "clv_historical" [] Number, "value bought so far, net of returns", "clv_historical > 500";
    PAlive "p_alive" [] Number, "BG/NBD probability the customer is still active, 0..1", "p_alive < 0.5";
    Health "health" [] Number, "health score 0-100", "health < 40";
    NpsScore "nps_score" [] Number, "latest NPS rating 0-10", "nps_score <= 6";
    NpsCategory "nps_category" [] Category(NPS_CATEGORIES), "promoter (9-10), passive (7-8), detractor (0-6)", r#"nps_category = "detractor""#;
}

impl Field {
    /// This field's row of [`FIELDS`].
    pub fn def(self) -> &'static FieldDef {
        FIELDS.iter().find(|d| d.field == self).expect("every field has a row")
    }

    pub fn name(self) -> &'static str {
        self.def().name
    }

    pub fn ty(self) -> FieldType {
        self.def().ty
    }

    /// A field by its name or an alias, case-insensitively.
    pub fn lookup(name: &str) -> Option<Field> {
        let lower = name.to_ascii_lowercase();
        FIELDS
            .iter()
            .find(|d| d.name == lower || d.aliases.contains(&lower.as_str()))
            .map(|d| d.field)
    }
}

/// Normalises a category value as written: lower case, spaces and hyphens as underscores.
pub fn category_index(values: &[&str], written: &str) -> Option<u8> {
    let t = written.trim().to_ascii_lowercase().replace([' ', '-'], "_");
    if let Some(i) = values.iter().position(|v| *v == t) {
        return Some(i as u8);
    }
    if values == GENDERS {
        let g = crate::Gender::parse(&t).ok()?;
        return GENDERS.iter().position(|v| *v == g.as_str()).map(|i| i as u8);
    }
    None
}

/// The functions of the language, with an example each.
pub const FUNCTIONS: &[(&str, &str, &str)] = &[
    (
        "consent",
        r#"consent("marketing")"#,
        "true when the latest consent for the purpose is a grant",
    ),
    ("did", r#"did("login", within=30d)"#, "true when the customer had the event in the window"),
    (
        "events",
        r#"events("login", within=30d) > 5"#,
        "the number of the customer's events in the window",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_every_field_has_a_row() {
        let mut names: Vec<&str> = FIELDS
            .iter()
            .flat_map(|d| std::iter::once(d.name).chain(d.aliases.iter().copied()))
            .collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n);
        assert_eq!(Field::lookup("TENURE_DAYS"), Some(Field::SignupDays));
        assert_eq!(Field::NpsCategory.name(), "nps_category");
    }

    #[test]
    fn genders_are_the_vocabulary() {
        let names: Vec<&str> = crate::Gender::ALL.iter().map(|g| g.as_str()).collect();
        assert_eq!(names, GENDERS);
        assert_eq!(category_index(GENDERS, "F"), Some(0));
        assert_eq!(category_index(RFM_SEGMENTS, "At Risk"), Some(7));
    }
}

//! The customer data model. Each type is valid by construction: fields are parsed domain values.
//! Cross-references use external ids (the ones customers' own systems use); stores resolve them.

use crate::money::{Currency, Money};
use crate::value::{Attributes, ExternalId, Timestamp};
use serde::{Deserialize, Serialize};

use crate::vocabulary::vocabulary;

vocabulary!(Gender {
    Female = "female" | "f" | "woman",
    Male = "male" | "m" | "man",
    Other = "other" | "non_binary" | "nonbinary" | "x" | "diverse",
    Undisclosed = "undisclosed" | "unknown" | "prefer_not_to_say" | "u",
});

vocabulary!(
    /// What an order did to the customer's relationship. Olist-style fulfilment statuses map onto
    /// purchase (the money changed hands or will) or cancelled.
    OrderStatus {
        Purchase = "purchase" | "purchased" | "paid" | "completed" | "complete" | "delivered"
            | "shipped" | "invoiced" | "processing" | "approved" | "created" | "fulfilled",
        Return = "return" | "returned" | "refund" | "refunded",
        Cancelled = "cancelled" | "canceled" | "unavailable" | "void" | "voided",
    }
);

// `webhook`: a notification posted to another system's webhook (the outbox).
vocabulary!(Channel {
    Support = "support" | "ticket" | "helpdesk",
    Chat = "chat" | "live_chat",
    Call = "call" | "phone",
    Meeting = "meeting",
    Email = "email" | "e_mail" | "mail",
    Social = "social" | "twitter" | "facebook" | "linkedin",
    Note = "note",
    Webhook = "webhook",
});

vocabulary!(Direction {
    Inbound = "inbound" | "in" | "incoming",
    Outbound = "outbound" | "out" | "outgoing",
    Internal = "internal",
});

vocabulary!(
    /// What a customer can consent to. Every use of customer data checks one of these.
    Purpose {
        Surveys = "surveys" | "survey",
        Analytics = "analytics",
        Personalisation = "personalisation" | "personalization",
        Marketing = "marketing",
        ProductUpdates = "product_updates" | "updates",
    }
);

/// A plausible e-mail address: one `@`, non-empty local part, a dotted domain, no spaces.
/// Stored with the domain lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Email, String> {
        let t = s.trim();
        let bad = || format!("'{t}' is not an e-mail address");
        let (local, domain) = t.split_once('@').ok_or_else(bad)?;
        let ok = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !t.contains(char::is_whitespace)
            && !domain.contains('@')
            && t.len() <= 254;
        if !ok {
            return Err(bad());
        }
        Ok(Email(format!("{local}@{}", domain.to_ascii_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number as written, restricted to digits and the usual punctuation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    pub fn parse(s: &str) -> Result<Phone, String> {
        let t = s.trim();
        let digits = t.bytes().filter(u8::is_ascii_digit).count();
        let allowed = t.chars().all(|c| c.is_ascii_digit() || " +-().x/".contains(c));
        if !allowed || !(4..=20).contains(&digits) {
            return Err(format!("'{t}' is not a phone number"));
        }
        Ok(Phone(t.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A birth year between 1900 and the current year (passed in: the core reads no clock).
pub fn parse_birth_year(s: &str, this_year: i32) -> Result<i16, String> {
    let y: i32 = s.trim().parse().map_err(|_| format!("'{}' is not a year", s.trim()))?;
    if !(1900..=this_year).contains(&y) {
        return Err(format!("{y} is not between 1900 and {this_year}"));
    }
    Ok(y as i16)
}

/// A customer profile. Optional fields absent from an import leave stored values unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub id: ExternalId,
    pub name: Option<String>,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub country: Option<String>,
    pub city: Option<String>,
    pub birth_year: Option<i16>,
    pub gender: Option<Gender>,
    pub signup_at: Option<Timestamp>,
    /// External id of the customer's company (membership).
    pub company: Option<ExternalId>,
    pub attributes: Attributes,
}

impl Customer {
    /// A customer known only by id, as created when an order or event names an unknown one.
    pub fn bare(id: ExternalId) -> Customer {
        Customer {
            id,
            name: None,
            email: None,
            phone: None,
            country: None,
            city: None,
            birth_year: None,
            gender: None,
            signup_at: None,
            company: None,
            attributes: Attributes::new(),
        }
    }

    /// Overlays the fields `newer` carries onto `self`; attributes merge key by key.
    pub fn merged_with(&self, newer: &Customer) -> Customer {
        let mut out = self.clone();
        macro_rules! take {
            ($($f:ident),+) => { $(if newer.$f.is_some() { out.$f = newer.$f.clone(); })+ };
        }
        take!(name, email, phone, country, city, birth_year, gender, signup_at, company);
        for (k, v) in &newer.attributes {
            out.attributes.insert(k.clone(), v.clone());
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Company {
    pub id: ExternalId,
    pub name: Option<String>,
    pub industry: Option<String>,
    /// Head-count band or number as the source writes it ("11-50", "250").
    pub size: Option<String>,
    pub plan: Option<String>,
    pub mrr: Option<Money>,
}

impl Company {
    pub fn merged_with(&self, newer: &Company) -> Company {
        let mut out = self.clone();
        macro_rules! take {
            ($($f:ident),+) => { $(if newer.$f.is_some() { out.$f = newer.$f.clone(); })+ };
        }
        take!(name, industry, size, plan, mrr);
        out
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    pub sku: ExternalId,
    pub name: Option<String>,
    pub category: Option<String>,
    pub price: Option<Money>,
}

impl Product {
    pub fn merged_with(&self, newer: &Product) -> Product {
        let mut out = self.clone();
        macro_rules! take {
            ($($f:ident),+) => { $(if newer.$f.is_some() { out.$f = newer.$f.clone(); })+ };
        }
        take!(name, category, price);
        out
    }
}

/// One line of an order: sku x quantity x unit price, and its amount. Quantities are signed
/// because returns are recorded as the source records them (negative quantities on a return
/// invoice). `amount` is authoritative: it is quantity x unit price unless the source gave a line
/// total of its own (discounts, or sources such as CDNOW that only know the total).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    /// Absent for sources without a catalogue (CDNOW records only CDs x dollars).
    pub sku: Option<ExternalId>,
    pub quantity: i64,
    pub unit_price: Money,
    pub amount: Money,
}

/// An order header. `lines` live separately because imports stream them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: ExternalId,
    pub customer: ExternalId,
    pub placed_at: Timestamp,
    pub currency: Currency,
    pub status: OrderStatus,
}

/// A product-usage event ("report_exported", "seat_added"...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: ExternalId,
    pub customer: ExternalId,
    pub name: String,
    pub at: Timestamp,
    pub properties: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interaction {
    pub id: ExternalId,
    pub customer: ExternalId,
    pub channel: Channel,
    pub direction: Direction,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub at: Timestamp,
}

/// A piece of feedback: free text and/or a rating, from a source such as `review`, `survey`,
/// `support`, `app_store`. Ratings keep the scale of their source (0-10 NPS, 1-5 stars...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feedback {
    pub id: ExternalId,
    pub customer: ExternalId,
    pub source: String,
    pub text: Option<String>,
    pub rating: Option<i16>,
    pub created_at: Timestamp,
}

/// A feedback source is a short lower-case slug so that filters and charts group reliably.
pub fn parse_source(s: &str) -> Result<String, String> {
    let t = s.trim().to_ascii_lowercase().replace([' ', '-'], "_");
    let ok = !t.is_empty()
        && t.len() <= 40
        && t.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(t)
    } else {
        Err(format!("'{}' is not a source name (letters, digits, _)", s.trim()))
    }
}

/// One consent record: consents are a log, and the latest record per purpose is in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub id: ExternalId,
    pub customer: ExternalId,
    pub purpose: Purpose,
    pub granted: bool,
    pub source: Option<String>,
    pub at: Timestamp,
}

/// Parses granted/revoked in the shapes sources use.
pub fn parse_granted(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "granted" | "grant" | "true" | "yes" | "y" | "1" | "opt_in" | "opt-in" | "given" => {
            Ok(true)
        }
        "revoked" | "revoke" | "false" | "no" | "n" | "0" | "opt_out" | "opt-out" | "withdrawn"
        | "denied" => Ok(false),
        _ => Err(format!("'{}' is not granted or revoked", s.trim())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabularies_accept_synonyms_and_say_what_they_accept() {
        assert_eq!(OrderStatus::parse("Canceled").unwrap(), OrderStatus::Cancelled);
        assert_eq!(OrderStatus::parse("delivered").unwrap(), OrderStatus::Purchase);
        assert_eq!(Purpose::parse("Product Updates").unwrap(), Purpose::ProductUpdates);
        let err = Channel::parse("pigeon").unwrap_err();
        assert!(err.contains("pigeon") && err.contains("support"), "{err}");
    }

    #[test]
    fn emails_and_phones() {
        assert_eq!(Email::parse(" Ann@Example.COM ").unwrap().as_str(), "Ann@example.com");
        assert!(Email::parse("ann@localhost").is_err());
        assert!(Email::parse("a b@x.io").is_err());
        assert!(Phone::parse("+44 (0)20 7946-0958").is_ok());
        assert!(Phone::parse("call me").is_err());
    }

    #[test]
    fn merge_keeps_what_the_newer_record_does_not_say() {
        let id = ExternalId::parse("c1").unwrap();
        let mut old = Customer::bare(id.clone());
        old.name = Some("Ann".into());
        let mut new = Customer::bare(id);
        new.city = Some("Leeds".into());
        let m = old.merged_with(&new);
        assert_eq!(m.name.as_deref(), Some("Ann"));
        assert_eq!(m.city.as_deref(), Some("Leeds"));
    }
}

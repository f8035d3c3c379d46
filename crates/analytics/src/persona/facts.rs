//! The input of a persona: a few facts per customer, with names interned so that a
//! population of a million customers is a few flat arrays, not millions of strings.

use serde::{Deserialize, Serialize};

/// Names referred to by index from [`CustomerFacts`], [`FeedbackFact`] and the requests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Labels {
    pub countries: Vec<String>,
    pub genders: Vec<String>,
    /// Company sizes as the companies record them ("11-50").
    pub sizes: Vec<String>,
    pub categories: Vec<String>,
    /// Interaction channels (support, chat, call, email).
    pub channels: Vec<String>,
    /// Product-usage event names.
    pub events: Vec<String>,
    /// Feedback theme labels.
    pub themes: Vec<String>,
    /// Idea titles.
    pub ideas: Vec<String>,
}

/// One customer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerFacts {
    pub birth_year: Option<i16>,
    pub gender: Option<u32>,
    pub country: Option<u32>,
    pub company_size: Option<u32>,
    /// Purchase orders.
    pub orders: u32,
    /// Purchase value, in the currency's units.
    pub revenue: f64,
    /// (category, purchase value in it).
    pub categories: Vec<(u32, f64)>,
    /// (channel, interactions).
    pub channels: Vec<(u32, u32)>,
    /// (event name, occurrences).
    pub events: Vec<(u32, u32)>,
}

/// One feedback item with text.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedbackFact {
    /// Index of the customer in [`Facts::customers`].
    pub customer: u32,
    pub text: String,
    /// VADER compound, −1..1.
    pub sentiment: f64,
    pub theme: Option<u32>,
}

/// Everything a persona is computed from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub labels: Labels,
    pub customers: Vec<CustomerFacts>,
    pub feedback: Vec<FeedbackFact>,
    /// (customer index, idea index): who asked for what.
    pub requests: Vec<(u32, u32)>,
}

/// Interns names into a label list: the index of `name`, added when new.
#[derive(Debug, Default)]
pub struct Interner {
    index: std::collections::HashMap<String, u32>,
}

impl Interner {
    pub fn id(&mut self, labels: &mut Vec<String>, name: &str) -> u32 {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = labels.len() as u32;
        labels.push(name.to_string());
        self.index.insert(name.to_string(), i);
        i
    }
}

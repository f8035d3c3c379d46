use std::fmt;

/// The kinds of record that can be imported and exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Customers,
    Companies,
    Products,
    Orders,
    Events,
    Interactions,
    Feedback,
    Consents,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Customers,
        Kind::Companies,
        Kind::Products,
        Kind::Orders,
        Kind::Events,
        Kind::Interactions,
        Kind::Feedback,
        Kind::Consents,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Customers => "customers",
            Kind::Companies => "companies",
            Kind::Products => "products",
            Kind::Orders => "orders",
            Kind::Events => "events",
            Kind::Interactions => "interactions",
            Kind::Feedback => "feedback",
            Kind::Consents => "consents",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The canonical field names of this kind's records.
    pub fn fields(self) -> &'static [&'static str] {
        use rapport_core::record::fields::*;
        match self {
            Kind::Customers => CUSTOMER,
            Kind::Companies => COMPANY,
            Kind::Products => PRODUCT,
            Kind::Orders => ORDER,
            Kind::Events => EVENT,
            Kind::Interactions => INTERACTION,
            Kind::Feedback => FEEDBACK,
            Kind::Consents => CONSENT,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

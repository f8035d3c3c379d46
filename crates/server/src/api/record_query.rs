//! The query parameters of the record lists: the query string into a [`RecordQuery`], and the
//! same parameters described for the OpenAPI document. Both come from the kind's metadata in
//! the store (time field, customer, filters), so what is documented is what is accepted.

use super::customers::limit;
use crate::error::{ApiError, ApiResult};
use rapport_core::value::parse_timestamp;
use rapport_core::{Channel, Direction, ExternalId, OrderStatus, Purpose};
use rapport_store::{Kind, RecordCursor, RecordFilter, RecordQuery, RecordSort};
use std::collections::BTreeSet;
use utoipa::openapi::Required;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};

/// A kind's list parameters, in the order the document lists them.
pub fn parameter_names(kind: Kind) -> Vec<&'static str> {
    let mut names = Vec::new();
    if kind.has_customer() {
        names.push("customer");
    }
    if kind.time_field().is_some() {
        names.extend(["from", "to"]);
    }
    names.extend(kind.filter_fields());
    names.extend(["sort", "after", "limit"]);
    names
}

/// Parses a list's query string. Unknown parameters, repeated ones and values that do not
/// parse are 400 `invalid_parameter` naming the parameter; empty values count as absent.
pub fn list_query(kind: Kind, pairs: Vec<(String, String)>) -> ApiResult<RecordQuery> {
    let mut q = RecordQuery::new(kind, 50);
    let (mut sort, mut after) = (None, None);
    let mut seen = BTreeSet::new();
    for (name, value) in pairs {
        let bad = |reason: String| ApiError::parameter(name.as_str(), reason);
        if !seen.insert(name.clone()) {
            return Err(bad("is given more than once".into()));
        }
        let v = value.trim();
        if !parameter_names(kind).contains(&name.as_str()) {
            let names = parameter_names(kind).join(", ");
            return Err(bad(format!("is not a parameter of the {kind} list ({names})")));
        }
        if v.is_empty() {
            continue;
        }
        match name.as_str() {
            "limit" => {
                let n = v.parse().map_err(|_| bad(format!("'{v}' is not a whole number")))?;
                q.limit = limit(Some(n), 50)?;
            }
            "sort" => sort = Some(v.to_string()),
            "after" => after = Some(v.to_string()),
            "customer" => q.customer = Some(ExternalId::parse(v).map_err(bad)?),
            "from" => q.from = Some(parse_timestamp(v, None).map_err(bad)?),
            "to" => q.to = Some(parse_timestamp(v, None).map_err(bad)?),
            field => q.filters.push(RecordFilter::parse(kind, field, v).map_err(bad)?),
        }
    }
    if let Some(s) = sort {
        let (descending, name) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s.as_str()),
        };
        q.sort = RecordSort::parse(kind, name).map_err(|r| ApiError::parameter("sort", r))?;
        q.descending = descending;
    }
    if let Some(a) = after {
        let cursor =
            RecordCursor::parse(&a, q.sort).map_err(|r| ApiError::parameter("after", r))?;
        q.after = Some(cursor);
    }
    Ok(q)
}

fn words<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> String {
    all.iter().map(|v| name(*v)).collect::<Vec<_>>().join(", ")
}

/// What a parameter means, for the document.
fn description(kind: Kind, name: &str) -> String {
    let time = kind.time_field().unwrap_or("time");
    let vocabulary = |list: String| format!("{list} (synonyms as in imports are accepted).");
    match name {
        "customer" => format!("Only this customer's {kind} (the customer's id)."),
        "from" => format!("`{time}` at or after (RFC 3339 or `YYYY-MM-DD`)."),
        "to" => format!("`{time}` before (RFC 3339 or `YYYY-MM-DD`)."),
        "status" => vocabulary(words(OrderStatus::ALL, OrderStatus::as_str)),
        "channel" => vocabulary(words(Channel::ALL, Channel::as_str)),
        "direction" => vocabulary(words(Direction::ALL, Direction::as_str)),
        "purpose" => vocabulary(words(Purpose::ALL, Purpose::as_str)),
        "granted" => "`true` for grants, `false` for revocations.".into(),
        "name" => "The event name, exactly.".into(),
        "source" => "Where the feedback came from (`nps`, `app_store`...).".into(),
        "q" => "Full-text search of the text: items holding every word (runs of letters and \
                digits, any case; up to 16 words)."
            .into(),
        "sort" => match kind.time_field() {
            Some(t) => format!("`id` (insertion order, the default) or `{t}`; `-` for descending."),
            None => "`id` (insertion order, the default); `-id` for descending.".into(),
        },
        "after" => "The `next` cursor of the previous page.".into(),
        "limit" => "Page size, 1 to 500 (default 50).".into(),
        field => format!("The {field}, exactly."),
    }
}

/// The query parameters of a kind's list, as OpenAPI parameters.
pub fn list_parameters(kind: Kind) -> Vec<Parameter> {
    parameter_names(kind)
        .into_iter()
        .map(|name| {
            let schema = match name {
                "limit" => ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1))
                    .maximum(Some(500))
                    .default(Some(50.into())),
                "granted" => ObjectBuilder::new().schema_type(Type::Boolean),
                "status" | "channel" | "direction" | "purpose" => {
                    let all = match name {
                        "status" => words(OrderStatus::ALL, OrderStatus::as_str),
                        "channel" => words(Channel::ALL, Channel::as_str),
                        "direction" => words(Direction::ALL, Direction::as_str),
                        _ => words(Purpose::ALL, Purpose::as_str),
                    };
                    // Empty: no filter.
                    let values: Vec<String> =
                        std::iter::once("").chain(all.split(", ")).map(String::from).collect();
                    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(values))
                }
                "sort" => {
                    // Empty: the default order.
                    let names = std::iter::once("id").chain(kind.time_field());
                    let both = std::iter::once(String::new())
                        .chain(names.flat_map(|n| [n.to_string(), format!("-{n}")]));
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some(both.collect::<Vec<_>>()))
                }
                _ => ObjectBuilder::new().schema_type(Type::String),
            };
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some(description(kind, name)))
                .schema(Some(schema))
                .build()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &[(&str, &str)]) -> Vec<(String, String)> {
        q.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn every_documented_parameter_is_accepted_and_nothing_else() {
        for kind in Kind::ALL.into_iter().filter(|k| *k != Kind::Customers) {
            let documented: Vec<_> = list_parameters(kind).into_iter().map(|p| p.name).collect();
            assert_eq!(documented, parameter_names(kind));
            for name in parameter_names(kind) {
                assert!(list_query(kind, pairs(&[(name, "")])).is_ok(), "{kind} {name}");
            }
            let err = list_query(kind, pairs(&[("colour", "red")])).unwrap_err();
            assert_eq!(
                (err.status().as_u16(), err.problem().field.as_deref()),
                (400, Some("colour"))
            );
        }
    }

    #[test]
    fn values_parse_into_the_query() {
        let q = list_query(
            Kind::Orders,
            pairs(&[
                ("status", "refunded"),
                ("sort", "-placed_at"),
                ("limit", "7"),
                ("customer", "c1"),
            ]),
        )
        .unwrap();
        assert_eq!(q.filters, [RecordFilter::Status(OrderStatus::Return)]);
        assert_eq!((q.sort, q.descending, q.limit), (RecordSort::Time, true, 7));
        for (bad, field) in [
            (("status", "foo"), "status"),
            (("sort", "name"), "sort"),
            (("limit", "0"), "limit"),
            (("limit", "x"), "limit"),
            (("from", "yesterday"), "from"),
            (("after", "1:2"), "after"),
        ] {
            let err = list_query(Kind::Orders, pairs(&[bad])).unwrap_err();
            assert_eq!(err.problem().field.as_deref(), Some(field), "{bad:?}");
            assert_eq!(err.status().as_u16(), 400, "{bad:?}");
        }
        let twice =
            list_query(Kind::Orders, pairs(&[("status", "return"), ("status", "purchase")]));
        assert!(twice.is_err());
        assert!(list_query(Kind::Products, pairs(&[("from", "2024-01-01")])).is_err());
    }
}

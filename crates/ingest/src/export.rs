//! Export: every kind as CSV or JSONL with the canonical field names, so that
//! `rapport import <kind>` reads it back to the same data.

use crate::error::IngestError;
use chrono::SecondsFormat;
use rapport_core::Timestamp;
use rapport_store::{Kind, Record, Store};
use std::collections::BTreeSet;
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Jsonl,
}

const PAGE: usize = 5_000;

fn time(t: Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(T::to_string).unwrap_or_default()
}

/// Writes all rows of `kind`; returns how many.
pub async fn export(
    store: &dyn Store,
    kind: Kind,
    format: ExportFormat,
    out: &mut dyn Write,
) -> Result<u64, IngestError> {
    // Customers' custom attributes become columns, so CSV needs their names up front.
    let extra = if kind == Kind::Customers && format == ExportFormat::Csv {
        attribute_names(store).await?
    } else {
        Vec::new()
    };
    let werr = |e: csv::Error| IngestError::Write { what: "export".into(), source: e.into() };
    let mut sink = match format {
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            let header = kind.fields().iter().map(|s| s.to_string()).chain(extra.iter().cloned());
            w.write_record(header.collect::<Vec<_>>()).map_err(werr)?;
            Sink::Csv(w)
        }
        ExportFormat::Jsonl => Sink::Json(out),
    };
    let mut n = 0;
    let mut after = None;
    loop {
        let page = store.export(kind, after, PAGE).await?;
        for r in &page.items {
            let cells = cells(r, &extra);
            match &mut sink {
                Sink::Csv(w) => w.write_record(&cells).map_err(werr)?,
                Sink::Json(out) => write_json(*out, kind.fields(), &cells, r)?,
            }
            n += 1;
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    if let Sink::Csv(mut w) = sink {
        w.flush().map_err(|source| IngestError::Write { what: "export".into(), source })?;
    }
    Ok(n)
}

enum Sink<'a> {
    Csv(csv::Writer<&'a mut dyn Write>),
    Json(&'a mut dyn Write),
}

async fn attribute_names(store: &dyn Store) -> Result<Vec<String>, IngestError> {
    let mut names = BTreeSet::new();
    let mut after = None;
    loop {
        let page = store.export(Kind::Customers, after, PAGE).await?;
        for r in &page.items {
            if let Record::Customer(c) = r {
                names.extend(c.attributes.keys().cloned());
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(names.into_iter().collect()),
        }
    }
}

/// The row's cells in `kind.fields()` order, then the extra columns.
fn cells(r: &Record, extra: &[String]) -> Vec<String> {
    match r {
        Record::Customer(c) => {
            let mut v = vec![
                c.id.to_string(),
                opt(&c.name),
                c.email.as_ref().map(|e| e.as_str().to_string()).unwrap_or_default(),
                c.phone.as_ref().map(|p| p.as_str().to_string()).unwrap_or_default(),
                opt(&c.country),
                opt(&c.city),
                opt(&c.birth_year),
                opt(&c.gender),
                c.signup_at.map(time).unwrap_or_default(),
                opt(&c.company),
            ];
            v.extend(
                extra.iter().map(|k| c.attributes.get(k).map(|a| a.to_cell()).unwrap_or_default()),
            );
            v
        }
        Record::Company(c) => vec![
            c.id.to_string(),
            opt(&c.name),
            opt(&c.industry),
            opt(&c.size),
            opt(&c.plan),
            opt(&c.mrr),
        ],
        Record::Product(p) => {
            vec![p.sku.to_string(), opt(&p.name), opt(&p.category), opt(&p.price)]
        }
        Record::OrderRow(o) => {
            let l = o.line.as_ref();
            vec![
                o.order.to_string(),
                opt(&o.customer),
                o.placed_at.map(time).unwrap_or_default(),
                l.and_then(|l| l.sku.as_ref()).map(|s| s.to_string()).unwrap_or_default(),
                l.map(|l| l.quantity.to_string()).unwrap_or_default(),
                l.map(|l| l.unit_price.to_string()).unwrap_or_default(),
                l.map(|l| l.amount.to_string()).unwrap_or_default(),
                opt(&o.currency),
                opt(&o.status),
            ]
        }
        Record::Event(e) => vec![
            e.id.to_string(),
            e.customer.to_string(),
            e.name.clone(),
            time(e.at),
            serde_json::Value::Object(e.properties.clone()).to_string(),
        ],
        Record::Interaction(i) => vec![
            i.id.to_string(),
            i.customer.to_string(),
            i.channel.to_string(),
            i.direction.to_string(),
            opt(&i.subject),
            opt(&i.body),
            time(i.at),
        ],
        Record::Feedback(f) => vec![
            f.id.to_string(),
            f.customer.to_string(),
            String::new(),
            f.source.clone(),
            opt(&f.text),
            opt(&f.rating),
            time(f.created_at),
        ],
        Record::Consent(c) => vec![
            c.id.to_string(),
            c.customer.to_string(),
            c.purpose.to_string(),
            if c.granted { "granted" } else { "revoked" }.to_string(),
            opt(&c.source),
            time(c.at),
        ],
    }
}

/// One JSON object per line with the canonical keys; empty cells are omitted, custom
/// attributes keep their JSON types, event properties stay an object.
fn write_json(
    out: &mut dyn Write,
    fields: &[&str],
    cells: &[String],
    r: &Record,
) -> Result<(), IngestError> {
    let mut obj = serde_json::Map::new();
    for (f, v) in fields.iter().zip(cells) {
        if !v.is_empty() {
            obj.insert(f.to_string(), serde_json::Value::String(v.clone()));
        }
    }
    match r {
        Record::Customer(c) => {
            for (k, v) in &c.attributes {
                obj.insert(k.clone(), serde_json::to_value(v).unwrap_or_default());
            }
        }
        Record::Event(e) => {
            obj.insert("properties".into(), serde_json::Value::Object(e.properties.clone()));
        }
        _ => {}
    }
    let mut line = serde_json::to_vec(&obj).map_err(|e| IngestError::Read(e.to_string()))?;
    line.push(b'\n');
    out.write_all(&line).map_err(|source| IngestError::Write { what: "export".into(), source })
}

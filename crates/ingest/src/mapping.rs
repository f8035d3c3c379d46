//! Canonical field <- source column, by name or 1-based position.

use crate::error::IngestError;
use rapport_core::record::Fields;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnRef {
    Name(String),
    /// 1-based, as people count columns.
    Position(usize),
}

/// Parses one `--map field=column` argument.
pub fn parse_map_arg(s: &str) -> Result<(String, ColumnRef), String> {
    let (field, col) =
        s.split_once('=').ok_or_else(|| format!("--map '{s}' must look like field=column"))?;
    let col = col.trim();
    let r = match col.parse::<usize>() {
        Ok(0) => return Err(format!("--map '{s}': positions start at 1")),
        Ok(n) => ColumnRef::Position(n),
        Err(_) => ColumnRef::Name(col.to_string()),
    };
    Ok((field.trim().to_string(), r))
}

fn normalise(s: &str) -> String {
    s.trim().to_lowercase().replace([' ', '-'], "_")
}

/// The resolved mapping for one header: which cell feeds each canonical field, and which
/// columns are left over (custom attributes / event properties).
#[derive(Debug, Clone)]
pub struct Mapping {
    fields: &'static [&'static str],
    explicit: Vec<(String, ColumnRef)>,
    index: Vec<Option<usize>>,
    extras: Vec<(String, usize)>,
    resolved_for: usize,
}

impl Mapping {
    pub fn new(
        fields: &'static [&'static str],
        explicit: Vec<(String, ColumnRef)>,
    ) -> Result<Mapping, IngestError> {
        for (f, _) in &explicit {
            if !fields.contains(&f.as_str()) {
                return Err(IngestError::Usage(format!(
                    "--map {f}=...: '{f}' is not a field here; fields are: {}",
                    fields.join(", ")
                )));
            }
        }
        Ok(Mapping {
            fields,
            explicit,
            index: vec![None; fields.len()],
            extras: Vec::new(),
            resolved_for: usize::MAX,
        })
    }

    /// Resolves against a header. `strict` checks that named columns exist (not for JSONL,
    /// whose keys appear as rows are read).
    pub fn resolve(&mut self, header: &[String], strict: bool) -> Result<(), IngestError> {
        if self.resolved_for == header.len() {
            return Ok(());
        }
        let find =
            |name: &str| header.iter().position(|h| h == name || normalise(h) == normalise(name));
        let mut used = vec![false; header.len()];
        for (i, field) in self.fields.iter().enumerate() {
            let explicit = self.explicit.iter().find(|(f, _)| f == field).map(|(_, c)| c);
            self.index[i] = match explicit {
                Some(ColumnRef::Position(p)) => Some(p - 1),
                Some(ColumnRef::Name(n)) => match find(n) {
                    Some(i) => Some(i),
                    None if strict => {
                        return Err(IngestError::Usage(format!(
                            "--map {field}={n}: no column '{n}' in the header (columns: {})",
                            header.join(", ")
                        )));
                    }
                    None => None,
                },
                None => find(field).filter(|&c| !self.explicitly_used(header, c)),
            };
            if let Some(c) = self.index[i].filter(|&c| c < used.len()) {
                used[c] = true;
            }
        }
        self.extras = header
            .iter()
            .enumerate()
            .filter(|(i, _)| !used[*i])
            .map(|(i, h)| (h.clone(), i))
            .collect();
        self.resolved_for = header.len();
        Ok(())
    }

    /// Whether column `c` is the target of an explicit mapping (then it is not auto-mapped too).
    fn explicitly_used(&self, header: &[String], c: usize) -> bool {
        self.explicit.iter().any(|(_, r)| match r {
            ColumnRef::Position(p) => p - 1 == c,
            ColumnRef::Name(n) => {
                header.get(c).is_some_and(|h| h == n || normalise(h) == normalise(n))
            }
        })
    }

    pub fn row<'a>(&'a self, cells: &'a [String]) -> MappedRow<'a> {
        MappedRow { m: self, cells }
    }
}

pub struct MappedRow<'a> {
    m: &'a Mapping,
    cells: &'a [String],
}

impl Fields for MappedRow<'_> {
    fn get(&self, field: &str) -> Option<&str> {
        let i = self.m.fields.iter().position(|f| *f == field)?;
        let cell = self.cells.get(self.m.index[i]?)?.trim();
        (!cell.is_empty()).then_some(cell)
    }

    fn extras(&self) -> Vec<(&str, &str)> {
        self.m
            .extras
            .iter()
            .filter_map(|(name, i)| {
                let v = self.cells.get(*i)?.trim();
                (!v.is_empty()).then_some((name.as_str(), v))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rapport_core::record::fields::ORDER;

    fn header(cols: &[&str]) -> Vec<String> {
        cols.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn explicit_names_positions_and_automatic_names() {
        let map =
            vec![parse_map_arg("order=InvoiceNo").unwrap(), parse_map_arg("customer=7").unwrap()];
        let mut m = Mapping::new(ORDER, map).unwrap();
        let h = header(&["InvoiceNo", "sku", "x", "quantity", "d", "unit_price", "CustomerID"]);
        m.resolve(&h, true).unwrap();
        let cells = header(&["536365", "85123A", "", "6", "", "2.55", "17850"]);
        let r = m.row(&cells);
        assert_eq!(r.get("order"), Some("536365"));
        assert_eq!(r.get("customer"), Some("17850"));
        assert_eq!(r.get("sku"), Some("85123A"));
        assert_eq!(r.get("placed_at"), None);
    }

    #[test]
    fn mistakes_are_explained() {
        let e = Mapping::new(ORDER, vec![parse_map_arg("client=x").unwrap()]).unwrap_err();
        assert!(e.to_string().contains("'client' is not a field"), "{e}");
        let mut m = Mapping::new(ORDER, vec![parse_map_arg("order=Invoice").unwrap()]).unwrap();
        let e = m.resolve(&header(&["InvoiceNo"]), true).unwrap_err();
        assert!(e.to_string().contains("no column 'Invoice'"), "{e}");
        assert!(parse_map_arg("order").is_err());
        assert!(parse_map_arg("order=0").is_err());
    }
}

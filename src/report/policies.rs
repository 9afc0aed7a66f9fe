//! A page per policy: how its devices stand, its settings, and its first
//! devices with the evidence of their failing settings. The devices come
//! from `policy_devices` (ordered by policy), one policy's rows at a time.

use std::collections::HashMap;

use anyhow::Result;
use minijinja::context;

use super::site::{Bundle, Templates, slug};
use super::table::{BatchText, Cell, PageTable, TextTable};
use super::{ROWS_PER_TABLE, Reader};

/// Device rows on a policy page: the page stays a few hundred kilobytes
/// whatever the fleet; all rows are in the evidence files.
const DEVICE_ROWS: usize = 500;

/// The columns of `policy_devices` a policy page shows.
const DEVICE_COLUMNS: [&str; 12] = [
    "device_id",
    "device_name",
    "os_platform",
    "state",
    "stale",
    "last_observed_at",
    "setting_id",
    "setting_name",
    "setting_state",
    "error_code",
    "expected",
    "actual",
];

/// Where each policy's page is, from the bundle's top.
#[derive(Debug, Default)]
pub struct PolicyLinks(HashMap<String, String>);

impl PolicyLinks {
    pub fn page(&self, policy_id: &str) -> Option<String> {
        self.0.get(policy_id).cloned()
    }
}

/// One policy's devices as they stream past: the first rows, and how many.
struct Group {
    policy_id: String,
    rows: Vec<Vec<Cell>>,
    total: usize,
}

/// Writes every policy's page; `policies` and `settings` are
/// `compliance_by_policy` and `policy_settings`, held whole (their size is
/// the configuration's, not the fleet's).
pub fn write(
    reader: &mut Reader,
    bundle: &mut Bundle,
    templates: &Templates,
    policies: &TextTable,
    settings: &TextTable,
) -> Result<PolicyLinks> {
    let mut links = PolicyLinks::default();
    let mut rows_of = HashMap::new();
    for row in 0..policies.len() {
        let id = policies.get(row, "policy_id")?;
        links
            .0
            .insert(id.clone(), format!("policies/{}.html", slug("policy", &id)));
        rows_of.insert(id, row);
    }
    let mut settings_of: HashMap<String, Vec<usize>> = HashMap::new();
    for row in 0..settings.len() {
        settings_of
            .entry(settings.get(row, "policy_id")?)
            .or_default()
            .push(row);
    }
    let page = Page {
        templates,
        policies,
        settings,
        settings_of: &settings_of,
        rows_of: &rows_of,
    };
    let mut group: Option<Group> = None;
    let mut written = Vec::new();
    let mut numeric = Vec::new();
    reader.read("policy_devices", &mut |_, batch| {
        let mut columns = vec!["policy_id"];
        columns.extend(DEVICE_COLUMNS);
        let text = BatchText::new(batch, &columns)?;
        numeric = (1..columns.len()).map(|c| text.numeric(c)).collect();
        for row in 0..text.rows() {
            let policy = text.text(row, 0);
            if group.as_ref().is_none_or(|g| g.policy_id != policy) {
                if let Some(done) = group.take() {
                    written.push(page.write(bundle, done, &numeric)?);
                }
                group = Some(Group {
                    policy_id: policy.into_owned(),
                    rows: Vec::new(),
                    total: 0,
                });
            }
            let g = group.as_mut().expect("a group is open");
            g.total += 1;
            if g.rows.len() < DEVICE_ROWS {
                g.rows.push(
                    DEVICE_COLUMNS
                        .iter()
                        .enumerate()
                        .map(|(i, name)| {
                            let value = text.text(row, i + 1).into_owned();
                            let href = (*name == "device_id")
                                .then(|| format!("../lookup.html?q={}", query_text(&value)));
                            Cell::new(name, numeric[i], value, href)
                        })
                        .collect(),
                );
            }
        }
        Ok(())
    })?;
    if let Some(done) = group.take() {
        written.push(page.write(bundle, done, &numeric)?);
    }
    // A policy no device row names (none should) still gets its page.
    for row in 0..policies.len() {
        let id = policies.get(row, "policy_id")?;
        if !written.contains(&id) {
            let empty = Group {
                policy_id: id.clone(),
                rows: Vec::new(),
                total: 0,
            };
            page.write(bundle, empty, &numeric)?;
        }
    }
    Ok(links)
}

/// A value as it goes into a link's query string.
pub fn query_text(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// What each policy page is made of.
struct Page<'a> {
    templates: &'a Templates,
    policies: &'a TextTable,
    settings: &'a TextTable,
    settings_of: &'a HashMap<String, Vec<usize>>,
    rows_of: &'a HashMap<String, usize>,
}

impl Page<'_> {
    /// Writes one policy's page; returns its id.
    fn write(&self, bundle: &mut Bundle, group: Group, numeric: &[bool]) -> Result<String> {
        let no_link = |_: usize, _: &str| None;
        let id = group.policy_id;
        let page_slug = slug("policy", &id);
        let summary_row: Vec<usize> = self.rows_of.get(&id).copied().into_iter().collect();
        let (name, kind) = match summary_row.first() {
            Some(&row) => (
                self.policies.get(row, "policy_name")?,
                self.policies.get(row, "policy_type")?,
            ),
            None => (id.clone(), String::new()),
        };
        let numeric = if numeric.is_empty() {
            vec![false; DEVICE_COLUMNS.len()]
        } else {
            numeric.to_vec()
        };
        let shown = group.rows.len();
        let mut devices = PageTable::new("devices", &DEVICE_COLUMNS, numeric, group.rows);
        devices.total = group.total;
        devices.cut = shown < group.total;
        let devices = devices.which(format!("the rows whose policy_id is `{id}`"));
        let page = context! {
            policy => context! { id => id.clone(), name => name, type => kind },
            summary => PageTable::build(
                "summary", self.policies, &summary_row,
                &["devices", "succeeded", "error", "conflict", "pending", "not_applicable", "stale", "compliance_pct"],
                &no_link)?,
            settings => PageTable::build(
                "settings", self.settings, self.settings_of.get(&id).map_or(&[][..], Vec::as_slice),
                &["setting_id", "setting_name", "devices", "succeeded", "error", "conflict", "pending", "not_applicable"],
                &no_link)?.at_most(ROWS_PER_TABLE),
            devices => devices,
            // Written before the view's CSV files are known: the page
            // links its Parquet file and the overview's list of files.
            evidence => context! {
                parquet => "../data/policy_devices.parquet",
                section => "../index.html#evidence",
            },
        };
        let html = self.templates.page("policy.html", "../", page)?;
        bundle.write(&format!("policies/{page_slug}.html"), html.as_bytes())?;
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::query_text;

    #[test]
    fn ids_go_into_links_escaped() {
        assert_eq!(query_text("dev-1"), "dev-1");
        assert_eq!(query_text("intune:abc"), "intune:abc");
        assert_eq!(query_text("a b&c=d#e"), "a%20b%26c%3Dd%23e");
        assert_eq!(query_text("é"), "%C3%A9");
    }
}

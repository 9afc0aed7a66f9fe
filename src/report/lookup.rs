//! The device lookup: finds any device by name or id and shows its states,
//! from files of the bundle alone. A bundle opened from disk may not fetch
//! files (browsers refuse it), so the data sits in pages, as JSON in
//! `<script type="application/json">` blocks that the page's one script
//! reads, and the lookup moves from page to page:
//!
//! - `lookup.html` holds the first device id of each id page and sends a
//!   query to the id page whose range holds it;
//! - `lookup/id-NNNN.html`: devices in id order, each with its states
//!   (policies and settings through per-page dictionaries, and the evidence
//!   of failing settings); a query that is no id there goes on to
//! - `lookup/name-NNNN.html`: device names by a hash of the name (FNV-1a
//!   of the trimmed, ASCII-lower-cased name), each with where its device is
//!   (id page, and place on it).
//!
//! Id pages are written as the devices stream past; name entries go to one
//! scratch file per name page and are sorted page by page at the end, so
//! memory holds one page of data, whatever the fleet.

use std::collections::HashMap;
use std::fs::File;
use std::hash::Hash;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use minijinja::context;
use serde::Serialize;
use serde_json::json;

use super::devices::{Device, DevicePage};
use super::site::{Bundle, Templates, escape_for_html, json_for_html};

/// An id page is closed once its data passes this size.
const ID_PAGE_BYTES: usize = 384 << 10;
/// What a name page is sized for, at about 80 bytes a name.
const NAME_PAGE_BYTES: usize = 256 << 10;
const NAME_BYTES: usize = 80;
/// Name pages are written from one scratch file each, all open at once.
const MAX_NAME_PAGES: usize = 1000;

/// What the overview says of the lookup.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LookupSummary {
    pub devices: usize,
    pub id_pages: usize,
    pub name_pages: usize,
}

/// The trimmed, ASCII-lower-cased text a query is compared by.
pub fn normal(text: &str) -> String {
    text.trim().to_ascii_lowercase()
}

/// 32-bit FNV-1a of the text's UTF-8 bytes: which name page a name is on
/// (the page's script computes the same).
pub fn name_hash(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// Values numbered in the order first seen: one page's dictionary.
#[derive(Debug)]
struct Dictionary<K> {
    index: HashMap<K, usize>,
    values: Vec<K>,
}

impl<K> Default for Dictionary<K> {
    fn default() -> Self {
        Dictionary {
            index: HashMap::new(),
            values: Vec::new(),
        }
    }
}

impl<K: Hash + Eq + Clone> Dictionary<K> {
    /// The number of `key`, and whether it is new.
    fn number(&mut self, key: &K) -> (usize, bool) {
        if let Some(&n) = self.index.get(key) {
            return (n, false);
        }
        self.values.push(key.clone());
        self.index.insert(key.clone(), self.values.len() - 1);
        (self.values.len() - 1, true)
    }
}

/// One id page as it fills.
#[derive(Debug, Default)]
struct IdPage {
    /// Platforms, states and compliance values.
    words: Dictionary<String>,
    /// (policy id, name, its page from the bundle's top).
    policies: Dictionary<(String, String, String)>,
    /// (policy number, setting id, setting name).
    settings: Dictionary<(usize, String, String)>,
    /// A device's policy and setting states as numbers: (policy, state)
    /// pairs and (setting, state) pairs. Devices alike share one.
    profiles: Dictionary<(Vec<usize>, Vec<usize>)>,
    /// The devices' entries, JSON, comma-separated.
    devices: String,
    count: usize,
    first: String,
    /// The size of the dictionaries' JSON, about.
    dictionary_bytes: usize,
}

impl IdPage {
    fn bytes(&self) -> usize {
        self.devices.len() + self.dictionary_bytes
    }

    fn word(&mut self, word: &str) -> usize {
        let (n, new) = self.words.number(&word.to_owned());
        if new {
            self.dictionary_bytes += word.len() + 3;
        }
        n
    }

    fn add(
        &mut self,
        device: &Device,
        page: Option<DevicePage>,
        policy_pages: &dyn Fn(&str) -> String,
    ) -> Result<()> {
        if self.count == 0 {
            self.first = normal(&device.id);
        }
        let mut policy_numbers = Vec::new();
        let mut policy_pairs = Vec::new();
        for p in &device.policies {
            let key = (p.id.clone(), p.name.clone(), policy_pages(&p.id));
            let (n, new) = self.policies.number(&key);
            if new {
                self.dictionary_bytes += key.0.len() + key.1.len() + key.2.len() + 12;
            }
            policy_numbers.push(n);
            policy_pairs.push(n);
            policy_pairs.push(self.word(&p.state));
        }
        let mut setting_pairs = Vec::new();
        let mut evidence: Vec<(usize, &str, &str, &str)> = Vec::new();
        for s in &device.settings {
            let key = (policy_numbers[s.policy], s.id.clone(), s.name.clone());
            let (n, new) = self.settings.number(&key);
            if new {
                self.dictionary_bytes += key.1.len() + key.2.len() + 14;
            }
            setting_pairs.push(n);
            setting_pairs.push(self.word(&s.state));
            if s.failing() {
                evidence.push((n, &s.error_code, &s.expected, &s.actual));
            }
        }
        let profile = (policy_pairs, setting_pairs);
        let (profile, new) = self.profiles.number(&profile);
        if new {
            let (p, s) = &self.profiles.values[profile];
            self.dictionary_bytes += (p.len() + s.len()) * 4 + 8;
        }
        // [id, name, platform, latest report, compliance, stale, its page
        // (null, or [page, place]), its profile, evidence of failing settings]
        let entry = (
            &device.id,
            &device.name,
            self.word(&device.platform),
            &device.last,
            self.word(&device.compliance),
            u8::from(device.stale),
            page.map(|p| (p.page, p.device)),
            profile,
            evidence,
        );
        if self.count > 0 {
            self.devices.push(',');
        }
        self.devices.push_str(&serde_json::to_string(&entry)?);
        self.count += 1;
        Ok(())
    }

    /// The page's data, as its script reads it, escaped for HTML.
    fn data(self, name_pages: usize) -> Result<String> {
        let json = format!(
            r#"{{"names":{name_pages},"words":{},"policies":{},"settings":{},"profiles":{},"devices":[{}]}}"#,
            serde_json::to_string(&self.words.values)?,
            serde_json::to_string(&self.policies.values)?,
            serde_json::to_string(&self.settings.values)?,
            serde_json::to_string(&self.profiles.values)?,
            self.devices,
        );
        Ok(escape_for_html(&json))
    }
}

/// The lookup as it is written.
pub struct Lookup {
    page: IdPage,
    /// The first (normal) id of each id page written.
    firsts: Vec<String>,
    names: Vec<BufWriter<File>>,
    name_files: Vec<PathBuf>,
    devices: usize,
}

impl Lookup {
    /// `devices`: about how many devices will come, which sizes the name
    /// pages; `work`: a scratch folder for their entries.
    pub fn new(work: &Path, devices: usize) -> Result<Lookup> {
        let dir = work.join("names");
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create `{}`", dir.display()))?;
        let pages = (devices * NAME_BYTES)
            .div_ceil(NAME_PAGE_BYTES)
            .clamp(1, MAX_NAME_PAGES);
        let mut names = Vec::new();
        let mut name_files = Vec::new();
        for page in 1..=pages {
            let path = dir.join(format!("{page:04}.jsonl"));
            let file = File::create(&path)
                .with_context(|| format!("cannot create `{}`", path.display()))?;
            names.push(BufWriter::with_capacity(8 << 10, file));
            name_files.push(path);
        }
        Ok(Lookup {
            page: IdPage::default(),
            firsts: Vec::new(),
            names,
            name_files,
            devices: 0,
        })
    }

    /// Adds a device (they come in id order); `page` is its device page
    /// from the bundle's top, when it has one.
    pub fn add(
        &mut self,
        bundle: &mut Bundle,
        templates: &Templates,
        device: &Device,
        page: Option<DevicePage>,
        policy_pages: &dyn Fn(&str) -> String,
    ) -> Result<()> {
        let number = self.firsts.len() + 1;
        let entry = self.page.count;
        self.page.add(device, page, policy_pages)?;
        let name = normal(&device.name);
        if !name.is_empty() {
            let shard = name_hash(&name) as usize % self.names.len();
            // Its name, and where its entry is: id page and place there.
            let line = serde_json::to_string(&json!([device.name, number, entry]))?;
            writeln!(self.names[shard], "{line}")
                .with_context(|| format!("cannot write `{}`", self.name_files[shard].display()))?;
        }
        self.devices += 1;
        if self.page.bytes() >= ID_PAGE_BYTES {
            self.write_id_page(bundle, templates)?;
        }
        Ok(())
    }

    fn write_id_page(&mut self, bundle: &mut Bundle, templates: &Templates) -> Result<()> {
        let page = std::mem::take(&mut self.page);
        let number = self.firsts.len() + 1;
        let (count, first) = (page.count, page.first.clone());
        let html = templates.page(
            "lookup.html",
            "../",
            context! {
                kind => "lookup-ids",
                title => format!("Devices from {first}"),
                note => format!("{count} devices, from the id {first}."),
                data => page.data(self.names.len())?,
            },
        )?;
        bundle.write(&format!("lookup/id-{number:04}.html"), html.as_bytes())?;
        self.firsts.push(first);
        Ok(())
    }

    /// Writes the last id page, the name pages and `lookup.html`.
    pub fn finish(mut self, bundle: &mut Bundle, templates: &Templates) -> Result<LookupSummary> {
        if self.page.count > 0 {
            self.write_id_page(bundle, templates)?;
        }
        let name_pages = self.names.len();
        for (i, (file, path)) in self.names.drain(..).zip(&self.name_files).enumerate() {
            file.into_inner()
                .map_err(|e| e.into_error())
                .and_then(|f| f.sync_all().map(|()| f))
                .with_context(|| format!("cannot write `{}`", path.display()))?;
            let reader = BufReader::new(
                File::open(path).with_context(|| format!("cannot read `{}`", path.display()))?,
            );
            let mut entries: Vec<(String, usize, usize)> = Vec::new();
            for line in reader.lines() {
                let line = line.with_context(|| format!("cannot read `{}`", path.display()))?;
                entries.push(serde_json::from_str(&line)?);
            }
            entries.sort_by_cached_key(|(name, page, entry)| {
                (normal(name), name.clone(), *page, *entry)
            });
            let number = i + 1;
            let html = templates.page(
                "lookup.html",
                "../",
                context! {
                    kind => "lookup-names",
                    title => "Devices by name",
                    note => format!("{} device names.", entries.len()),
                    data => json_for_html(&json!({ "entries": entries }))?,
                },
            )?;
            bundle.write(&format!("lookup/name-{number:04}.html"), html.as_bytes())?;
            std::fs::remove_file(path)
                .with_context(|| format!("cannot remove `{}`", path.display()))?;
        }
        let html = templates.page(
            "lookup.html",
            "",
            context! {
                kind => "lookup",
                title => "Find a device",
                note => format!("Any of the {} devices, by name or id.", self.devices),
                data => json_for_html(&json!({ "first": self.firsts, "names": name_pages }))?,
            },
        )?;
        bundle.write("lookup.html", html.as_bytes())?;
        Ok(LookupSummary {
            devices: self.devices,
            id_pages: self.firsts.len(),
            name_pages,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_hash_as_the_page_script_does() {
        // FNV-1a 32 test vectors; script.js implements the same.
        assert_eq!(name_hash(""), 0x811c_9dc5);
        assert_eq!(name_hash("a"), 0xe40c_292c);
        assert_eq!(name_hash("foobar"), 0xbf9c_f968);
        assert_eq!(normal("  WS-Ber-0042 "), "ws-ber-0042");
        assert_eq!(normal("Ünï"), "Ünï");
    }
}

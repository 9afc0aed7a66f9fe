//! Device pages for the devices that need attention (noncompliant, stale,
//! or changed since the day before), and every device into the lookup. The
//! rows come from `device_detail`, ordered by device, and are read one
//! device at a time: a page is written as soon as it is full.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use anyhow::Result;
use minijinja::{Value, context};
use serde::Serialize;

use super::evidence::Evidence;
use super::lookup::{Lookup, LookupSummary};
use super::overview::thousands;
use super::policies::PolicyLinks;
use super::site::{Bundle, Templates};
use super::table::{BatchText, Capture, TextTable};
use super::{ROWS_PER_TABLE, Reader};

/// A device page is closed once its HTML passes this size, so that no page
/// passes 1 MiB (one device's table is cut at `ROWS_PER_TABLE` rows).
const DEVICE_PAGE_BYTES: usize = 512 << 10;

/// The columns of `device_detail` the report reads.
const COLUMNS: [&str; 15] = [
    "device_id",
    "device_name",
    "os_platform",
    "last_observed_at",
    "stale",
    "compliance",
    "policy_id",
    "policy_name",
    "policy_state",
    "setting_id",
    "setting_name",
    "setting_state",
    "error_code",
    "expected",
    "actual",
];

/// A 64-bit FNV-1a hash of a device id: what the changed devices are kept
/// by, 16 bytes each, rather than their ids.
fn id_hash(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The devices of `changes`, with how each changed. A hash that two ids
/// shared would only give a device a page it did not need.
#[derive(Debug, Default)]
pub struct ChangedDevices {
    kinds: Vec<String>,
    devices: HashMap<u64, usize>,
}

impl ChangedDevices {
    /// Reads `changes` whole: its first `rows` rows for the overview, and
    /// every changed device.
    pub fn read(&mut self, reader: &mut Reader, rows: usize) -> Result<(TextTable, Evidence)> {
        let mut capture: Option<Capture> = None;
        let evidence = reader
            .read("changes", &mut |schema, batch| {
                capture
                    .get_or_insert_with(|| Capture::first(schema.clone(), rows))
                    .add(batch);
                let text = BatchText::new(batch, &["change", "device_id"])?;
                for row in 0..text.rows() {
                    let Some(device) = text.get(row, 1) else {
                        continue;
                    };
                    let change = text.text(row, 0);
                    let kind = match self.kinds.iter().position(|k| *k == change) {
                        Some(k) => k,
                        None => {
                            self.kinds.push(change.into_owned());
                            self.kinds.len() - 1
                        }
                    };
                    self.devices.insert(id_hash(&device), kind);
                }
                Ok(())
            })?
            .clone();
        let capture = capture.expect("`read` shows every consumer the schema");
        Ok((capture.table()?, evidence))
    }

    fn get(&self, id: &str) -> Option<&str> {
        self.devices
            .get(&id_hash(id))
            .map(|&k| self.kinds[k].as_str())
    }
}

/// What the device pages need besides the rows.
pub struct Options<'a> {
    pub changed: ChangedDevices,
    /// Devices the overview names, whose page it links.
    pub linked: BTreeSet<String>,
    /// Devices in the snapshot (sizes the lookup's name index).
    pub devices: usize,
    pub policies: &'a PolicyLinks,
    /// A scratch folder for the lookup's name index.
    pub work: &'a Path,
}

/// One policy state of a device.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyState {
    pub id: String,
    pub name: String,
    pub state: String,
}

/// One setting state of a device, under its policy (an index into the
/// device's policies).
#[derive(Debug, Clone, Serialize)]
pub struct SettingState {
    pub policy: usize,
    pub id: String,
    pub name: String,
    pub state: String,
    pub error_code: String,
    pub expected: String,
    pub actual: String,
}

impl SettingState {
    /// Error and Conflict are failures: their evidence is shown.
    pub fn failing(&self) -> bool {
        matches!(self.state.as_str(), "Error" | "Conflict")
    }
}

/// A device's current states, from its rows of `device_detail`.
#[derive(Debug, Clone, Default)]
pub struct Device {
    pub id: String,
    pub name: String,
    pub platform: String,
    pub last: String,
    pub stale: bool,
    pub compliance: String,
    pub policies: Vec<PolicyState>,
    pub settings: Vec<SettingState>,
    /// Rows beyond `ROWS_PER_TABLE` that were not kept.
    pub rows_left_out: usize,
}

impl Device {
    /// Adds one row of `device_detail` (of this device).
    fn add(&mut self, text: &BatchText, row: usize) {
        let Some(policy) = text.get(row, 6) else {
            return;
        };
        if self.policies.last().is_none_or(|p| p.id != policy) {
            self.policies.push(PolicyState {
                id: policy.into_owned(),
                name: text.text(row, 7).into_owned(),
                state: text.text(row, 8).into_owned(),
            });
        }
        let Some(setting) = text.get(row, 9) else {
            return;
        };
        if self.settings.len() >= ROWS_PER_TABLE {
            self.rows_left_out += 1;
            return;
        }
        let state = text.text(row, 11);
        // A setting's evidence is shown where it fails; the others' values
        // are in the evidence files.
        let failing = matches!(state.as_ref(), "Error" | "Conflict");
        let evidence = |column| {
            if failing {
                text.text(row, column).into_owned()
            } else {
                String::new()
            }
        };
        self.settings.push(SettingState {
            policy: self.policies.len() - 1,
            id: setting.into_owned(),
            name: text.text(row, 10).into_owned(),
            state: state.into_owned(),
            error_code: evidence(12),
            expected: evidence(13),
            actual: evidence(14),
        });
    }

    fn status(&self) -> &str {
        if self.stale {
            "stale"
        } else {
            &self.compliance
        }
    }
}

/// Where a device's block is: the `device`-th on page `page` (both from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DevicePage {
    pub page: usize,
    pub device: usize,
}

impl DevicePage {
    /// The link to it from the bundle's top.
    pub fn href(&self) -> String {
        format!("devices/page-{:05}.html#d{}", self.page, self.device)
    }
}

/// A device page, as the list of pages shows it.
#[derive(Debug, Serialize)]
struct PageSummary {
    number: usize,
    href: String,
    devices: usize,
    first: String,
    last: String,
}

/// The devices needing attention, as the overview and the device list
/// show them.
#[derive(Debug)]
pub struct Attention {
    pages: Vec<PageSummary>,
    /// The page of each device the overview names, from the bundle's top.
    linked: HashMap<String, String>,
    counts: BTreeMap<&'static str, usize>,
    lookup: LookupSummary,
}

impl Attention {
    /// Where the overview links a device it names: its page, or the lookup.
    pub fn page_of(&self, id: &str) -> String {
        self.linked
            .get(id)
            .cloned()
            .unwrap_or_else(|| format!("lookup.html?q={}", super::policies::query_text(id)))
    }

    pub fn summary(&self) -> Value {
        let shown: BTreeMap<&str, String> = self
            .counts
            .iter()
            .map(|(k, v)| (*k, thousands(*v as u64)))
            .collect();
        context! {
            counts => self.counts,
            shown => shown,
            pages => self.pages.len(),
            lookup => self.lookup,
        }
    }
}

/// Device pages as they fill: the HTML of the page being filled, and the
/// full page waiting to learn whether another follows it.
struct Pages<'a> {
    templates: &'a Templates,
    body: String,
    devices: usize,
    first: String,
    last: String,
    full: Option<(String, PageSummary)>,
    done: Vec<PageSummary>,
}

impl Pages<'_> {
    fn number(&self) -> usize {
        self.done.len() + usize::from(self.full.is_some()) + 1
    }

    /// Adds a device; returns where it is.
    fn add(&mut self, bundle: &mut Bundle, device: &Device, why: &[String]) -> Result<DevicePage> {
        if let Some((body, summary)) = self.full.take() {
            // Another page follows the full one.
            self.write(bundle, body, summary, true)?;
        }
        let at = DevicePage {
            page: self.number(),
            device: self.devices + 1,
        };
        // Policies with something to show (a state other than Succeeded or
        // NotApplicable, or a failing setting) get table rows; the others
        // one line, with how their settings stand.
        let mut failing = Vec::new();
        let mut others = Vec::new();
        for (i, p) in device.policies.iter().enumerate() {
            let settings: Vec<&SettingState> =
                device.settings.iter().filter(|s| s.policy == i).collect();
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            for s in &settings {
                *counts.entry(s.state.as_str()).or_default() += 1;
            }
            let counts: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
            let bad: Vec<&&SettingState> = settings.iter().filter(|s| s.failing()).collect();
            let fine = matches!(p.state.as_str(), "Succeeded" | "NotApplicable") && bad.is_empty();
            let shown = context! {
                name => p.name,
                state => p.state,
                settings => counts.join(", "),
                failing => bad,
            };
            if fine {
                others.push(shown)
            } else {
                failing.push(shown)
            }
        }
        let html = self.templates.fragment(
            "device.html",
            "../",
            context! {
                d => context! {
                    n => at.device,
                    id => device.id,
                    name => device.name,
                    platform => device.platform,
                    last => device.last,
                    status => device.status(),
                    // Its status is shown already; what else brought it here.
                    why => why.iter().filter(|w| *w != device.status()).cloned().collect::<Vec<_>>().join("; "),
                    failing => failing,
                    others => others,
                    policies => device.policies.len(),
                    rows_left_out => device.rows_left_out,
                    lookup => format!("../lookup.html?q={}", super::policies::query_text(&device.id)),
                },
            },
        )?;
        if self.devices == 0 {
            self.first = device.name.clone();
        }
        self.last = device.name.clone();
        self.devices += 1;
        self.body.push_str(&html);
        if self.body.len() >= DEVICE_PAGE_BYTES {
            let summary = self.summary(at.page);
            self.full = Some((std::mem::take(&mut self.body), summary));
            self.devices = 0;
        }
        Ok(at)
    }

    fn summary(&self, number: usize) -> PageSummary {
        PageSummary {
            number,
            href: format!("page-{number:05}.html"),
            devices: self.devices,
            first: self.first.clone(),
            last: self.last.clone(),
        }
    }

    fn write(
        &mut self,
        bundle: &mut Bundle,
        body: String,
        summary: PageSummary,
        next: bool,
    ) -> Result<()> {
        let number = summary.number;
        let page = context! {
            body => body,
            number => number,
            devices => summary.devices,
            prev => (number > 1).then(|| format!("page-{:05}.html", number - 1)),
            next => next.then(|| format!("page-{:05}.html", number + 1)),
        };
        let html = self.templates.page("devices.html", "../", page)?;
        bundle.write(&format!("devices/page-{number:05}.html"), html.as_bytes())?;
        self.done.push(summary);
        Ok(())
    }

    fn finish(mut self, bundle: &mut Bundle) -> Result<Vec<PageSummary>> {
        if let Some((body, summary)) = self.full.take() {
            self.write(bundle, body, summary, false)?;
        }
        if self.devices > 0 {
            let number = self.number();
            let summary = self.summary(number);
            let body = std::mem::take(&mut self.body);
            self.write(bundle, body, summary, false)?;
        }
        Ok(self.done)
    }
}

/// Why a device has a page (its status, stale or noncompliant, and its
/// change since the day before), or nothing when it needs no attention. A
/// device that is only new needs none: on a lake's first day every device
/// is new.
fn attention(device: &Device, change: Option<&str>) -> Vec<String> {
    let mut why = Vec::new();
    if device.stale {
        why.push("stale".to_owned());
    } else if device.compliance == "noncompliant" {
        why.push("noncompliant".to_owned());
    }
    let change = match change {
        Some("new_device") if why.is_empty() => None,
        Some("new_device") => Some("new since the day before".to_owned()),
        Some("became_noncompliant") => Some("became noncompliant since the day before".to_owned()),
        Some("fixed") => Some("fixed since the day before".to_owned()),
        Some("gone_stale") => Some("went stale since the day before".to_owned()),
        Some(other) => Some(format!("changed since the day before ({other})")),
        None => None,
    };
    why.extend(change);
    why
}

/// Reads `device_detail`: writes the pages of the devices that need
/// attention, the device list, and the lookup of every device.
pub fn write(
    reader: &mut Reader,
    bundle: &mut Bundle,
    templates: &Templates,
    options: Options,
) -> Result<Attention> {
    let mut pages = Pages {
        templates,
        body: String::new(),
        devices: 0,
        first: String::new(),
        last: String::new(),
        full: None,
        done: Vec::new(),
    };
    let mut lookup = Lookup::new(options.work, options.devices)?;
    let mut linked = HashMap::new();
    let mut counts: BTreeMap<&'static str, usize> =
        ["devices", "attention", "noncompliant", "stale", "changed"]
            .into_iter()
            .map(|k| (k, 0))
            .collect();
    // Each device as its last row passes: its page, if it needs one, and
    // its lookup entry.
    let mut done = |device: Device, bundle: &mut Bundle| -> Result<()> {
        let change = options.changed.get(&device.id);
        let why = attention(&device, change);
        *counts.entry("devices").or_default() += 1;
        let page = if why.is_empty() {
            None
        } else {
            *counts.entry("attention").or_default() += 1;
            if device.stale {
                *counts.entry("stale").or_default() += 1;
            } else if device.compliance == "noncompliant" {
                *counts.entry("noncompliant").or_default() += 1;
            }
            if change.is_some_and(|c| c != "new_device") {
                *counts.entry("changed").or_default() += 1;
            }
            Some(pages.add(bundle, &device, &why)?)
        };
        if let Some(at) = &page
            && options.linked.contains(&device.id)
        {
            linked.insert(device.id.clone(), at.href());
        }
        let policy_page = |id: &str| options.policies.page(id).unwrap_or_default();
        lookup.add(bundle, templates, &device, page, &policy_page)
    };
    let mut current: Option<Device> = None;
    reader.read("device_detail", &mut |_, batch| {
        let text = BatchText::new(batch, &COLUMNS)?;
        for row in 0..text.rows() {
            let id = text.text(row, 0);
            if current.as_ref().is_none_or(|d| d.id != id) {
                if let Some(device) = current.take() {
                    done(device, bundle)?;
                }
                current = Some(Device {
                    id: id.into_owned(),
                    name: text.text(row, 1).into_owned(),
                    platform: text.text(row, 2).into_owned(),
                    last: text.text(row, 3).into_owned(),
                    stale: text.text(row, 4) == "true",
                    compliance: text.text(row, 5).into_owned(),
                    ..Device::default()
                });
            }
            current.as_mut().expect("a device is open").add(&text, row);
        }
        Ok(())
    })?;
    if let Some(device) = current.take() {
        done(device, bundle)?;
    }
    let summaries = pages.finish(bundle)?;
    let lookup = lookup.finish(bundle, templates)?;
    let page = context! {
        pages => Value::from_serialize(&summaries),
        counts => Value::from_serialize(&counts),
    };
    let html = templates.page("device_index.html", "../", page)?;
    bundle.write("devices/index.html", html.as_bytes())?;
    Ok(Attention {
        pages: summaries,
        linked,
        counts,
        lookup,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_hash_is_fnv1a() {
        // The published FNV-1a 64 test vectors.
        assert_eq!(id_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(id_hash("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(id_hash("foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn devices_need_attention_when_noncompliant_stale_or_changed() {
        let device = |stale, compliance: &str| Device {
            stale,
            compliance: compliance.to_owned(),
            ..Device::default()
        };
        assert!(attention(&device(false, "compliant"), None).is_empty());
        assert!(attention(&device(false, "no_policy"), None).is_empty());
        assert_eq!(attention(&device(false, "noncompliant"), None).len(), 1);
        assert_eq!(attention(&device(true, "compliant"), None).len(), 1);
        assert_eq!(
            attention(&device(false, "compliant"), Some("fixed")),
            ["fixed since the day before"]
        );
        // New alone is no reason: on a lake's first day, all are new.
        assert!(attention(&device(false, "compliant"), Some("new_device")).is_empty());
        assert_eq!(
            attention(&device(false, "noncompliant"), Some("new_device")),
            ["noncompliant", "new since the day before"]
        );
    }
}

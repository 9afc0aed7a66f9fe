//! The overview (`index.html`): the headline numbers first (compliance %
//! with its denominator, devices reporting, stale, noncompliant, the change
//! since the day before and the trend line), then the charts, what changed,
//! the failing settings with their meanings, and the other views, each a
//! section with its own template; last, where every view's rows are.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result};
use chrono::NaiveDate;
use minijinja::{Value, context};
use serde::Serialize;

use super::charts::{Chart, PlatformBar};
use super::devices::{Attention, ChangedDevices};
use super::evidence::Evidence;
use super::policies::PolicyLinks;
use super::site::{Bundle, Templates};
use super::table::{EvidenceLinks, PageTable, TextTable};
use super::{ROWS_PER_TABLE, Reader, ReportInput};

/// One section of the overview, in the order they appear. Adding one is
/// its template under `templates/sections/` and a line here; the views it
/// lists in `tables` are read for it, their first rows shown as
/// `tables.VIEW` (a view must also be in `REQUIRED_VIEWS`).
pub struct Section {
    /// Its HTML id and the navigation's anchor.
    pub id: &'static str,
    /// The navigation's text.
    pub title: &'static str,
    /// Its template's name, `sections/ID.html`, and text.
    pub file: &'static str,
    pub template: &'static str,
    /// The views whose rows it shows, with how many rows at most.
    pub tables: &'static [(&'static str, usize)],
}

/// A section whose template is `templates/sections/ID.html`.
macro_rules! section {
    ($id:literal, $title:literal, $tables:expr) => {
        Section {
            id: $id,
            title: $title,
            file: concat!("sections/", $id, ".html"),
            template: include_str!(concat!("templates/sections/", $id, ".html")),
            tables: $tables,
        }
    };
}

/// Rows of a table on the overview whose size grows with the fleet; the
/// overview stays readable and under its size budget at any fleet.
const OVERVIEW_ROWS: usize = 250;

pub const SECTIONS: [Section; 13] = [
    section!("headline", "Headline", &[]),
    section!("charts", "Platforms and policies", &[]),
    section!(
        "what-changed",
        "What changed",
        &[("changes", OVERVIEW_ROWS)]
    ),
    section!(
        "failing-settings",
        "Failing settings",
        &[("setting_failures", 50)]
    ),
    section!(
        "management",
        "Management",
        &[("management_channel", ROWS_PER_TABLE)]
    ),
    section!(
        "enrollment",
        "Enrollment",
        &[("enrollment_failures", ROWS_PER_TABLE)]
    ),
    section!(
        "antivirus",
        "Antivirus",
        &[
            ("antivirus_health", ROWS_PER_TABLE),
            ("antivirus_mode", ROWS_PER_TABLE)
        ]
    ),
    section!(
        "firewall",
        "Firewall",
        &[("firewall_status", ROWS_PER_TABLE)]
    ),
    section!(
        "secure-configuration",
        "Secure configuration",
        &[("secure_configuration", OVERVIEW_ROWS)]
    ),
    section!(
        "onboarding",
        "Onboarding",
        &[
            ("onboarding_coverage", ROWS_PER_TABLE),
            ("onboarding_devices", OVERVIEW_ROWS)
        ]
    ),
    section!(
        "exceptions-in-force",
        "Exceptions",
        &[
            ("exceptions", OVERVIEW_ROWS),
            ("exceptions_trend", ROWS_PER_TABLE)
        ]
    ),
    section!(
        "stale",
        "Stale devices",
        &[("stale_devices", OVERVIEW_ROWS)]
    ),
    section!("evidence", "Evidence files", &[]),
];

/// The section templates, by name.
pub fn section_templates() -> Vec<(&'static str, &'static str)> {
    SECTIONS.iter().map(|s| (s.file, s.template)).collect()
}

/// What an error code of a failing setting means, shown beside it in the
/// failing settings; `None` where Microsoft documents no meaning
/// (`crate::error_codes`, docs/error-codes.md).
pub fn error_meaning(code: &str) -> Option<String> {
    crate::error_codes::meaning(code).map(str::to_owned)
}

/// The totals at the top of the overview, summed from the platform rows.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Totals {
    pub devices: u64,
    pub compliant: u64,
    pub noncompliant: u64,
    pub no_policy: u64,
    pub stale: u64,
    /// As the queries print it; `n/a` when nothing is compliant or not.
    pub compliance_pct: String,
}

fn number(table: &TextTable, row: usize, column: &str) -> Result<u64> {
    let text = table.get(row, column)?;
    text.parse()
        .with_context(|| format!("`{column}` is not a count: `{text}`"))
}

fn percent(table: &TextTable, row: usize, column: &str) -> Result<Option<f64>> {
    let text = table.get(row, column)?;
    if text.is_empty() {
        return Ok(None);
    }
    Ok(Some(text.parse().with_context(|| {
        format!("`{column}` is not a percentage: `{text}`")
    })?))
}

pub fn totals(platforms: &TextTable) -> Result<Totals> {
    let mut t = Totals::default();
    for row in 0..platforms.len() {
        t.devices += number(platforms, row, "devices")?;
        t.compliant += number(platforms, row, "compliant")?;
        t.noncompliant += number(platforms, row, "noncompliant")?;
        t.no_policy += number(platforms, row, "no_policy")?;
        t.stale += number(platforms, row, "stale")?;
    }
    t.compliance_pct =
        crate::query::percentage(t.compliant as i64, (t.compliant + t.noncompliant) as i64)
            .map(|p| format!("{p:?}"))
            .unwrap_or_else(|| "n/a".to_owned());
    Ok(t)
}

/// The data of the overview's three charts, from the query rows.
pub fn charts(
    platforms: &TextTable,
    policies: &TextTable,
    trend: &TextTable,
) -> Result<[Chart; 3]> {
    let platform_rows = (0..platforms.len())
        .map(|r| {
            Ok(PlatformBar {
                platform: platforms.get(r, "os_platform")?,
                compliant: number(platforms, r, "compliant")?,
                noncompliant: number(platforms, r, "noncompliant")?,
                no_policy: number(platforms, r, "no_policy")?,
                stale: number(platforms, r, "stale")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let policy_rows = (0..policies.len())
        .map(|r| {
            Ok((
                policies.get(r, "policy_name")?,
                percent(policies, r, "compliance_pct")?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok([
        Chart::PlatformCompliance {
            rows: platform_rows,
        },
        Chart::PolicyCompliance { rows: policy_rows },
        Chart::Trend {
            points: trend_points(trend)?,
        },
    ])
}

fn trend_points(trend: &TextTable) -> Result<Vec<(NaiveDate, Option<f64>)>> {
    (0..trend.len())
        .map(|r| {
            let day = trend.get(r, "day")?;
            let day = NaiveDate::parse_from_str(&day, "%Y-%m-%d")
                .with_context(|| format!("`day` is not a date: `{day}`"))?;
            Ok((day, percent(trend, r, "compliance_pct")?))
        })
        .collect()
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A change as the headline shows it: `+12`, `−3` (a real minus) or `±0`.
fn signed(delta: i64) -> String {
    match delta {
        0 => "±0".to_owned(),
        d if d > 0 => format!("+{}", thousands(d.unsigned_abs())),
        d => format!("−{}", thousands(d.unsigned_abs())),
    }
}

/// The numbers at the top of the overview.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Headline {
    pub totals: Totals,
    /// compliant + noncompliant: the percentage's denominator.
    pub denominator: u64,
    /// The same numbers with thousands separators, for people.
    pub shown: BTreeMap<&'static str, String>,
    pub previous_day: String,
    /// Since the day before; `None` when no device reported by then.
    pub change: Option<BTreeMap<&'static str, String>>,
    pub trend: Spark,
}

/// The trend line of the headline: the compliance % of each day, scaled
/// to the days' own range so that a change of a point shows.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Spark {
    pub width: u32,
    pub height: u32,
    /// `points` of one SVG polyline per run of days with a percentage.
    pub lines: Vec<String>,
    pub low: String,
    pub high: String,
    pub first_day: String,
    pub days: usize,
}

fn spark(points: &[(NaiveDate, Option<f64>)]) -> Spark {
    let (width, height) = (240u32, 56u32);
    let values: Vec<f64> = points.iter().filter_map(|(_, p)| *p).collect();
    let low = values.iter().copied().fold(f64::INFINITY, f64::min);
    let high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (low, high) = if values.is_empty() {
        (0.0, 100.0)
    } else {
        ((low.floor() - 1.0).max(0.0), (high.ceil() + 1.0).min(100.0))
    };
    let span = (high - low).max(1.0);
    let step = f64::from(width - 8) / (points.len().max(2) - 1) as f64;
    let mut lines = Vec::new();
    let mut line = Vec::new();
    for (i, (_, pct)) in points.iter().enumerate() {
        match pct {
            Some(p) => {
                let x = 4.0 + step * i as f64;
                let y = 4.0 + f64::from(height - 8) * (1.0 - (p - low) / span);
                line.push(format!("{x:.1},{y:.1}"));
            }
            None if !line.is_empty() => lines.push(std::mem::take(&mut line).join(" ")),
            None => {}
        }
    }
    if !line.is_empty() {
        lines.push(line.join(" "));
    }
    Spark {
        width,
        height,
        lines,
        low: format!("{low}"),
        high: format!("{high}"),
        first_day: points
            .first()
            .map(|(d, _)| d.to_string())
            .unwrap_or_default(),
        days: points.len(),
    }
}

/// The headline from the platform totals (the as-of day) and the trend's
/// row of the day before.
pub fn headline(totals: Totals, trend: &TextTable, as_of: NaiveDate) -> Result<Headline> {
    let previous = as_of.pred_opt().unwrap_or(as_of);
    let previous_text = previous.to_string();
    let day_column = trend.column("day")?;
    let before = (0..trend.len()).find(|&r| trend.cell(r, day_column) == previous_text);
    let change = match before {
        Some(row) if number(trend, row, "devices")? + number(trend, row, "stale")? > 0 => {
            let delta = |now: u64, column: &str| -> Result<String> {
                Ok(signed(now as i64 - number(trend, row, column)? as i64))
            };
            let pct = match (
                totals.compliance_pct.parse::<f64>().ok(),
                percent(trend, row, "compliance_pct")?,
            ) {
                (Some(now), Some(then)) => {
                    let d = now - then;
                    if d.abs() < 0.005 {
                        "±0 pp".to_owned()
                    } else if d > 0.0 {
                        format!("+{d:.2} pp")
                    } else {
                        format!("−{:.2} pp", -d)
                    }
                }
                _ => "n/a".to_owned(),
            };
            Some(BTreeMap::from([
                ("compliance_pct", pct),
                ("devices", delta(totals.devices, "devices")?),
                ("stale", delta(totals.stale, "stale")?),
                ("noncompliant", delta(totals.noncompliant, "noncompliant")?),
                ("compliant", delta(totals.compliant, "compliant")?),
            ]))
        }
        _ => None,
    };
    let denominator = totals.compliant + totals.noncompliant;
    let shown = BTreeMap::from([
        ("devices", thousands(totals.devices)),
        ("compliant", thousands(totals.compliant)),
        ("noncompliant", thousands(totals.noncompliant)),
        ("no_policy", thousands(totals.no_policy)),
        ("stale", thousands(totals.stale)),
        ("denominator", thousands(denominator)),
    ]);
    Ok(Headline {
        totals,
        denominator,
        shown,
        previous_day: previous_text,
        change,
        trend: spark(&trend_points(trend)?),
    })
}

/// A chart with the table of the numbers behind it.
#[derive(Serialize)]
struct ChartPage {
    id: &'static str,
    title: &'static str,
    svg: String,
    png: String,
    note: String,
    data: PageTable,
}

/// The overview's views as read, before the device pages say where each
/// device's page is.
pub struct Overview {
    platforms: TextTable,
    trend: TextTable,
    /// The first rows of each section's views, with where all rows are.
    tables: BTreeMap<&'static str, (TextTable, Evidence)>,
    changed: ChangedDevices,
    headline: Headline,
    trend_days: u32,
    purposes: BTreeMap<String, String>,
}

impl Overview {
    /// Reads the sections' views; `changes` whole, for which devices changed.
    pub fn read(
        reader: &mut Reader,
        input: &ReportInput,
        platforms: TextTable,
        trend: TextTable,
    ) -> Result<Overview> {
        let mut tables = BTreeMap::new();
        let mut changed = ChangedDevices::default();
        for section in &SECTIONS {
            for &(view, rows) in section.tables {
                let table = if view == "changes" {
                    changed.read(reader, rows)?
                } else {
                    reader.first(view, rows)?
                };
                tables.insert(view, table);
            }
        }
        let headline = headline(totals(&platforms)?, &trend, input.as_of)?;
        Ok(Overview {
            platforms,
            trend,
            tables,
            changed,
            headline,
            trend_days: input.trend_days,
            purposes: reader.purposes.clone(),
        })
    }

    /// The devices that changed since the day before: they get pages.
    pub fn changed_devices(&mut self) -> ChangedDevices {
        std::mem::take(&mut self.changed)
    }

    /// The devices the overview's tables name, which link to their pages.
    pub fn linked_devices(&self) -> BTreeSet<String> {
        let mut ids = BTreeSet::new();
        for view in ["changes", "stale_devices"] {
            if let Some((table, _)) = self.tables.get(view)
                && let Ok(column) = table.column("device_id")
            {
                ids.extend((0..table.len()).map(|r| table.cell(r, column)));
            }
        }
        ids.remove("");
        ids
    }

    /// Writes `index.html` and the charts' PNG files.
    pub fn write(
        &self,
        bundle: &mut Bundle,
        templates: &Templates,
        policies: &TextTable,
        policy_links: &PolicyLinks,
        attention: &Attention,
        evidence: &BTreeMap<String, Evidence>,
    ) -> Result<()> {
        let no_link = |_: usize, _: &str| None;
        let [platform_chart, policy_chart, trend_chart] =
            charts(&self.platforms, policies, &self.trend)?;
        let links = |name: &str| EvidenceLinks::new(&evidence[name], "");
        let policy_link = |row: usize, column: &str| {
            (column == "policy_name")
                .then(|| policy_links.page(&policies.get(row, "policy_id").ok()?))
                .flatten()
        };
        let mut chart_pages = Vec::new();
        for (id, chart, data, note) in [
            (
                "platforms",
                platform_chart,
                PageTable::all("platform-data", &self.platforms, &no_link)?
                    .of(self.platforms.len(), links("compliance_by_platform")),
                "Non-stale devices per platform by compliance, and stale devices apart.".to_owned(),
            ),
            (
                "policies",
                policy_chart,
                PageTable::all("policy-data", policies, &policy_link)?
                    .at_most(ROWS_PER_TABLE)
                    .of(policies.len(), links("compliance_by_policy")),
                "Succeeded out of (devices − not applicable) per policy, least compliant first; n/a where no device counts.".to_owned(),
            ),
            (
                "trend",
                trend_chart,
                PageTable::all("trend-data", &self.trend, &no_link)?
                    .of(self.trend.len(), links("compliance_trend")),
                format!(
                    "Compliance % on each of the last {} days, each day computed as its own snapshot; a gap is a day with no compliant or noncompliant device.",
                    self.trend_days
                ),
            ),
        ] {
            let png = format!("charts/{id}.png");
            bundle.write(&png, &chart.png()?)?;
            chart_pages.push(ChartPage {
                id,
                title: chart.title(),
                svg: chart.svg()?,
                png,
                note,
                data,
            });
        }
        let device_link = |table: &TextTable, row: usize, column: &str| -> Option<String> {
            let id = table.get(row, "device_id").ok()?;
            (column == "device_id" && !id.is_empty()).then(|| attention.page_of(&id))
        };
        let mut shown: BTreeMap<&str, PageTable> = BTreeMap::new();
        for (&view, (table, view_evidence)) in &self.tables {
            let id = view.replace('_', "-");
            let link = |row: usize, column: &str| device_link(table, row, column);
            let mut page_table = PageTable::all(&id, table, &link)?
                .of(view_evidence.rows, EvidenceLinks::new(view_evidence, ""));
            if view == "setting_failures" {
                let code = table.column("error_code")?;
                page_table = page_table.with_column("meaning", |cells| {
                    error_meaning(&cells[code].text).unwrap_or_default()
                });
            }
            shown.insert(view, page_table);
        }
        let files: Vec<Value> = evidence
            .values()
            .map(|e| {
                context! {
                    name => e.name,
                    purpose => self.purposes.get(&e.name).cloned().unwrap_or_default(),
                    rows => e.rows,
                    rows_shown => thousands(e.rows as u64),
                    links => EvidenceLinks::new(e, ""),
                }
            })
            .collect();
        let sections: Vec<Value> = SECTIONS
            .iter()
            .map(|s| context! { id => s.id, title => s.title, file => s.file })
            .collect();
        let page = context! {
            sections => sections,
            headline => self.headline,
            charts => chart_pages,
            tables => shown,
            evidence => files,
            attention => attention.summary(),
            rows_per_part => super::CSV_ROWS_PER_PART,
            plain_max_mib => super::CSV_PLAIN_MAX_BYTES >> 20,
        };
        let html = templates.page_with_charts("index.html", "", page)?;
        bundle.write("index.html", html.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_for_people() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(signed(0), "±0");
        assert_eq!(signed(1200), "+1,200");
        assert_eq!(signed(-3), "−3");
    }

    #[test]
    fn every_section_has_a_distinct_id() {
        let ids: BTreeSet<&str> = SECTIONS.iter().map(|s| s.id).collect();
        assert_eq!(ids.len(), SECTIONS.len());
        assert_eq!(SECTIONS[0].id, "headline");
    }

    #[test]
    fn the_spark_line_breaks_where_a_day_has_no_percentage() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let s = spark(&[
            (day(1), Some(70.0)),
            (day(2), Some(72.5)),
            (day(3), None),
            (day(4), Some(71.0)),
        ]);
        assert_eq!(s.lines.len(), 2);
        assert_eq!(s.lines[0].split(' ').count(), 2);
        assert_eq!((s.low.as_str(), s.high.as_str()), ("69", "74"));
        // The highest point is at the top of the drawing, the lowest below.
        let y = |point: &str| point.split(',').nth(1).unwrap().parse::<f64>().unwrap();
        let first: Vec<&str> = s.lines[0].split(' ').collect();
        assert!(y(first[1]) < y(first[0]));
    }
}

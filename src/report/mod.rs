//! The report stage: query results rendered as the evidence bundle an
//! auditor keeps: HTML pages with charts, every view as CSV, PNG charts and
//! a manifest of checksums. It receives rows; it never runs SQL.

mod charts;
mod manifest;
mod table;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use base64::Engine as _;
use chrono::NaiveDate;
use datafusion::arrow::array::{Array, AsArray, RecordBatch, StringArray};
use datafusion::arrow::datatypes::DataType;
use minijinja::{Environment, Value, context};
use serde::Serialize;
use sha2::{Digest, Sha256};

pub use charts::{Chart, PlatformBar};
pub use manifest::{
    MANIFEST, Manifest, ManifestFile, VerifyOutcome, sha256_bytes, sha256_file, verify,
};
pub use table::{Cell, PageTable, TextTable};

use crate::query::QueryResult;
use crate::query::output::{self, with_text_timestamps};

/// One named query's result, as the report receives it.
#[derive(Debug, Clone)]
pub struct View {
    pub purpose: String,
    pub sql: String,
    pub result: QueryResult,
}

/// The named queries a report needs, by name.
pub const REQUIRED_VIEWS: [&str; 17] = [
    "compliance_by_policy",
    "compliance_by_platform",
    "setting_failures",
    "stale_devices",
    "compliance_trend",
    "management_channel",
    "enrollment_failures",
    "policy_devices",
    "device_detail",
    "policy_settings",
    "antivirus_health",
    "firewall_status",
    "onboarding_coverage",
    "onboarding_devices",
    "changes",
    "exceptions",
    "exceptions_trend",
];

/// Everything a report shows and records.
#[derive(Debug, Clone)]
pub struct ReportInput {
    pub as_of: NaiveDate,
    pub stale_days: u32,
    pub trend_days: u32,
    /// The results of `REQUIRED_VIEWS`, by query name.
    pub views: BTreeMap<String, View>,
    /// The lake's files that the queries read, relative to the lake, with
    /// their SHA-256.
    pub lake_files: Vec<(String, String)>,
    /// Seconds since the epoch stamped on the bundle (`SOURCE_DATE_EPOCH`).
    pub generated_at: i64,
}

/// Rows of one table on one page; the rest is left to its CSV.
pub const ROWS_PER_TABLE: usize = 1000;
/// Devices per device page (each with all its settings).
pub const DEVICES_PER_PAGE: usize = 50;
/// Devices per page of the device list.
pub const DEVICES_PER_INDEX_PAGE: usize = 1000;

const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-subset.ttf");
const SCRIPT: &str = include_str!("templates/sort.js");

/// Writes files into the bundle folder and remembers them for the manifest.
struct Bundle {
    out: PathBuf,
    written: Vec<PathBuf>,
}

impl Bundle {
    fn write(&mut self, relative: &str, bytes: &[u8]) -> Result<()> {
        let path = self.out.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create `{}`", parent.display()))?;
        }
        std::fs::write(&path, bytes)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
        self.written.push(path);
        Ok(())
    }
}

/// A name that is safe as a file name or an HTML id, and stable.
fn slug(prefix: &str, id: &str) -> String {
    let digest = format!("{:x}", Sha256::digest(id.as_bytes()));
    format!("{prefix}-{}", &digest[..16])
}

/// Where each policy's and device's page is, relative to the bundle root.
struct Links {
    policies: HashMap<String, String>,
    devices: HashMap<String, String>,
}

impl Links {
    /// Links the cells of `column` to the page of the row's `policy_id`.
    fn to_policy<'a>(
        &'a self,
        table: &'a TextTable,
        column: &'a str,
        root: &'a str,
    ) -> impl Fn(usize, &str) -> Option<String> + 'a {
        link_cells(&self.policies, table, column, "policy_id", root)
    }

    /// Links the cells of `column` to the page of the row's `device_id`.
    fn to_device<'a>(
        &'a self,
        table: &'a TextTable,
        column: &'a str,
        root: &'a str,
    ) -> impl Fn(usize, &str) -> Option<String> + 'a {
        link_cells(&self.devices, table, column, "device_id", root)
    }
}

/// A cell link for `PageTable`: the cells of `column` link to the page
/// `pages` has for the row's value of `key`.
fn link_cells<'a>(
    pages: &'a HashMap<String, String>,
    table: &'a TextTable,
    column: &'a str,
    key: &'a str,
    root: &'a str,
) -> impl Fn(usize, &str) -> Option<String> + 'a {
    move |row, name| {
        if name != column {
            return None;
        }
        let page = pages.get(&table.get(row, key).ok()?)?;
        Some(format!("{root}{page}"))
    }
}

/// The totals at the top of the overview, summed from the platform rows.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Totals {
    pub devices: u64,
    pub compliant: u64,
    pub noncompliant: u64,
    pub no_policy: u64,
    pub stale: u64,
    /// As the queries print it; empty when nothing is compliant or not.
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
    let points = (0..trend.len())
        .map(|r| {
            let day = trend.get(r, "day")?;
            let day = NaiveDate::parse_from_str(&day, "%Y-%m-%d")
                .with_context(|| format!("`day` is not a date: `{day}`"))?;
            Ok((day, percent(trend, r, "compliance_pct")?))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok([
        Chart::PlatformCompliance {
            rows: platform_rows,
        },
        Chart::PolicyCompliance { rows: policy_rows },
        Chart::Trend { points },
    ])
}

#[derive(Serialize)]
struct ChartPage {
    id: &'static str,
    title: &'static str,
    svg: String,
    png: String,
    note: String,
    data: PageTable,
}

/// Writes the bundle into `out` and returns its manifest. Files of an
/// earlier bundle in `out` (those its manifest lists) are replaced; anything
/// else there is left alone, and `posture verify` will name it.
pub fn render(input: &ReportInput, out: &Path) -> Result<Manifest> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create `{}`", out.display()))?;
    remove_previous_bundle(out)?;
    let mut bundle = Bundle {
        out: out.to_path_buf(),
        written: Vec::new(),
    };
    let view = |name: &str| {
        input
            .views
            .get(name)
            .with_context(|| format!("the report needs the query `{name}`"))
    };
    let mut tables: BTreeMap<&str, TextTable> = BTreeMap::new();
    for name in REQUIRED_VIEWS {
        let v = view(name)?;
        let mut csv = Vec::new();
        output::write_csv(&neutralise_formulas(&v.result)?, &mut csv)?;
        bundle.write(&format!("csv/{name}.csv"), &csv)?;
        tables.insert(name, TextTable::new(&v.result)?);
    }
    let env = environment()?;
    let script_hash = format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(SCRIPT.as_bytes()))
    );
    let common = context! {
        as_of => input.as_of.to_string(),
        as_of_end => format!("{}T00:00:00Z", input.as_of.succ_opt().unwrap_or(input.as_of)),
        stale_days => input.stale_days,
        version => env!("CARGO_PKG_VERSION"),
        font_base64 => base64::engine::general_purpose::STANDARD.encode(FONT),
        script => SCRIPT,
        script_hash => script_hash,
    };

    let device_order = device_order(&tables["device_detail"])?;
    let links = links(&tables["compliance_by_policy"], &device_order)?;
    let pages = Pages {
        env,
        common,
        tables,
        links,
    };
    pages.overview(input, &mut bundle)?;
    pages.policies(&mut bundle)?;
    pages.devices(&device_order, &mut bundle)?;

    let manifest = Manifest::build(input, out, &bundle.written)?;
    manifest.write(out)?;
    Ok(manifest)
}

fn remove_previous_bundle(out: &Path) -> Result<()> {
    let path = out.join(MANIFEST);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(());
    };
    let previous: Manifest = serde_json::from_str(&text).with_context(|| {
        format!(
            "`{}` is not a posture manifest; choose an empty --out folder",
            path.display()
        )
    })?;
    for file in previous.files {
        let old = out.join(&file.path);
        // Only files inside `out`: a manifest is data, not a list of orders.
        if !file.path.split('/').any(|c| c == ".." || c.is_empty()) && old.is_file() {
            std::fs::remove_file(&old)
                .with_context(|| format!("cannot remove `{}`", old.display()))?;
        }
    }
    Ok(())
}

fn environment() -> Result<Environment<'static>> {
    let mut env = Environment::new();
    // Auto-escaping is on for `.html` templates: every value from the data
    // is escaped unless a template says `| safe` (only our SVG and script).
    for (name, text) in [
        ("base.html", include_str!("templates/base.html")),
        ("table.html", include_str!("templates/table.html")),
        ("index.html", include_str!("templates/index.html")),
        ("policy.html", include_str!("templates/policy.html")),
        ("devices.html", include_str!("templates/devices.html")),
        (
            "device_index.html",
            include_str!("templates/device_index.html"),
        ),
    ] {
        env.add_template(name, text)?;
    }
    Ok(env)
}

fn links(policies: &TextTable, device_order: &[String]) -> Result<Links> {
    let mut policy_pages = HashMap::new();
    for row in 0..policies.len() {
        let id = policies.get(row, "policy_id")?;
        policy_pages.insert(id.clone(), format!("policies/{}.html", slug("policy", &id)));
    }
    let mut device_pages = HashMap::new();
    for (i, id) in device_order.iter().enumerate() {
        let page = i / DEVICES_PER_PAGE + 1;
        let href = format!("devices/page-{page:04}.html#{}", slug("d", id));
        device_pages.insert(id.clone(), href);
    }
    Ok(Links {
        policies: policy_pages,
        devices: device_pages,
    })
}

/// The devices of `device_detail`, in its order (by device id), each once.
fn device_order(devices: &TextTable) -> Result<Vec<String>> {
    let column = devices.column("device_id")?;
    let mut order: Vec<String> = Vec::new();
    for row in 0..devices.len() {
        let id = devices.cell(row, column);
        if order.last() != Some(&id) {
            order.push(id);
        }
    }
    Ok(order)
}

/// Row numbers of `table` grouped by the value of `column`.
fn group_rows(table: &TextTable, column: &str) -> Result<HashMap<String, Vec<usize>>> {
    let index = table.column(column)?;
    let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
    for row in 0..table.len() {
        groups.entry(table.cell(row, index)).or_default().push(row);
    }
    Ok(groups)
}

/// What every page is rendered with: the templates, the values common to
/// all pages, the query results and where each policy and device page is.
struct Pages<'a> {
    env: Environment<'static>,
    common: Value,
    tables: BTreeMap<&'a str, TextTable>,
    links: Links,
}

impl Pages<'_> {
    /// A required view's table (all are loaded before any page is made).
    fn table(&self, name: &str) -> &TextTable {
        &self.tables[name]
    }

    fn page(&self, template: &str, root: &str, page: Value) -> Result<String> {
        let ctx =
            minijinja::value::merge_maps([context! { root => root }, page, self.common.clone()]);
        self.env
            .get_template(template)?
            .render(ctx)
            .with_context(|| format!("cannot render `{template}`"))
    }

    fn overview(&self, input: &ReportInput, bundle: &mut Bundle) -> Result<()> {
        let links = &self.links;
        let no_link = |_: usize, _: &str| None;
        let platforms = self.table("compliance_by_platform");
        let policies = self.table("compliance_by_policy");
        let trend = self.table("compliance_trend");
        let policy_link = links.to_policy(policies, "policy_name", "");
        let stale = self.table("stale_devices");
        let stale_link = links.to_device(stale, "device_id", "");
        let [platform_chart, policy_chart, trend_chart] = charts(platforms, policies, trend)?;
        let mut chart_pages = Vec::new();
        for (id, chart, data, note) in [
        (
            "platforms",
            platform_chart,
            PageTable::all("platform-data", platforms, ROWS_PER_TABLE, "csv/compliance_by_platform.csv", &no_link)?,
            "Non-stale devices per platform by compliance, and stale devices apart.".to_owned(),
        ),
        (
            "policies",
            policy_chart,
            PageTable::all("policy-data", policies, ROWS_PER_TABLE, "csv/compliance_by_policy.csv", &policy_link)?,
            "Succeeded out of (devices − not applicable) per policy, least compliant first; n/a where no device counts.".to_owned(),
        ),
        (
            "trend",
            trend_chart,
            PageTable::all("trend-data", trend, ROWS_PER_TABLE, "csv/compliance_trend.csv", &no_link)?,
            format!(
                "Compliance % on each of the last {} days, each day computed as its own snapshot; a gap is a day with no compliant or noncompliant device.",
                input.trend_days
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
        let changes = self.table("changes");
        let changes_link = links.to_device(changes, "device_id", "");
        let page = context! {
            previous_day => input.as_of.pred_opt().unwrap_or(input.as_of).to_string(),
            changes => PageTable::all("changes", changes, ROWS_PER_TABLE, "csv/changes.csv", &changes_link)?,
            exceptions => PageTable::all("exceptions", self.table("exceptions"), ROWS_PER_TABLE, "csv/exceptions.csv", &no_link)?,
            exceptions_trend => PageTable::all("exceptions-trend", self.table("exceptions_trend"), ROWS_PER_TABLE, "csv/exceptions_trend.csv", &no_link)?,
            totals => totals(platforms)?,
            charts => chart_pages,
            setting_failures => PageTable::all("setting-failures", self.table("setting_failures"), 50, "csv/setting_failures.csv", &no_link)?,
            management_channel => PageTable::all("management-channel", self.table("management_channel"), ROWS_PER_TABLE, "csv/management_channel.csv", &no_link)?,
            enrollment_failures => PageTable::all("enrollment-failures", self.table("enrollment_failures"), ROWS_PER_TABLE, "csv/enrollment_failures.csv", &no_link)?,
            stale_devices => PageTable::all("stale-devices", stale, ROWS_PER_TABLE, "csv/stale_devices.csv", &stale_link)?,
            antivirus_health => PageTable::all("antivirus-health", self.table("antivirus_health"), ROWS_PER_TABLE, "csv/antivirus_health.csv", &no_link)?,
            firewall_status => PageTable::all("firewall-status", self.table("firewall_status"), ROWS_PER_TABLE, "csv/firewall_status.csv", &no_link)?,
            onboarding_coverage => PageTable::all("onboarding-coverage", self.table("onboarding_coverage"), ROWS_PER_TABLE, "csv/onboarding_coverage.csv", &no_link)?,
            onboarding_devices => PageTable::all("onboarding-devices", self.table("onboarding_devices"), ROWS_PER_TABLE, "csv/onboarding_devices.csv", &no_link)?,
        };
        let html = self.page("index.html", "", page)?;
        bundle.write("index.html", html.as_bytes())
    }

    fn policies(&self, bundle: &mut Bundle) -> Result<()> {
        let links = &self.links;
        let policies = self.table("compliance_by_policy");
        let settings = self.table("policy_settings");
        let devices = self.table("policy_devices");
        let settings_by_policy = group_rows(settings, "policy_id")?;
        let devices_by_policy = group_rows(devices, "policy_id")?;
        let no_link = |_: usize, _: &str| None;
        let device_link = links.to_device(devices, "device_id", "../");
        for row in 0..policies.len() {
            let id = policies.get(row, "policy_id")?;
            let page_slug = slug("policy", &id);
            let device_rows = devices_by_policy.get(&id).cloned().unwrap_or_default();
            let csv_name = format!("policies/{page_slug}.csv");
            bundle.write(&csv_name, &rows_csv(devices, &device_rows)?)?;
            let page = context! {
                policy => context! {
                    id => id.clone(),
                    name => policies.get(row, "policy_name")?,
                    type => policies.get(row, "policy_type")?,
                },
                summary => PageTable::build(
                    "summary", policies, &[row],
                    &["devices", "succeeded", "error", "conflict", "pending", "not_applicable", "stale", "compliance_pct"],
                    1, "", &no_link)?,
                settings => PageTable::build(
                    "settings", settings, settings_by_policy.get(&id).map_or(&[][..], Vec::as_slice),
                    &["setting_id", "setting_name", "devices", "succeeded", "error", "conflict", "pending", "not_applicable"],
                    ROWS_PER_TABLE, "../csv/policy_settings.csv", &no_link)?,
                devices => PageTable::build(
                    "devices", devices, &device_rows,
                    &["device_id", "device_name", "os_platform", "state", "stale", "last_observed_at",
                      "setting_id", "setting_name", "setting_state", "error_code", "expected", "actual"],
                    ROWS_PER_TABLE, &format!("{page_slug}.csv"), &device_link)?,
            };
            let html = self.page("policy.html", "../", page)?;
            bundle.write(&format!("policies/{page_slug}.html"), html.as_bytes())?;
        }
        Ok(())
    }

    fn devices(&self, order: &[String], bundle: &mut Bundle) -> Result<()> {
        let detail = self.table("device_detail");
        let links = &self.links;
        let rows_by_device = group_rows(detail, "device_id")?;
        let policy_link = links.to_policy(detail, "policy_name", "../");
        let total = order.len();
        let pages = total.div_ceil(DEVICES_PER_PAGE).max(1);
        for (number, chunk) in order.chunks(DEVICES_PER_PAGE.max(1)).enumerate() {
            let number = number + 1;
            let mut devices = Vec::new();
            for id in chunk {
                let rows = &rows_by_device[id];
                let first = rows[0];
                devices.push(context! {
                id => id,
                anchor => slug("d", id),
                name => detail.get(first, "device_name")?,
                platform => detail.get(first, "os_platform")?,
                last => detail.get(first, "last_observed_at")?,
                stale => detail.get(first, "stale")?,
                compliance => detail.get(first, "compliance")?,
                table => PageTable::build(
                    &slug("t", id), detail, rows,
                    &["policy_name", "policy_state", "setting_id", "setting_name", "setting_state", "error_code", "expected", "actual"],
                    ROWS_PER_TABLE, "../csv/device_detail.csv", &policy_link)?,
            });
            }
            let first = (number - 1) * DEVICES_PER_PAGE + 1;
            let page = context! {
                devices => devices,
                first => first,
                last => first + chunk.len() - 1,
                total => total,
                prev => (number > 1).then(|| format!("page-{:04}.html", number - 1)),
                next => (number < pages).then(|| format!("page-{:04}.html", number + 1)),
            };
            let html = self.page("devices.html", "../", page)?;
            bundle.write(&format!("devices/page-{number:04}.html"), html.as_bytes())?;
        }
        // The device list, a page per DEVICES_PER_INDEX_PAGE devices.
        let device_link = links.to_device(detail, "device_id", "../");
        let firsts: Vec<usize> = order.iter().map(|id| rows_by_device[id][0]).collect();
        let index_pages = total.div_ceil(DEVICES_PER_INDEX_PAGE).max(1);
        for number in 1..=index_pages {
            let start = (number - 1) * DEVICES_PER_INDEX_PAGE;
            let rows = &firsts[start.min(total)..(start + DEVICES_PER_INDEX_PAGE).min(total)];
            let page = context! {
                devices => PageTable::build(
                    "device-list", detail, rows,
                    &["device_id", "device_name", "os_platform", "last_observed_at", "stale", "compliance"],
                    DEVICES_PER_INDEX_PAGE, "", &device_link)?,
                first => start + 1,
                last => start + rows.len(),
                total => total,
                prev => (number > 1).then(|| format!("index-{:04}.html", number - 1)),
                next => (number < index_pages).then(|| format!("index-{:04}.html", number + 1)),
            };
            let html = self.page("device_index.html", "../", page)?;
            bundle.write(&format!("devices/index-{number:04}.html"), html.as_bytes())?;
        }
        Ok(())
    }
}

/// Some rows of a table as CSV for people (formulas neutralised).
fn rows_csv(table: &TextTable, rows: &[usize]) -> Result<Vec<u8>> {
    let mut columns: Vec<Vec<Option<String>>> =
        vec![Vec::with_capacity(rows.len()); table.headers.len()];
    for &row in rows {
        for (c, column) in columns.iter_mut().enumerate() {
            column.push(Some(neutralise(&table.cell(row, c))));
        }
    }
    let fields: Vec<_> = table
        .headers
        .iter()
        .map(|h| datafusion::arrow::datatypes::Field::new(h, DataType::Utf8, true))
        .collect();
    let schema = std::sync::Arc::new(datafusion::arrow::datatypes::Schema::new(fields));
    let arrays = columns
        .into_iter()
        .map(|c| std::sync::Arc::new(StringArray::from(c)) as std::sync::Arc<dyn Array>)
        .collect();
    let batch = RecordBatch::try_new(schema.clone(), arrays)?;
    let mut csv = Vec::new();
    output::write_csv(
        &QueryResult {
            schema,
            batches: vec![batch],
        },
        &mut csv,
    )?;
    Ok(csv)
}

/// CSV written for people: text that a spreadsheet would run as a formula
/// (leading `=`, `+`, `-`, `@`, tab or carriage return) gets a leading `'`.
pub fn neutralise_formulas(result: &QueryResult) -> Result<QueryResult> {
    let result = with_text_timestamps(result)?;
    let batches = result
        .batches
        .iter()
        .map(|batch| {
            let columns = batch
                .columns()
                .iter()
                .map(|c| {
                    if c.data_type() != &DataType::Utf8 {
                        return c.clone();
                    }
                    let text: StringArray = c
                        .as_string::<i32>()
                        .iter()
                        .map(|v| v.map(neutralise))
                        .collect();
                    std::sync::Arc::new(text) as std::sync::Arc<dyn Array>
                })
                .collect();
            RecordBatch::try_new(result.schema.clone(), columns)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(QueryResult {
        schema: result.schema,
        batches,
    })
}

fn neutralise(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::neutralise;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("+1"), "'+1");
        assert_eq!(neutralise("-2016281112"), "'-2016281112");
        assert_eq!(neutralise("@SUM"), "'@SUM");
        assert_eq!(neutralise("\tx"), "'\tx");
        assert_eq!(neutralise("ws-0042"), "ws-0042");
        assert_eq!(neutralise(""), "");
    }
}

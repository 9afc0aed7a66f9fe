//! The report stage: query results rendered as the evidence bundle an
//! auditor keeps: an overview that leads with the headline numbers, a page
//! per policy, pages for the devices that need attention, a lookup that
//! finds any other device, every row of every view as zstd Parquet and CSV,
//! PNG charts and a manifest of checksums. It receives rows as streams of
//! record batches and writes pages as they arrive, so its memory depends on
//! batch and page sizes, not on the fleet; it never runs SQL.

mod charts;
mod devices;
mod evidence;
mod lookup;
mod manifest;
mod overview;
mod policies;
mod site;
mod table;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::NaiveDate;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;

pub use charts::{Chart, PlatformBar};
pub use evidence::{CSV_PLAIN_MAX_BYTES, CSV_ROWS_PER_PART, Evidence, for_people};
pub use manifest::{
    MANIFEST, Manifest, ManifestFile, QueryRecord, VerifyOutcome, parse_manifest, sha256_bytes,
    sha256_file, verify,
};
pub use overview::{Totals, totals};
pub use table::{Cell, PageTable, TextTable};

use evidence::EvidenceWriter;
use site::{Bundle, Templates};

/// The named queries a report needs, by name.
pub const REQUIRED_VIEWS: [&str; 19] = [
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
    "antivirus_mode",
    "firewall_status",
    "secure_configuration",
    "onboarding_coverage",
    "onboarding_devices",
    "changes",
    "exceptions",
    "exceptions_trend",
];

/// Rows of one table on a page; the rest are in the view's evidence files.
pub const ROWS_PER_TABLE: usize = 1000;

/// One named query's rows as the report receives them: a stream, read once.
pub struct ViewRows<'a> {
    pub purpose: String,
    pub sql: String,
    pub schema: SchemaRef,
    pub batches: Box<dyn Iterator<Item = Result<RecordBatch>> + 'a>,
}

/// Where the report's rows come from: each named query of `REQUIRED_VIEWS`,
/// run when the report asks for it (each once).
pub trait ViewSource {
    fn open(&mut self, name: &str) -> Result<ViewRows<'_>>;
}

/// What a report records besides the rows.
#[derive(Debug, Clone)]
pub struct ReportInput {
    pub as_of: NaiveDate,
    pub stale_days: u32,
    pub trend_days: u32,
    /// The lake's files that the queries read, relative to the lake, with
    /// their SHA-256.
    pub lake_files: Vec<(String, String)>,
    /// Seconds since the epoch stamped on the bundle (`SOURCE_DATE_EPOCH`).
    pub generated_at: i64,
}

/// Reads views from the source, writing each one's evidence files as its
/// rows pass, and records what each query gave for the manifest.
struct Reader<'a> {
    source: &'a mut dyn ViewSource,
    out: PathBuf,
    evidence: BTreeMap<String, Evidence>,
    queries: BTreeMap<String, QueryRecord>,
    /// What each query answers (its header comment).
    purposes: BTreeMap<String, String>,
    files: Vec<PathBuf>,
}

impl Reader<'_> {
    /// Streams the view `name`: every batch goes to its evidence files and
    /// to `each`, which sees the view's schema first.
    fn read(
        &mut self,
        name: &str,
        each: &mut dyn FnMut(&SchemaRef, &RecordBatch) -> Result<()>,
    ) -> Result<&Evidence> {
        let started = std::time::Instant::now();
        let view = self.source.open(name)?;
        let mut writer = EvidenceWriter::new(&self.out, name, view.schema.clone())?;
        // Every consumer sees the schema, even of a view with no rows.
        each(&view.schema, &RecordBatch::new_empty(view.schema.clone()))?;
        for batch in view.batches {
            let batch = batch.with_context(|| format!("the query `{name}` failed"))?;
            writer.write(&batch)?;
            each(&view.schema, &batch)?;
        }
        let (evidence, files) = writer.finish()?;
        eprintln!(
            "{name}: {} rows in {:.1} s",
            evidence.rows,
            started.elapsed().as_secs_f64()
        );
        self.files.extend(files);
        self.purposes.insert(name.to_owned(), view.purpose);
        self.queries.insert(
            name.to_owned(),
            QueryRecord {
                sha256: sha256_bytes(view.sql.as_bytes()),
                sql: view.sql,
                rows: evidence.rows,
            },
        );
        self.evidence.insert(name.to_owned(), evidence);
        Ok(&self.evidence[name])
    }

    /// The first `limit` rows of a view (all of them for the views whose
    /// size is bounded by the configuration, not the fleet), and its total.
    fn first(&mut self, name: &str, limit: usize) -> Result<(TextTable, Evidence)> {
        let mut capture: Option<table::Capture> = None;
        let evidence = self
            .read(name, &mut |schema, batch| {
                capture
                    .get_or_insert_with(|| table::Capture::first(schema.clone(), limit))
                    .add(batch);
                Ok(())
            })?
            .clone();
        let capture = capture.expect("`read` shows every consumer the schema");
        Ok((capture.table()?, evidence))
    }
}

/// Writes the bundle into `out` and returns its manifest. Files of an
/// earlier bundle in `out` (those its manifest lists) are replaced; anything
/// else there is left alone, and `posture verify` will name it. `work` is a
/// scratch folder inside `out` that the caller removes afterwards.
pub fn render(
    source: &mut dyn ViewSource,
    input: &ReportInput,
    out: &Path,
    work: &Path,
) -> Result<Manifest> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create `{}`", out.display()))?;
    remove_previous_bundle(out)?;
    let mut bundle = Bundle::new(out);
    let templates = Templates::new(input, &overview::section_templates())?;
    let mut reader = Reader {
        source,
        out: out.to_path_buf(),
        evidence: BTreeMap::new(),
        queries: BTreeMap::new(),
        purposes: BTreeMap::new(),
        files: Vec::new(),
    };
    // The views whose size the configuration bounds (platforms, policies,
    // settings, days) are held whole; the fleet's are streamed.
    let platforms = reader.first("compliance_by_platform", usize::MAX)?.0;
    let trend = reader.first("compliance_trend", usize::MAX)?.0;
    let policies = reader.first("compliance_by_policy", usize::MAX)?.0;
    let settings = reader.first("policy_settings", usize::MAX)?.0;
    let totals = totals(&platforms)?;
    let mut overview = overview::Overview::read(&mut reader, input, platforms, trend)?;
    let links = policies::write(&mut reader, &mut bundle, &templates, &policies, &settings)?;
    let attention = devices::write(
        &mut reader,
        &mut bundle,
        &templates,
        devices::Options {
            changed: overview.changed_devices(),
            linked: overview.linked_devices(),
            devices: (totals.devices + totals.stale) as usize,
            policies: &links,
            work,
        },
    )?;
    overview.write(
        &mut bundle,
        &templates,
        &policies,
        &links,
        &attention,
        &reader.evidence,
    )?;
    bundle.add(std::mem::take(&mut reader.files));
    let manifest = Manifest::build(input, reader.queries, out, bundle.written())?;
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

//! The command line, as `compliance.md` fixes it: these names and flags are
//! a contract with scripts and cron jobs.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "posture",
    version,
    about = "Offline compliance analytics for Defender for Endpoint security settings",
    long_about = "Offline compliance analytics for Defender for Endpoint security settings.\n\n\
        Agent status reports are ingested into a Parquet lake, queried with SQL, and rendered \
        into an HTML report with CSV and a checksummed manifest.",
    after_help = "Typical night:\n  \
        posture ingest --lake lake/ inbox/\n  \
        posture report --lake lake/ --out reports/today/\n\n\
        Try it on the bundled fleet:\n  \
        posture ingest --lake /tmp/lake sample-data/\n  \
        posture query --lake /tmp/lake compliance_by_platform"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ingest agent reports (NDJSON, JSON arrays, gzip) from files or folders into the lake
    #[command(
        after_help = "Every report read is either new, a duplicate of one already in the \
        lake (same report_id), or quarantined with its file, line and reason (see the \
        `quarantine` table). The run is committed atomically; it ends with the line\n  \
        ingested: read=R new=N duplicate=D quarantined=Q\n\n\
        Exit status: 0 on success (quarantined reports included), 1 on failure (nothing \
        committed), 2 when some file could not be read to its end (the rest was committed)."
    )]
    Ingest {
        /// The lake folder (created if missing)
        #[arg(long, value_name = "LAKE")]
        lake: PathBuf,
        /// Files or folders to read, recursively
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Rows held in memory before they are written out (bounds memory)
        #[arg(long, value_name = "N", default_value_t = 1_000_000, hide = true)]
        batch_rows: usize,
    },
    /// Run a named compliance query (see --list)
    #[command(after_help = "Examples:\n  \
        posture query --lake lake/ --list\n  \
        posture query --lake lake/ compliance_by_policy --as-of 2026-11-14\n  \
        posture query --lake lake/ compliance_trend --days 14 --format csv > trend.csv\n  \
        posture query --lake lake/ device_detail --device 1e5bc9d7e413ddd7902c2932e418702b84d0cc07")]
    Query {
        #[arg(long, value_name = "LAKE")]
        lake: PathBuf,
        /// The query's name, e.g. compliance_by_policy
        #[arg(required_unless_present = "list", value_name = "NAME")]
        name: Option<String>,
        /// List the named queries and what each answers
        #[arg(long)]
        list: bool,
        #[command(flatten)]
        snapshot: SnapshotArgs,
        #[command(flatten)]
        engine: EngineArgs,
        /// Days of history for compliance_trend (at least 1)
        #[arg(long, value_name = "N", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
        days: u32,
        /// The device for device_detail (all devices without it)
        #[arg(long, value_name = "ID")]
        device: Option<String>,
        /// A folder of NAME.sql files that add named queries or replace built-in ones
        #[arg(long, value_name = "DIR")]
        queries: Option<PathBuf>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Run read-only SQL over the lake's tables and snapshot views
    #[command(
        after_help = "Tables: reports, policy_states, setting_states, ingest_log, quarantine \
        (each with its `date` partition column).\n\
        Views as of the newest day: latest_reports, current_policy_states, \
        current_setting_states, device_status.\n\n\
        Example:\n  \
        posture sql --lake lake/ \"SELECT state, count(*) FROM current_policy_states GROUP BY state\"\n\n\
        Statements that write or change settings (CREATE, INSERT, COPY, SET, DROP, ...) are refused."
    )]
    Sql {
        #[arg(long, value_name = "LAKE")]
        lake: PathBuf,
        /// A query (SELECT, WITH, EXPLAIN)
        #[arg(value_name = "SQL")]
        sql: String,
        #[command(flatten)]
        engine: EngineArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Write the HTML report, CSV files and manifest into a folder
    Report {
        #[arg(long, value_name = "LAKE")]
        lake: PathBuf,
        /// The output folder (created if missing)
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[command(flatten)]
        snapshot: SnapshotArgs,
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// Check a report bundle against its manifest
    Verify {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// Generate a realistic fleet of agent reports (deterministic per seed)
    Generate {
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[arg(long, value_name = "N", default_value_t = 300)]
        devices: u32,
        #[arg(long, value_name = "N", default_value_t = 14)]
        days: u32,
        /// Check-ins per device per day (real agents: about 16)
        #[arg(long, value_name = "N", default_value_t = 2)]
        checkins_per_day: u32,
        #[arg(long, value_name = "N", default_value_t = 1)]
        seed: u64,
        /// First day of the fleet's history (UTC)
        #[arg(long, value_name = "YYYY-MM-DD", default_value = "2026-11-01")]
        start: NaiveDate,
        /// Write .ndjson.gz instead of .ndjson
        #[arg(long)]
        gzip: bool,
    },
}

/// The snapshot a query or report is computed for.
#[derive(Debug, Clone, clap::Args)]
pub struct SnapshotArgs {
    /// The UTC day to report as of (end of day); default: the day of the newest report
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<NaiveDate>,
    /// A device whose latest report is older than this many days is stale
    #[arg(long, value_name = "N", default_value_t = 7)]
    pub stale_days: u32,
}

/// Where the SQL runs.
#[derive(Debug, Clone, clap::Args)]
pub struct EngineArgs {
    /// `local` (DataFusion in this process) or a Ballista scheduler as `df://HOST:PORT`
    /// (needs a build with `--features ballista`; every node must see the lake at the same
    /// path, see docs/scale-out.md)
    #[arg(long, value_name = "ENGINE", default_value = "local")]
    pub engine: crate::query::EngineKind,
}

/// Where and how results are written: data only on stdout, or in a file.
#[derive(Debug, Clone, clap::Args)]
pub struct OutputArgs {
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// The file to write with --format parquet
    #[arg(long, value_name = "FILE", required_if_eq("format", "parquet"))]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns, for people
    Table,
    /// RFC 4180 with a header row
    Csv,
    /// A JSON array of objects
    Json,
    /// A Parquet file (needs --output FILE)
    Parquet,
}

//! The command line, as `compliance.md` fixes it: these names and flags are
//! a contract with scripts and cron jobs.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};

use crate::query::Location;

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
        Or all of it, from posture.toml (see `posture run --help`):\n  \
        posture run\n\n\
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
    /// Ingest agent reports (NDJSON, JSON arrays, gzip) and vendor exports from files or folders into the lake
    #[command(
        after_help = "Every report read is either new, a duplicate of one already in the \
        lake (same report_id), or quarantined with its file, line and reason (see the \
        `quarantine` table).\n\n\
        Vendor exports are read as downloaded (.zip, CSV, JSON or JSON lines, gzip or \
        not) and recognised by their columns: Intune's policy status reports \
        (DeviceAssignmentStatusByConfigurationPolicy and its variants, \
        DeviceStatusesByConfigurationProfile and the reports sharing its columns, told \
        apart by the report name), per-setting statuses (DevicePolicySettingsComplianceReport, \
        NoncompliantDevicesAndSettings; read last, each row filed under the device's \
        policy status), DefenderAgents, FirewallStatus and DevicesWithInventory; Defender \
        for Endpoint's machine list, deviceavinfo and secure configuration assessments \
        (API pages, the via-files export, Advanced Hunting's CSV). Each of their rows \
        counts as read; a row that cannot be used is quarantined with the reason, and an \
        export of an unknown shape names its columns \
        (docs/vendor-exports.md).\n\n\
        The run is committed atomically; it ends with the line\n  \
        ingested: read=R new=N duplicate=D quarantined=Q\n\n\
        Exit status: 0 on success (quarantined reports included), 1 on failure (nothing \
        committed), 2 when some file could not be read to its end (the rest was committed).\n\n\
        SIZE is a number of bytes, with an optional KiB, MiB or GiB (e.g. 512KiB)."
    )]
    Ingest {
        /// The lake folder (created if missing)
        #[arg(long, value_name = "LAKE", value_parser = lake_folder())]
        lake: PathBuf,
        /// Files or folders to read, recursively
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Rows held in memory before they are written out (bounds memory)
        #[arg(long, value_name = "N", default_value_t = crate::ingest::IngestOptions::DEFAULT_BATCH_ROWS, hide = true)]
        batch_rows: usize,
        /// The longest report (an NDJSON line or array element) that is parsed;
        /// a longer one is quarantined with its first 64 KiB
        #[arg(long, value_name = "SIZE", default_value = "16MiB", value_parser = parse_size)]
        max_report_bytes: u64,
        /// The most one gzip file may expand to; past it (a gzip bomb) the rest
        /// of the file is quarantined, unread
        #[arg(long, value_name = "SIZE", default_value = "4GiB", value_parser = parse_size)]
        max_decompressed_bytes: u64,
        /// Threads that parse reports (default: one per core); 1 runs the whole
        /// ingest on one thread. The lake is the same either way
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
        threads: Option<u16>,
    },
    /// Run a named compliance query (see --list)
    #[command(after_help = "Examples:\n  \
        posture query --list\n  \
        posture query --lake lake/ compliance_by_policy --as-of 2026-11-14\n  \
        posture query --lake lake/ compliance_trend --days 14 --format csv > trend.csv\n  \
        posture query --lake lake/ onboarding_devices --format csv > to-manage.csv\n  \
        posture query --lake lake/ device_detail --device 1e5bc9d7e413ddd7902c2932e418702b84d0cc07")]
    Query {
        /// The lake: a folder, or `s3://BUCKET/PREFIX` (credentials from the environment)
        #[arg(long, value_name = "LAKE", value_parser = lake_location(), required_unless_present = "list")]
        lake: Option<Location>,
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
    /// Run read-only SQL over the lake's tables and snapshot views: a query, a script, or a shell
    #[command(
        long_about = "Run read-only SQL over the lake's tables and snapshot views.\n\n\
        With a query, runs it. With --file, or SQL on standard input, runs the statements \
        one after another (each ended by `;`). With neither, on a terminal, opens a shell: \
        line editing, history (in `$XDG_DATA_HOME/posture/sql_history`, else \
        `~/.local/share/posture/sql_history`), statements over several lines ending with `;`, \
        the time of each. Shell commands: `\\d` or `.tables` (tables and views with their \
        columns), `\\d NAME` (one table's columns), `\\?` or `.help`, `\\q` or `.quit`.",
        after_help = "Tables: reports, policy_states, setting_states, ingest_log, quarantine, \
        antivirus_health, firewall_status, device_inventory, secure_configurations, \
        intune_devices, exceptions (each with its `date` partition column).\n\
        Views as of the newest day: latest_reports, current_policy_states, \
        current_setting_states (each with the Intune exports' states), \
        current_failing_settings (those in Error or Conflict), \
        current_export_policy_states, device_status, device_keys (Intune device id to \
        device), machine_keys (merged Defender machines), device_platforms, keyed_reports, \
        last_reports_of_day (each device's last report of each day), \
        inventory_status, device_exception_status; current_exceptions \
        (the exceptions in force). day_end_reports, day_end_policy_states, \
        day_end_setting_states: each day's reports, only its last ones where the compacted \
        daily snapshot is valid; the snapshot views read these, or the as-of snapshot where \
        it is valid (docs/compaction.md).\n\n\
        Examples:\n  \
        posture sql --lake lake/ \"SELECT state, count(*) FROM current_policy_states GROUP BY state\"\n  \
        posture sql --lake lake/\n  \
        posture sql --lake lake/ --file weekly.sql --format csv > weekly.csv\n  \
        echo \"SELECT count(*) FROM reports;\" | posture sql --lake lake/\n\n\
        Statements that write or change settings (CREATE, INSERT, COPY, SET, DROP, ...) are \
        refused, and so is reading any file but the lake's tables. A query that needs more \
        memory than --memory-limit, or runs longer than --timeout, is stopped with an error. \
        A script goes on after a statement fails, and then exits with status 1."
    )]
    Sql {
        /// The lake: a folder, or `s3://BUCKET/PREFIX` (credentials from the environment)
        #[arg(long, value_name = "LAKE", value_parser = lake_location())]
        lake: Location,
        /// A query (SELECT, WITH, EXPLAIN); without it, --file, standard input or the shell
        #[arg(value_name = "SQL", conflicts_with = "file")]
        sql: Option<String>,
        /// A file of statements, each ended by `;`, run one after another
        #[arg(short = 'f', long, value_name = "FILE")]
        file: Option<PathBuf>,
        /// Memory one statement may use (e.g. 512MiB, 2GiB); it fails rather than go past it
        #[arg(long, value_name = "SIZE", default_value = "4GiB", value_parser = parse_size)]
        memory_limit: u64,
        /// Seconds one statement may run before it is stopped
        #[arg(long, value_name = "SECONDS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
        timeout: u64,
        #[command(flatten)]
        engine: EngineArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Write the HTML report, CSV files and manifest into a folder
    Report {
        /// The lake: a folder, or `s3://BUCKET/PREFIX` (credentials from the environment)
        #[arg(long, value_name = "LAKE", value_parser = lake_location())]
        lake: Location,
        /// The output folder (created if missing)
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[command(flatten)]
        snapshot: SnapshotArgs,
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// Fetch the tenant's Intune report exports and Defender for Endpoint API pages into the inbox
    #[command(
        long_about = "Fetch the tenant's reports into the inbox, as the services return them: \
        Intune report exports (Graph `deviceManagement/reports/exportJobs`, one zip per report, \
        and per policy for the policy status reports) and Defender for Endpoint API pages \
        (`machines`, `SecureConfigurationsAssessmentByMachine`, `deviceavinfo`, one JSON file \
        per page), into INBOX/collect/<UTC start>/. `posture ingest` reads them as any other \
        export.",
        after_help = "Configured by the `[collect]` table of posture.toml (--config FILE, or \
        posture.toml in the current folder). The app registration's credential comes from the \
        environment (POSTURE_CLIENT_SECRET) or from files the table names (client_secret_file, \
        or certificate_file and private_key_file); never from the command line. \
        POSTURE_TENANT_ID and POSTURE_CLIENT_ID may replace tenant_id and client_id. Example:\n  \
        [collect]\n  \
        tenant_id = \"00000000-0000-0000-0000-000000000000\"\n  \
        client_id = \"11111111-1111-1111-1111-111111111111\"\n  \
        client_secret_file = \"/etc/posture/client-secret\"\n\n\
        A file appears in the inbox only when whole; a download that fails after its retries \
        is reported and the others go on. A rerun soon after (resume_within_hours) resumes the \
        same collection: it downloads only what is missing.\n\n\
        It ends with the line\n  \
        collected: files=F bytes=B already=A failed=U\n\n\
        Exit status: 0 when everything was collected; 1 when something could not be (what was \
        downloaded is kept). Requires a build with `--features collect`. See docs/collect.md."
    )]
    Collect {
        /// The inbox folder (default: `inbox` of the config file)
        #[arg(long, value_name = "DIR")]
        inbox: Option<PathBuf>,
        /// The config file (default: `posture.toml` in the current folder)
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// The nightly job: ingest what is new, write the day's bundle, point `latest` at it, prune
    #[command(
        after_help = "Every flag can also be a key of the config file (`posture.toml` in \
        the current folder, or --config FILE); a flag wins over the file. Paths in the file \
        are relative to the file's folder. Example posture.toml:\n  \
        lake = \"/srv/posture/lake\"\n  \
        inbox = \"/srv/posture/inbox\"\n  \
        reports = \"/srv/posture/reports\"\n  \
        exceptions = \"/srv/posture/exceptions.csv\"\n  \
        retention_days = 30\n  \
        quarantine_threshold = 0\n\n\
        Inbox files whose SHA-256 is in the lake's ingest_log are not read again; a changed \
        file is. The bundle of day D goes to REPORTS/D/ (D: --as-of, or the newest day with a \
        report); REPORTS/latest links to the newest bundle; bundles older than retention_days \
        are removed. --backfill FROM also writes every day from FROM to D.\n\n\
        With a `[collect]` table (see `posture collect --help`), the run first fetches the \
        tenant's reports into the inbox; --no-collect skips that.\n\n\
        Exit status: 0 success; 1 failure (nothing half-done: rerun it); 2 some inbox file \
        could not be read to its end (the rest is ingested, bundles written); 3 success, but \
        this run quarantined more reports than quarantine_threshold; 4 the collect step could \
        not fetch everything (the rest of the run went on with what the inbox holds). See \
        docs/run.md."
    )]
    Run(RunArgs),
    /// Load an exceptions CSV into the lake: the new set in force (older sets are kept)
    #[command(
        after_help = "Columns: device_id, policy_id, setting_id, reason, owner, expires \
        (YYYY-MM-DD, the last day it applies). A blank scope column matches anything; at least \
        one must be given. See docs/exceptions.md.\n\n\
        Example:\n  posture exceptions --lake lake/ exceptions.csv"
    )]
    Exceptions {
        #[arg(long, value_name = "LAKE", value_parser = lake_folder())]
        lake: PathBuf,
        /// The exceptions CSV
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Merge each partition's small files into one (one atomic commit)
    #[command(
        long_about = "Merge each partition's small files into one, in one atomic commit.\n\n\
        Every ingest adds one Parquet file per table and touched day, so a lake fed every \
        90 minutes holds many small files per day, and every query opens them all. `posture \
        compact` rewrites each `date=` partition that holds more than one file as one file, \
        sorted and compressed as ingest writes, for every table. The rows are the same (it \
        checks the counts and fails, committing nothing, if they differ); queries give the same \
        results; later ingests still recognise duplicates.\n\n\
        In the same commit it writes the snapshots that queries read instead of history: \
        the daily snapshot of each day whose snapshot is missing or stale (each device's last \
        report of the day), and the as-of snapshot of the newest day (each device's newest \
        report by then, which a named query of one day reads). A snapshot is read only while \
        the raw files it was built from are exactly those in the lake: a late report makes it \
        stale, and queries read around it until the next compaction.",
        after_help = "It takes the lake's writer lock (an ingest waits for it, and it for an \
        ingest). Readers see the lake before or after, never half: a crash leaves the old \
        files or the merged ones, and the next posture command finishes a committed \
        compaction. It ends with the line\n  \
        compacted: partitions=P files=BEFORE->AFTER bytes=BEFORE->AFTER rows=R snapshots=S as_of=DAY\n\n\
        Run it after ingest, e.g. nightly (`posture run` does); it is a no-op (exit 0) when \
        every partition already holds one file and every snapshot is up to date. See \
        docs/compaction.md.\n\n\
        Examples:\n  posture compact --lake lake/ --dry-run\n  posture compact --lake lake/"
    )]
    Compact {
        /// The lake folder
        #[arg(long, value_name = "LAKE", value_parser = lake_folder())]
        lake: PathBuf,
        /// Only list the partitions that would be merged and the snapshots built; change nothing
        #[arg(long)]
        dry_run: bool,
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
        /// Also write, under DIR/exports/, the tenant's exports of the last
        /// day as Intune and Defender for Endpoint hand them out (zip
        /// exports, API pages), with devices known only from them
        #[arg(long)]
        exports: bool,
    },
}

/// `posture run`: each flag may instead come from the config file.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RunArgs {
    /// The config file (default: `posture.toml` in the current folder, if there is one)
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The lake folder (created if missing)
    #[arg(long, value_name = "LAKE", value_parser = lake_folder())]
    pub lake: Option<PathBuf>,
    /// The folder agents deliver reports into
    #[arg(long, value_name = "DIR")]
    pub inbox: Option<PathBuf>,
    /// The folder of dated bundles and the `latest` link
    #[arg(long, value_name = "DIR")]
    pub reports: Option<PathBuf>,
    /// An exceptions CSV, loaded when it changed
    #[arg(long, value_name = "FILE")]
    pub exceptions: Option<PathBuf>,
    /// The log file, appended to [default: REPORTS/posture-run.log]
    #[arg(long, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
    /// The bundle's day [default: the newest day with a report]
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<NaiveDate>,
    /// Also write the bundles of every day from FROM (catching up on missed nights)
    #[arg(long, value_name = "FROM")]
    pub backfill: Option<NaiveDate>,
    /// A device whose latest report is older than this many days is stale [default: 7]
    #[arg(long, value_name = "N")]
    pub stale_days: Option<u32>,
    /// Days of bundles kept, counting the newest [default: 30]
    #[arg(long, value_name = "N")]
    pub retention_days: Option<u32>,
    /// Exit 3 when this run quarantines more reports than this [default: 0]
    #[arg(long, value_name = "N")]
    pub quarantine_threshold: Option<u64>,
    /// Skip the collect step of the config's `[collect]` table
    #[arg(long)]
    pub no_collect: bool,
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

/// A size in bytes: a number, with an optional `B`, `KiB`, `MiB`, `GiB` or
/// `TiB` (case does not matter; `K`, `M`, `G`, `T` mean the same).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size (e.g. 4096, 64KiB, 16MiB, 2GiB)"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kib" => 10,
        "m" | "mib" => 20,
        "g" | "gib" => 30,
        "t" | "tib" => 40,
        _ => {
            return Err(format!(
                "`{text}` has an unknown unit (use KiB, MiB, GiB or TiB)"
            ));
        }
    };
    number
        .checked_mul(1 << shift)
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{text}` is out of range"))
}

/// `--lake` of the reading commands: a folder or an `s3://` URL. The
/// error is clap's own but without the value, which may hold a secret.
#[derive(Clone)]
struct LakeParser {
    /// Writers: their commits need a file system's rename and locks, which
    /// object storage does not have.
    folder_only: bool,
}

impl clap::builder::TypedValueParser for LakeParser {
    type Value = Location;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Location, clap::Error> {
        let invalid = |message: String| {
            clap::Error::raw(clap::error::ErrorKind::ValueValidation, message + "\n").with_cmd(cmd)
        };
        // A folder name need not be UTF-8; a URL is.
        let Some(text) = value.to_str() else {
            return Ok(Location::Dir(value.into()));
        };
        match text.parse::<Location>().map_err(invalid)? {
            Location::S3(url) if self.folder_only => Err(invalid(format!(
                "`{url}` is object storage: this command writes a lake folder, which is then \
                 published (docs/scale-out.md, \"The lake on S3\")"
            ))),
            lake => Ok(lake),
        }
    }
}

fn lake_location() -> LakeParser {
    LakeParser { folder_only: false }
}

fn lake_folder() -> impl clap::builder::TypedValueParser<Value = PathBuf> {
    use clap::builder::TypedValueParser;
    LakeParser { folder_only: true }.map(|lake| match lake {
        Location::Dir(dir) => dir,
        Location::S3(_) => unreachable!("refused by the parser"),
    })
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_take_binary_units() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64KiB"), Ok(64 << 10));
        assert_eq!(parse_size("16mib"), Ok(16 << 20));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert!(parse_size("0").is_err());
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("MiB").is_err());
        assert!(parse_size("99999999999TiB").is_err());
    }
}

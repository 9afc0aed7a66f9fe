//! Generates a realistic fleet of agent reports (agent-report/v1), so that
//! ingest, the queries and the reports can be exercised, demonstrated and
//! measured without access to a real tenant.
//!
//! The fleet is decided up front (devices, the policies targeted at them, the
//! stretches when their settings drift), then walked day by day, writing one
//! NDJSON file per collector per day. Every random number is drawn from a
//! stream named after what it decides (the tenant, a device, one check-in),
//! so the bytes written depend on the options and nothing else. With
//! `--exports`, `exports.rs` writes what the same tenant's Intune and
//! Defender for Endpoint exports of the last day would hold.

use std::fs;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, ensure};
use chrono::{Days, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};
use flate2::Compression;
use flate2::write::GzEncoder;
use serde::Serialize;

mod exports;

#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// The folder that receives `<collector>/<YYYY-MM-DD>.ndjson[.gz]`.
    pub out: PathBuf,
    /// Default 300.
    pub devices: u32,
    /// Default 14.
    pub days: u32,
    /// Default 2.
    pub checkins_per_day: u32,
    pub seed: u64,
    /// The first day of the fleet's history, UTC.
    pub start: NaiveDate,
    /// Write `.ndjson.gz` instead of `.ndjson`.
    pub gzip: bool,
    /// Also write the tenant's exports of the last day under `out/exports/`
    /// (`exports.rs`).
    pub exports: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenerateSummary {
    pub files: u64,
    /// Distinct reports, redeliveries not included.
    pub reports: u64,
    /// Reports written a second time, as a collector that redelivers does.
    pub duplicates: u64,
    /// Bytes written to disk, after compression when gzip.
    pub bytes: u64,
    /// Export files written (`--exports`), counted in `files` and `bytes` too.
    pub export_files: u64,
}

/// Writes the fleet's reports under `options.out` and says what it wrote.
pub fn generate(options: &GenerateOptions) -> Result<GenerateSummary> {
    ensure!(options.devices >= 1, "the fleet needs at least 1 device");
    ensure!(
        options.days >= 1,
        "the fleet's history needs at least 1 day"
    );
    ensure!(
        (1..=MAX_CHECKINS_PER_DAY).contains(&options.checkins_per_day),
        "check-ins per day must be between 1 and {MAX_CHECKINS_PER_DAY}, not `{}`",
        options.checkins_per_day
    );
    // One day more than the history, for timestamps in a local time ahead of UTC.
    options
        .start
        .checked_add_days(Days::new(u64::from(options.days) + 1))
        .with_context(|| {
            format!(
                "`{}` plus {} days is past the last date we can write",
                options.start, options.days
            )
        })?;

    let timeline = Timeline::new(options);
    let tenant_id = stream(options.seed, &[Purpose::Tenant as u64]).uuid();
    let policy_ids: Vec<String> = (0..CATALOG.len())
        .map(|index| stream(options.seed, &[Purpose::Policy as u64, index as u64]).uuid())
        .collect();
    let mut fleet = build_fleet(options, &timeline);
    let context = ReportContext {
        tenant_id: &tenant_id,
        policy_ids: &policy_ids,
        timeline: &timeline,
    };

    let slot = TICKS_PER_DAY / u64::from(options.checkins_per_day);
    let mut summary = GenerateSummary::default();
    let mut redelivered: [Vec<Line>; COLLECTORS.len()] = Default::default();
    for day in 0..options.days {
        let mut files = std::mem::take(&mut redelivered);
        for (index, device) in fleet.iter_mut().enumerate() {
            if !(device.first_day..=device.last_day).contains(&day) {
                continue;
            }
            let collector = device.collector as usize;
            for checkin in 0..options.checkins_per_day {
                let path = [
                    Purpose::CheckIn as u64,
                    index as u64,
                    u64::from(day),
                    u64::from(checkin),
                ];
                let mut rng = stream(options.seed, &path);
                let observed =
                    u64::from(day) * TICKS_PER_DAY + u64::from(checkin) * slot + rng.below(slot);
                let policies = device.check_in(observed, &timeline);
                let line = Line {
                    observed,
                    device: index,
                    json: render_report(device, &policies, observed, &context, &mut rng)?,
                };
                summary.reports += 1;
                if rng.chance(DUPLICATE_PER_MILLE) {
                    summary.duplicates += 1;
                    let target = if day + 1 < options.days {
                        &mut redelivered[collector]
                    } else {
                        &mut files[collector]
                    };
                    target.push(line.clone());
                }
                files[collector].push(line);
            }
        }
        let date = options.start + Days::new(u64::from(day));
        for (&collector, lines) in COLLECTORS.iter().zip(files) {
            if !lines.is_empty() {
                summary.bytes += write_day_file(options, collector, date, lines)?;
                summary.files += 1;
            }
        }
    }
    if options.exports {
        let (files, bytes) = exports::write(options, &context)?;
        summary.files += files;
        summary.export_files = files;
        summary.bytes += bytes;
    }
    Ok(summary)
}

const SCHEMA: &str = "agent-report/v1";

/// .NET ticks (100 ns), the agent's resolution: hence 7 fractional digits.
const TICKS_PER_SECOND: u64 = 10_000_000;
const TICKS_PER_HOUR: u64 = 3_600 * TICKS_PER_SECOND;
const TICKS_PER_DAY: u64 = 24 * TICKS_PER_HOUR;

/// One a minute is already ten times what a real agent does.
const MAX_CHECKINS_PER_DAY: u32 = 1_440;

const DUPLICATE_PER_MILLE: u64 = 10;
const MISSING_SCHEMA_PER_MILLE: u64 = 50;
const LOCAL_TIME_PER_MILLE: u64 = 100;
const UPPER_CASE_ID_PER_MILLE: u64 = 500;

/// Each purpose names an independent random stream, so that what one part of
/// the fleet draws never shifts what another part gets.
#[derive(Clone, Copy)]
enum Purpose {
    Tenant,
    Policy,
    Roles,
    Device,
    CheckIn,
    Exports,
}

/// splitmix64 (Steele, Lea and Flood, 2014), written out here rather than
/// taken from `rand`: a seed must give the same bytes forever, and `rand`
/// does not promise the same stream across its versions.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound`; `bound` must not be 0.
    fn below(&mut self, bound: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(bound)) >> 64) as u64
    }

    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1_000) < per_mille
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    fn weighted<T: Copy>(&mut self, table: &[(T, u64)]) -> T {
        let total = table.iter().map(|&(_, weight)| weight).sum();
        let mut roll = self.below(total);
        for &(item, weight) in table {
            if roll < weight {
                return item;
            }
            roll -= weight;
        }
        unreachable!("the roll is below the total weight")
    }

    /// Shaped like a version 4 UUID, as the ids Defender and Entra hand out.
    fn uuid(&mut self) -> String {
        let (high, low) = (self.next_u64(), self.next_u64());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            high >> 32,
            (high >> 16) & 0xffff,
            high & 0x0fff,
            ((low >> 48) & 0x3fff) | 0x8000,
            low & 0xffff_ffff_ffff
        )
    }

    /// A Defender machine id: 40 hex digits, the length of a SHA-1.
    fn machine_id(&mut self) -> String {
        let (first, second, third) = (self.next_u64(), self.next_u64(), self.next_u64());
        format!("{first:016x}{second:016x}{:08x}", third >> 32)
    }
}

fn stream(seed: u64, path: &[u64]) -> SplitMix64 {
    SplitMix64(
        path.iter()
            .fold(seed, |state, &key| SplitMix64(state).next_u64() ^ key),
    )
}

/// When the fleet's policy lifecycle events happen, in ticks since the start.
struct Timeline {
    midnight: NaiveDateTime,
    days: u32,
    /// A policy is renamed and its version bumped at noon in mid-period.
    revision_at: u64,
    /// A policy is unassigned from one group two thirds into the period.
    withdrawal_at: u64,
}

impl Timeline {
    fn new(options: &GenerateOptions) -> Timeline {
        let days = u64::from(options.days);
        Timeline {
            midnight: options.start.and_time(NaiveTime::MIN),
            days: options.days,
            revision_at: days / 2 * TICKS_PER_DAY + 12 * TICKS_PER_HOUR,
            withdrawal_at: days * 2 / 3 * TICKS_PER_DAY,
        }
    }

    /// RFC 3339 with 7 fractional digits, as .NET writes it, in UTC or in the
    /// device's local time (the same instant).
    fn observed_at(&self, observed: u64, local_time: Option<UtcOffset>) -> String {
        let (offset_seconds, suffix) =
            local_time.map_or((0, "Z"), |zone| (zone.seconds, zone.suffix));
        let seconds = (observed / TICKS_PER_SECOND) as i64 + offset_seconds;
        let wall = self.midnight + TimeDelta::seconds(seconds);
        format!(
            "{}.{:07}{suffix}",
            wall.format("%Y-%m-%dT%H:%M:%S"),
            observed % TICKS_PER_SECOND
        )
    }
}

#[derive(Clone, Copy)]
struct UtcOffset {
    seconds: i64,
    suffix: &'static str,
}

const INDIA: UtcOffset = UtcOffset {
    seconds: 19_800,
    suffix: "+05:30",
};
const JAPAN: UtcOffset = UtcOffset {
    seconds: 32_400,
    suffix: "+09:00",
};

#[derive(Clone, Copy)]
enum Collector {
    Eu,
    Us,
    Apac,
}

const COLLECTORS: [Collector; 3] = [Collector::Eu, Collector::Us, Collector::Apac];
const COLLECTOR_MIX: [(Collector, u64); 3] = [
    (Collector::Eu, 45),
    (Collector::Us, 35),
    (Collector::Apac, 20),
];

impl Collector {
    fn name(self) -> &'static str {
        match self {
            Collector::Eu => "collector-eu",
            Collector::Us => "collector-us",
            Collector::Apac => "collector-apac",
        }
    }

    /// Some agents in Asia stamp reports in local time; the others use UTC.
    fn local_time_zones(self) -> &'static [UtcOffset] {
        match self {
            Collector::Eu | Collector::Us => &[],
            Collector::Apac => &[INDIA, JAPAN],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Platform {
    Windows10,
    Windows11,
    WindowsServer2012R2,
    WindowsServer2016,
    WindowsServer2019,
    WindowsServer2022,
    WindowsServer2025,
    MacOs,
    Linux,
}

const PLATFORM_MIX: [(Platform, u64); 9] = [
    (Platform::Windows11, 40),
    (Platform::Windows10, 25),
    (Platform::WindowsServer2012R2, 2),
    (Platform::WindowsServer2016, 3),
    (Platform::WindowsServer2019, 4),
    (Platform::WindowsServer2022, 4),
    (Platform::WindowsServer2025, 2),
    (Platform::MacOs, 10),
    (Platform::Linux, 10),
];

/// Servers where the Windows Security app's settings and the newest ASR
/// rules do not apply.
const OLD_SERVERS: &[Platform] = &[Platform::WindowsServer2012R2, Platform::WindowsServer2016];

impl Platform {
    fn as_str(self) -> &'static str {
        match self {
            Platform::Windows10 => "Windows10",
            Platform::Windows11 => "Windows11",
            Platform::WindowsServer2012R2 => "WindowsServer2012R2",
            Platform::WindowsServer2016 => "WindowsServer2016",
            Platform::WindowsServer2019 => "WindowsServer2019",
            Platform::WindowsServer2022 => "WindowsServer2022",
            Platform::WindowsServer2025 => "WindowsServer2025",
            Platform::MacOs => "macOS",
            Platform::Linux => "Linux",
        }
    }

    fn is_workstation(self) -> bool {
        matches!(self, Platform::Windows10 | Platform::Windows11)
    }

    fn is_windows_server(self) -> bool {
        !self.is_workstation() && !matches!(self, Platform::MacOs | Platform::Linux)
    }

    fn os_versions(self) -> &'static [&'static str] {
        match self {
            Platform::Windows10 => &["10.0.19045.5131", "10.0.19045.5011", "10.0.19044.5131"],
            Platform::Windows11 => &["10.0.22631.4460", "10.0.26100.2314", "10.0.22621.4460"],
            Platform::WindowsServer2012R2 => &["6.3.9600.22267"],
            Platform::WindowsServer2016 => &["10.0.14393.7515"],
            Platform::WindowsServer2019 => &["10.0.17763.6532"],
            Platform::WindowsServer2022 => &["10.0.20348.2849"],
            Platform::WindowsServer2025 => &["10.0.26100.2314"],
            Platform::MacOs => &["15.1.1", "14.7.1", "13.7.1"],
            Platform::Linux => &[
                "Ubuntu 22.04.5 LTS",
                "Ubuntu 24.04.1 LTS",
                "RHEL 9.4",
                "Debian 12.8",
            ],
        }
    }

    fn agent_versions(self) -> &'static [&'static str] {
        match self {
            Platform::MacOs => &["101.24092.0004", "101.24082.0006"],
            Platform::Linux => &["101.24092.0002", "101.24082.0004"],
            _ => &[
                "10.8760.25110.1000",
                "10.8760.25090.1002",
                "10.8760.25050.1008",
            ],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ServerRole {
    Sql,
    Web,
    File,
    App,
    DomainController,
}

const SERVER_ROLES: [(ServerRole, u64); 5] = [
    (ServerRole::Sql, 25),
    (ServerRole::Web, 25),
    (ServerRole::File, 20),
    (ServerRole::App, 20),
    (ServerRole::DomainController, 10),
];

impl ServerRole {
    fn name_part(self) -> &'static str {
        match self {
            ServerRole::Sql => "sql",
            ServerRole::Web => "web",
            ServerRole::File => "file",
            ServerRole::App => "app",
            ServerRole::DomainController => "dc",
        }
    }
}

const WORKSTATION_GROUPS: [(&str, u64); 6] = [
    ("Finance", 15),
    ("Engineering", 30),
    ("Sales", 20),
    ("HR", 10),
    ("Marketing", 15),
    ("Support", 10),
];
const MAC_GROUPS: [(&str, u64); 3] = [("Engineering", 50), ("Marketing", 30), ("Sales", 20)];
/// Linux machines by role, and the group that owns each role.
const LINUX_ROLES: [((&str, &str), u64); 4] = [
    (("web", "Servers"), 40),
    (("db", "Servers"), 20),
    (("build", "Engineering"), 25),
    (("k8s", "Engineering"), 15),
];
const MAC_OWNERS: &[&str] = &[
    "anna", "ben", "chen", "dana", "emil", "fatima", "greta", "hiro", "ines", "jonas", "kofi",
    "lena", "mateo", "nora", "omar", "priya", "quinn", "rosa", "sven", "tariq",
];

const WORKSTATION_JOINS: [(&str, u64); 3] = [
    ("AzureADJoined", 45),
    ("HybridAzureADJoined", 45),
    ("AzureADRegistered", 10),
];
const SERVER_JOINS: [(&str, u64); 3] = [
    ("HybridAzureADJoined", 60),
    ("Workgroup", 25),
    ("AzureADJoined", 15),
];
const LINUX_JOINS: [(&str, u64); 2] = [("Workgroup", 70), ("AzureADRegistered", 30)];
const WINDOWS_MANAGERS: [(&str, u64); 4] = [
    ("MDE", 70),
    ("Intune", 12),
    ("Co-managed", 10),
    ("ConfigMgr", 8),
];
const HEALTH: [(&str, u64); 4] = [
    ("Active", 95),
    ("ImpairedCommunication", 3),
    ("NoSensorData", 1),
    ("NoSensorDataImpairedCommunication", 1),
];

/// From the spec's table of security settings management enrollment errors.
const ENROLLMENT_ERRORS: &[u32] = &[2, 4, 8, 10, 13, 15, 16, 18, 36, 38, 40, 43, 44];

/// Names that break naive HTML, CSV and line-oriented output.
const HOSTILE_NAMES: [&str; 3] = [
    "<script>alert(1)</script>",
    "=HYPERLINK(\"x\"),kiosk",
    "Empfang\nBüro-Ä",
];

/// Declared from mildest to worst, so that a policy's state is the greatest
/// of its settings' states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
enum State {
    NotApplicable,
    Succeeded,
    Pending,
    Conflict,
    Error,
}

/// Agents report an error code either as text or as a JSON integer.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(untagged)]
enum ErrorCode {
    Text(&'static str),
    Integer(i64),
}

const ERROR_CODES: [ErrorCode; 5] = [
    ErrorCode::Text("0x87D1FDE8"),
    ErrorCode::Text("0x87D101F4"),
    ErrorCode::Text("0x87D1B001"),
    // 0x87D1FDE8 as the signed 32-bit integer some agents send.
    ErrorCode::Integer(-2_016_281_112),
    ErrorCode::Integer(65_000),
];

struct SettingSpec {
    id: &'static str,
    name: &'static str,
    expected: &'static str,
    /// The value seen while the setting is not in force.
    drifted: &'static str,
    not_applicable_on: &'static [Platform],
}

const fn setting(
    id: &'static str,
    name: &'static str,
    expected: &'static str,
    drifted: &'static str,
) -> SettingSpec {
    SettingSpec {
        id,
        name,
        expected,
        drifted,
        not_applicable_on: &[],
    }
}

macro_rules! asr_rule {
    ($guid:literal, $name:literal, $expected:literal) => {
        setting(
            concat!(
                "device_vendor_msft_policy_config_defender_attacksurfacereductionrules_",
                $guid
            ),
            $name,
            $expected,
            "off",
        )
    };
}

/// Which devices a policy is assigned to.
#[derive(Clone, Copy)]
enum Audience {
    Workstations,
    Servers,
    SqlServers,
    Windows,
    /// Every Windows device but the groups that opted out of the branding.
    SecurityExperience,
    Group(&'static str),
    /// Laptops that travel and join untrusted networks.
    RoamingGroups,
    MacOs,
    Linux,
}

impl Audience {
    fn includes(self, device: &Device) -> bool {
        let platform = device.platform;
        let workstation_in =
            |groups: &[&str]| platform.is_workstation() && groups.contains(&device.machine_group);
        match self {
            Audience::Workstations => platform.is_workstation(),
            Audience::Servers => platform.is_windows_server(),
            Audience::SqlServers => device.server_role == Some(ServerRole::Sql),
            Audience::Windows => platform.is_workstation() || platform.is_windows_server(),
            Audience::SecurityExperience => {
                platform.is_windows_server()
                    || workstation_in(&["Finance", "Sales", "HR", "Support"])
            }
            Audience::Group(group) => workstation_in(&[group]),
            Audience::RoamingGroups => workstation_in(&["Sales", "Marketing", "Support"]),
            Audience::MacOs => platform == Platform::MacOs,
            Audience::Linux => platform == Platform::Linux,
        }
    }
}

/// A new version of a policy: a new name and one setting's new value.
struct Revision {
    name: &'static str,
    setting_id: &'static str,
    expected: &'static str,
}

struct PolicySpec {
    name: &'static str,
    policy_type: &'static str,
    profile: &'static str,
    version: u32,
    audience: Audience,
    settings: &'static [SettingSpec],
    revision: Option<Revision>,
    withdrawn_from: Option<&'static str>,
}

impl PolicySpec {
    fn expected(&self, setting: &SettingSpec, revised: bool) -> &'static str {
        match &self.revision {
            Some(revision) if revised && revision.setting_id == setting.id => revision.expected,
            _ => setting.expected,
        }
    }
}

const AV_REALTIME: &str = "device_vendor_msft_policy_config_defender_allowrealtimemonitoring";
const AV_CLOUD: &str = "device_vendor_msft_policy_config_defender_allowcloudprotection";
const AV_CLOUD_BLOCK_LEVEL: &str = "device_vendor_msft_policy_config_defender_cloudblocklevel";
const AV_CLOUD_TIMEOUT: &str = "device_vendor_msft_policy_config_defender_cloudextendedtimeout";
const AV_PUA: &str = "device_vendor_msft_policy_config_defender_puaprotection";

const AV_WORKSTATION_SETTINGS: &[SettingSpec] = &[
    setting(AV_REALTIME, "Allow Realtime Monitoring", "1", "0"),
    setting(AV_CLOUD, "Allow Cloud Protection", "1", "0"),
    setting(AV_CLOUD_BLOCK_LEVEL, "Cloud Block Level", "2", "0"),
    setting(AV_CLOUD_TIMEOUT, "Cloud Extended Timeout", "50", "0"),
    setting(
        "device_vendor_msft_policy_config_defender_submitsamplesconsent",
        "Submit Samples Consent",
        "1",
        "0",
    ),
    setting(AV_PUA, "PUA Protection", "2", "0"),
    setting(
        "device_vendor_msft_policy_config_defender_enablenetworkprotection",
        "Enable Network Protection",
        "1",
        "0",
    ),
];

const AV_SERVER_SETTINGS: &[SettingSpec] = &[
    setting(AV_REALTIME, "Allow Realtime Monitoring", "1", "0"),
    setting(AV_CLOUD, "Allow Cloud Protection", "1", "0"),
    setting(AV_CLOUD_BLOCK_LEVEL, "Cloud Block Level", "2", "0"),
    setting(
        "device_vendor_msft_policy_config_defender_realtimescandirection",
        "Real Time Scan Direction",
        "0",
        "1",
    ),
    setting(
        "device_vendor_msft_defender_configuration_allownetworkprotectiononwinserver",
        "Allow Network Protection On Win Server",
        "1",
        "0",
    ),
    SettingSpec {
        not_applicable_on: OLD_SERVERS,
        ..setting(
            "device_vendor_msft_defender_configuration_allowdatagramprocessingonwinserver",
            "Allow Datagram Processing On Win Server",
            "1",
            "0",
        )
    },
];

const SQL_EXCLUSION_SETTINGS: &[SettingSpec] = &[
    setting(
        "device_vendor_msft_policy_config_defender_excludedpaths",
        "Excluded Paths",
        "D:\\MSSQL\\DATA|D:\\MSSQL\\LOG",
        "",
    ),
    setting(
        "device_vendor_msft_policy_config_defender_excludedextensions",
        "Excluded Extensions",
        ".mdf|.ldf|.ndf",
        "",
    ),
    setting(
        "device_vendor_msft_policy_config_defender_excludedprocesses",
        "Excluded Processes",
        "sqlservr.exe|sqlagent.exe",
        "",
    ),
];

/// Overlaps the workstation baseline: a different cloud block level is a
/// conflict, the same cloud timeout is not.
const FINANCE_AV_SETTINGS: &[SettingSpec] = &[
    setting(AV_CLOUD_BLOCK_LEVEL, "Cloud Block Level", "4", "0"),
    setting(AV_CLOUD_TIMEOUT, "Cloud Extended Timeout", "50", "0"),
    setting(
        "device_vendor_msft_policy_config_defender_daystoretaincleanedmalware",
        "Days To Retain Cleaned Malware",
        "90",
        "0",
    ),
];

const SECURITY_EXPERIENCE_SETTINGS: &[SettingSpec] = &[
    SettingSpec {
        not_applicable_on: OLD_SERVERS,
        ..setting(
            "device_vendor_msft_policy_config_windowsdefendersecuritycenter_companyname",
            "Company Name",
            "Contoso Ltd.",
            "",
        )
    },
    SettingSpec {
        not_applicable_on: OLD_SERVERS,
        ..setting(
            "device_vendor_msft_policy_config_windowsdefendersecuritycenter_email",
            "Email",
            "secops@contoso.com",
            "",
        )
    },
    SettingSpec {
        not_applicable_on: OLD_SERVERS,
        ..setting(
            "device_vendor_msft_policy_config_windowsdefendersecuritycenter_disableenhancednotifications",
            "Disable Enhanced Notifications",
            "1",
            "0",
        )
    },
    SettingSpec {
        not_applicable_on: OLD_SERVERS,
        ..setting(
            "device_vendor_msft_policy_config_windowsdefendersecuritycenter_hideransomwaredatarecovery",
            "Hide Ransomware Data Recovery",
            "1",
            "0",
        )
    },
];

const FIREWALL_SETTINGS: &[SettingSpec] = &[
    setting(
        "vendor_msft_firewall_mdmstore_domainprofile_enablefirewall",
        "Enable Domain Network Firewall",
        "true",
        "false",
    ),
    setting(
        "vendor_msft_firewall_mdmstore_privateprofile_enablefirewall",
        "Enable Private Network Firewall",
        "true",
        "false",
    ),
    setting(
        "vendor_msft_firewall_mdmstore_publicprofile_enablefirewall",
        "Enable Public Network Firewall",
        "true",
        "false",
    ),
    setting(
        "vendor_msft_firewall_mdmstore_publicprofile_defaultinboundaction",
        "Default Inbound Action for Public Profile",
        "1",
        "0",
    ),
    setting(
        "vendor_msft_firewall_mdmstore_global_disablestatefulftp",
        "Disable Stateful Ftp",
        "true",
        "false",
    ),
];

const SMB_RULE_SETTINGS: &[SettingSpec] = &[
    setting(
        "vendor_msft_firewall_mdmstore_firewallrules_blockinboundsmb_name",
        "Name",
        "Block inbound SMB",
        "",
    ),
    setting(
        "vendor_msft_firewall_mdmstore_firewallrules_blockinboundsmb_direction",
        "Direction",
        "in",
        "",
    ),
    setting(
        "vendor_msft_firewall_mdmstore_firewallrules_blockinboundsmb_action_type",
        "Action",
        "0",
        "",
    ),
    setting(
        "vendor_msft_firewall_mdmstore_firewallrules_blockinboundsmb_protocol",
        "Protocol",
        "6",
        "",
    ),
    setting(
        "vendor_msft_firewall_mdmstore_firewallrules_blockinboundsmb_localportranges",
        "Local Port Ranges",
        "445",
        "",
    ),
];

const EDR_SETTINGS: &[SettingSpec] = &[
    setting(
        "device_vendor_msft_windowsadvancedthreatprotection_configurationtype",
        "Microsoft Defender for Endpoint client configuration package type",
        "onboard",
        "",
    ),
    setting(
        "device_vendor_msft_windowsadvancedthreatprotection_configuration_samplesharing",
        "Sample Sharing",
        "1",
        "0",
    ),
    setting(
        "device_vendor_msft_windowsadvancedthreatprotection_configuration_telemetryreportingfrequency",
        "[Deprecated] Telemetry Reporting Frequency",
        "2",
        "1",
    ),
];

const ASR_WORKSTATION_SETTINGS: &[SettingSpec] = &[
    asr_rule!(
        "be9ba2d9-53ea-4cdc-84e5-9b1eeee46550",
        "Block executable content from email client and webmail",
        "block"
    ),
    asr_rule!(
        "d4f940ab-401b-4efc-aadc-ad5f3c50688a",
        "Block all Office applications from creating child processes",
        "block"
    ),
    asr_rule!(
        "3b576869-a4ec-4529-8536-b80a7769e899",
        "Block Office applications from creating executable content",
        "block"
    ),
    asr_rule!(
        "75668c1f-73b5-4cf0-bb93-3ecf5cb7cc84",
        "Block Office applications from injecting code into other processes",
        "block"
    ),
    asr_rule!(
        "d3e037e1-3eb8-44c8-a917-57927947596d",
        "Block JavaScript or VBScript from launching downloaded executable content",
        "block"
    ),
    asr_rule!(
        "5beb7efe-fd9a-4556-801d-275e5ffc04cc",
        "Block execution of potentially obfuscated scripts",
        "audit"
    ),
    asr_rule!(
        "9e6c4e1f-7d60-472f-ba1a-a39ef669e4b2",
        "Block credential stealing from the Windows local security authority subsystem",
        "block"
    ),
    asr_rule!(
        "b2b3f03d-6a65-4f7b-a9c7-1c7ef74a9ba4",
        "Block untrusted and unsigned processes that run from USB",
        "block"
    ),
];

const ASR_SERVER_SETTINGS: &[SettingSpec] = &[
    asr_rule!(
        "9e6c4e1f-7d60-472f-ba1a-a39ef669e4b2",
        "Block credential stealing from the Windows local security authority subsystem",
        "block"
    ),
    // Audit only: blocking it breaks Configuration Manager's client.
    asr_rule!(
        "d1e49aac-8f56-4280-b9ba-993a6d77406c",
        "Block process creations originating from PSExec and WMI commands",
        "audit"
    ),
    SettingSpec {
        not_applicable_on: &[Platform::WindowsServer2012R2],
        ..asr_rule!(
            "56a863a9-875e-4185-98a7-b882c64b5ce5",
            "Block abuse of exploited vulnerable signed drivers",
            "block"
        )
    },
    SettingSpec {
        not_applicable_on: OLD_SERVERS,
        ..asr_rule!(
            "e6db77e5-3df2-4cf1-b95a-636979351e5b",
            "Block persistence through WMI event subscription",
            "block"
        )
    },
    asr_rule!(
        "c1db55ab-c21a-4637-bb3f-a12568109d35",
        "Use advanced protection against ransomware",
        "block"
    ),
];

const MAC_AV_SETTINGS: &[SettingSpec] = &[
    setting(
        "com.apple.managedclient.preferences_antivirusengine_enforcementlevel",
        "Enforcement level",
        "real_time",
        "passive",
    ),
    setting(
        "com.apple.managedclient.preferences_cloudservice_enabled",
        "Enable cloud delivered protection",
        "true",
        "false",
    ),
    setting(
        "com.apple.managedclient.preferences_cloudservice_automaticsamplesubmissionconsent",
        "Automatic sample submission consent",
        "safe",
        "none",
    ),
    setting(
        "com.apple.managedclient.preferences_antivirusengine_scanarchives",
        "Scan archives",
        "true",
        "false",
    ),
];

const MAC_EXCLUSION_SETTINGS: &[SettingSpec] = &[
    setting(
        "com.apple.managedclient.preferences_exclusions_item_path",
        "Path",
        "/Users/Shared/Developer",
        "",
    ),
    setting(
        "com.apple.managedclient.preferences_exclusions_item_type",
        "Type",
        "excludedPath",
        "",
    ),
    setting(
        "com.apple.managedclient.preferences_exclusions_item_isdirectory",
        "Is directory",
        "true",
        "",
    ),
];

const LINUX_AV_SETTINGS: &[SettingSpec] = &[
    setting(
        "linux_mdatp_managed_antivirusengine_enforcementlevel",
        "Enforcement level",
        "real_time",
        "passive",
    ),
    setting(
        "linux_mdatp_managed_cloudservice_enabled",
        "Enable cloud delivered protection",
        "true",
        "false",
    ),
    setting(
        "linux_mdatp_managed_antivirusengine_behaviormonitoring",
        "Enable behavior monitoring",
        "enabled",
        "disabled",
    ),
    setting(
        "linux_mdatp_managed_cloudservice_automaticsamplesubmissionconsent",
        "Automatic sample submission consent",
        "safe",
        "none",
    ),
];

const LINUX_EXCLUSION_SETTINGS: &[SettingSpec] = &[
    setting(
        "linux_mdatp_managed_exclusionsettings_exclusions_item_path",
        "Path",
        "/var/lib/docker",
        "",
    ),
    setting(
        "linux_mdatp_managed_exclusionsettings_exclusions_item_type",
        "Type",
        "excludedPath",
        "",
    ),
    setting(
        "linux_mdatp_managed_exclusionsettings_exclusions_item_isdirectory",
        "Is directory",
        "true",
        "",
    ),
];

/// The tenant's policies, with the profile names the admin center shows.
/// Their ids come from the seed, in this order.
const CATALOG: [PolicySpec; 14] = [
    PolicySpec {
        name: "AV baseline - workstations",
        policy_type: "Antivirus",
        profile: "Microsoft Defender Antivirus",
        version: 4,
        audience: Audience::Workstations,
        settings: AV_WORKSTATION_SETTINGS,
        revision: Some(Revision {
            name: "AV baseline - Windows clients",
            setting_id: AV_PUA,
            expected: "1",
        }),
        withdrawn_from: None,
    },
    PolicySpec {
        name: "AV baseline - servers",
        policy_type: "Antivirus",
        profile: "Microsoft Defender Antivirus",
        version: 3,
        audience: Audience::Servers,
        settings: AV_SERVER_SETTINGS,
        revision: None,
        withdrawn_from: None,
    },
    PolicySpec {
        name: "AV exclusions - SQL Server",
        policy_type: "Antivirus",
        profile: "Microsoft Defender Antivirus exclusions",
        version: 2,
        audience: Audience::SqlServers,
        settings: SQL_EXCLUSION_SETTINGS,
        revision: None,
        withdrawn_from: None,
    },
    PolicySpec {
        name: "AV - Finance high protection",
        policy_type: "Antivirus",
        profile: "Microsoft Defender Antivirus",
        version: 1,
        audience: Audience::Group("Finance"),
        settings: FINANCE_AV_SETTINGS,
        revision: None,
        withdrawn_from: None,
    },
    PolicySpec {
        name: "Security experience - contact and notifications",
        policy_type: "Antivirus",
        profile: "Windows Security Experience",
        version: 2,
        audience: Audience::SecurityExperience,
        settings: SECURITY_EXPERIENCE_SETTINGS,
        revision: None,
        withdrawn_from: None,
    },
    PolicySpec {
        name: "Firewall baseline",
        policy_type: "Firewall",
        profile: "Windows Firewall",
        version: 5,
        audience: Audience::Windows,
        settings: FIREWALL_SETTINGS,
        revision: None,
        withdrawn_from: None,
    },
    PolicySpec {
        name: "Firewall rules - block inbound SMB",
        policy_type: "FirewallRules",
        profile: "Windows Firewall Rules",
        version: 1,
        audience: Audience::RoamingGroups,
        settings: SMB_RULE_SETTINGS,
        revision: None,
        withdrawn_from: None,
    },
    PolicySpec {
        name: "EDR onboarding",
        policy_type: "EndpointDetectionAndResponse",
        profile: "Endpoint detection and response",
        version: 2,
        audience: Audience::Windows,
        settings: EDR_SETTINGS,
        revision: None,
        withdrawn_from: None,
    },
    PolicySpec {
        name: "ASR rules - standard protection",
        policy_type: "AttackSurfaceReduction",
        profile: "Attack Surface Reduction Rules",
        version: 3,
        audience: Audience::Workstations,
        settings: ASR_WORKSTATION_SETTINGS,
        revision: None,
        withdrawn_from: Some("Engineering"),
    },
    PolicySpec {
        name: "ASR rules - servers",
        policy_type: "AttackSurfaceReduction",
        profile: "Attack Surface Reduction Rules",
        version: 2,
        audience: Audience::Servers,
        settings: ASR_SERVER_SETTINGS,
        revision: None,
        withdrawn_from: None,
    },
    PolicySpec {
        name: "AV baseline - macOS",
        policy_type: "Antivirus",
        profile: "Microsoft Defender Antivirus",
        version: 2,
        audience: Audience::MacOs,
        settings: MAC_AV_SETTINGS,
        revision: None,
        withdrawn_from: None,
    },
    PolicySpec {
        name: "AV exclusions - macOS developer tools",
        policy_type: "Antivirus",
        profile: "Microsoft Defender Antivirus exclusions",
        version: 1,
        audience: Audience::MacOs,
        settings: MAC_EXCLUSION_SETTINGS,
        revision: None,
        withdrawn_from: None,
    },
    PolicySpec {
        name: "AV baseline - Linux",
        policy_type: "Antivirus",
        profile: "Microsoft Defender Antivirus",
        version: 3,
        audience: Audience::Linux,
        settings: LINUX_AV_SETTINGS,
        revision: None,
        withdrawn_from: None,
    },
    PolicySpec {
        name: "AV exclusions - Linux containers",
        policy_type: "Antivirus",
        profile: "Microsoft Defender Antivirus exclusions",
        version: 1,
        audience: Audience::Linux,
        settings: LINUX_EXCLUSION_SETTINGS,
        revision: None,
        withdrawn_from: None,
    },
];

/// What sets a device apart from the ordinary ones. Handed out by quota
/// rather than by chance, so that even a small fleet has each of them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Ordinary,
    StopsReporting,
    JoinsLate,
    EnrollmentError,
    MixedCaseId,
    HostileName(&'static str),
}

fn assign_roles(seed: u64, devices: u32) -> Vec<Role> {
    let mut order: Vec<usize> = (0..devices as usize).collect();
    let mut rng = stream(seed, &[Purpose::Roles as u64]);
    for last in (1..order.len()).rev() {
        order.swap(last, rng.below(last as u64 + 1) as usize);
    }
    let quota = |per_mille: u64| (u64::from(devices) * per_mille).div_ceil(1_000) as usize;
    let special = std::iter::repeat_n(Role::StopsReporting, quota(60))
        .chain(std::iter::repeat_n(Role::JoinsLate, quota(30)))
        .chain(std::iter::repeat_n(Role::EnrollmentError, quota(40)))
        .chain(std::iter::repeat_n(Role::MixedCaseId, quota(20)))
        .chain(HOSTILE_NAMES.map(Role::HostileName));
    let mut roles = vec![Role::Ordinary; devices as usize];
    for (index, role) in order.into_iter().zip(special) {
        roles[index] = role;
    }
    roles
}

struct Device {
    collector: Collector,
    /// Lower case; the agent sometimes sends it in upper case.
    device_id: String,
    id_case_varies: bool,
    aad_device_id: Option<String>,
    name: String,
    platform: Platform,
    os_version: &'static str,
    agent_version: &'static str,
    managed_by: &'static str,
    enrollment_status: u32,
    join_type: &'static str,
    health_status: &'static str,
    machine_group: &'static str,
    server_role: Option<ServerRole>,
    tags: Vec<&'static str>,
    local_time: Option<UtcOffset>,
    first_day: u32,
    last_day: u32,
    assignments: Vec<Assignment>,
    drifts: Vec<Drift>,
}

struct Assignment {
    policy: usize,
    withdrawn_at: Option<u64>,
    /// The version the agent last applied; a newer one is `Pending` once.
    applied_version: Option<u32>,
}

/// A stretch of time during which one setting fails to apply.
struct Drift {
    policy: usize,
    setting: usize,
    from: u64,
    until: u64,
    error_code: ErrorCode,
}

/// A policy as one check-in sees it.
struct AppliedPolicy {
    policy: usize,
    revised: bool,
    pending: bool,
}

fn build_fleet(options: &GenerateOptions, timeline: &Timeline) -> Vec<Device> {
    assign_roles(options.seed, options.devices)
        .into_iter()
        .enumerate()
        .map(|(index, role)| build_device(options.seed, index, role, timeline))
        .collect()
}

fn build_device(seed: u64, index: usize, role: Role, timeline: &Timeline) -> Device {
    let mut rng = stream(seed, &[Purpose::Device as u64, index as u64]);
    let collector = rng.weighted(&COLLECTOR_MIX);
    let device_id = rng.machine_id();
    let platform = rng.weighted(&PLATFORM_MIX);
    let os_version = rng.pick(platform.os_versions());
    let agent_version = rng.pick(platform.agent_versions());
    let Identity {
        name,
        machine_group,
        join_type,
        server_role,
    } = identity(platform, index, &mut rng);
    let aad_device_id = (join_type != "Workgroup").then(|| rng.uuid());
    let mut managed_by = if platform.is_workstation() || platform.is_windows_server() {
        rng.weighted(&WINDOWS_MANAGERS)
    } else {
        "MDE"
    };
    let enrollment_status = if role == Role::EnrollmentError {
        rng.pick(ENROLLMENT_ERRORS)
    } else {
        0
    };
    match enrollment_status {
        4 => managed_by = "ConfigMgr",
        43 => managed_by = "Co-managed",
        _ => {}
    }
    let is_domain_controller = server_role == Some(ServerRole::DomainController);
    let tags = [
        (managed_by == "MDE").then_some("MDE-Management"),
        is_domain_controller.then_some("Tier0"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let local_time_zones = collector.local_time_zones();
    let local_time = (!local_time_zones.is_empty()).then(|| rng.pick(local_time_zones));
    let last_possible_day = timeline.days - 1;
    let first_day = match role {
        Role::JoinsLate => {
            (1 + rng.below(u64::from(timeline.days / 2).max(1)) as u32).min(last_possible_day)
        }
        _ => 0,
    };
    let last_day = match role {
        // Early enough to be stale under `--stale-days 7` on the last day.
        Role::StopsReporting => rng.below(u64::from(timeline.days.saturating_sub(8)).max(1)) as u32,
        _ => last_possible_day,
    };
    let name = match role {
        Role::HostileName(hostile) => hostile.to_owned(),
        _ => name,
    };
    let mut device = Device {
        collector,
        device_id,
        id_case_varies: role == Role::MixedCaseId,
        aad_device_id,
        name,
        platform,
        os_version,
        agent_version,
        managed_by,
        enrollment_status,
        join_type,
        health_status: rng.weighted(&HEALTH),
        machine_group,
        server_role,
        tags,
        local_time,
        first_day,
        last_day,
        assignments: Vec::new(),
        drifts: Vec::new(),
    };
    if enrollment_status == 0 {
        device.assignments = assign_policies(&device, timeline);
        device.drifts = plan_drifts(&device, timeline, &mut rng);
    }
    device
}

/// How a device is known in the directory, which follows from what it is.
struct Identity {
    name: String,
    machine_group: &'static str,
    join_type: &'static str,
    server_role: Option<ServerRole>,
}

fn identity(platform: Platform, index: usize, rng: &mut SplitMix64) -> Identity {
    // Numbered by index, so names are unique and have the gaps real ones have.
    let number = index + 1;
    match platform {
        Platform::MacOs => {
            let owner = MAC_OWNERS[index % MAC_OWNERS.len()];
            let name = match index / MAC_OWNERS.len() {
                0 => format!("mbp-{owner}.contoso.local"),
                round => format!("mbp-{owner}-{}.contoso.local", round + 1),
            };
            Identity {
                name,
                machine_group: rng.weighted(&MAC_GROUPS),
                join_type: "AzureADRegistered",
                server_role: None,
            }
        }
        Platform::Linux => {
            let (role_name, machine_group) = rng.weighted(&LINUX_ROLES);
            Identity {
                name: format!("lnx-{role_name}-{number:02}"),
                machine_group,
                join_type: rng.weighted(&LINUX_JOINS),
                server_role: None,
            }
        }
        _ if platform.is_workstation() => {
            let prefix = if rng.chance(500) { "ws" } else { "lt" };
            Identity {
                name: format!("{prefix}-{number:04}.contoso.local"),
                machine_group: rng.weighted(&WORKSTATION_GROUPS),
                join_type: rng.weighted(&WORKSTATION_JOINS),
                server_role: None,
            }
        }
        _ => {
            let role = match rng.weighted(&SERVER_ROLES) {
                // Domain controllers here all run 2016 or later.
                ServerRole::DomainController if platform == Platform::WindowsServer2012R2 => {
                    ServerRole::App
                }
                role => role,
            };
            let (machine_group, join_type) = if role == ServerRole::DomainController {
                ("Domain Controllers", "HybridAzureADJoined")
            } else {
                ("Servers", rng.weighted(&SERVER_JOINS))
            };
            Identity {
                name: format!("srv-{}-{number:03}.contoso.local", role.name_part()),
                machine_group,
                join_type,
                server_role: Some(role),
            }
        }
    }
}

fn assign_policies(device: &Device, timeline: &Timeline) -> Vec<Assignment> {
    CATALOG
        .iter()
        .enumerate()
        .filter(|(_, spec)| spec.audience.includes(device))
        .map(|(policy, spec)| Assignment {
            policy,
            withdrawn_at: (spec.withdrawn_from == Some(device.machine_group))
                .then_some(timeline.withdrawal_at),
            // Devices there from the first day were enrolled before it.
            applied_version: (device.first_day == 0).then_some(spec.version),
        })
        .collect()
}

fn plan_drifts(device: &Device, timeline: &Timeline, rng: &mut SplitMix64) -> Vec<Drift> {
    let candidates: Vec<(usize, usize)> = device
        .assignments
        .iter()
        .flat_map(|assignment| {
            CATALOG[assignment.policy]
                .settings
                .iter()
                .enumerate()
                .filter(|(_, setting)| !setting.not_applicable_on.contains(&device.platform))
                .map(|(setting, _)| (assignment.policy, setting))
        })
        .collect();
    if candidates.is_empty() {
        return Vec::new();
    }
    let count = rng.weighted(&[(0, 65), (1, 25), (2, 10)]);
    let history = u64::from(timeline.days) * TICKS_PER_DAY;
    (0..count)
        .map(|_| {
            let (policy, setting) = rng.pick(&candidates);
            let from = rng.below(history);
            let length = 4 * TICKS_PER_HOUR + rng.below(5 * TICKS_PER_DAY - 4 * TICKS_PER_HOUR);
            Drift {
                policy,
                setting,
                from,
                until: from + length,
                error_code: rng.pick(&ERROR_CODES),
            }
        })
        .collect()
}

impl Device {
    /// The policies targeted at the device at `observed`, noting which ones
    /// the agent sees for the first time in their current version.
    fn check_in(&mut self, observed: u64, timeline: &Timeline) -> Vec<AppliedPolicy> {
        let mut applied = Vec::new();
        for assignment in &mut self.assignments {
            if assignment.withdrawn_at.is_some_and(|at| observed >= at) {
                continue;
            }
            let spec = &CATALOG[assignment.policy];
            let revised = spec.revision.is_some() && observed >= timeline.revision_at;
            let version = spec.version + u32::from(revised);
            let pending = assignment.applied_version != Some(version);
            assignment.applied_version = Some(version);
            applied.push(AppliedPolicy {
                policy: assignment.policy,
                revised,
                pending,
            });
        }
        applied
    }
}

/// The wire shape of agent-report/v1, fields in the spec's order.
#[derive(Serialize)]
struct WireReport<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    schema: Option<&'static str>,
    report_id: String,
    tenant_id: &'a str,
    observed_at: String,
    device: WireDevice<'a>,
    policies: Vec<WirePolicy<'a>>,
}

#[derive(Serialize)]
struct WireDevice<'a> {
    device_id: &'a str,
    aad_device_id: Option<&'a str>,
    name: &'a str,
    os_platform: &'static str,
    os_version: &'static str,
    agent_version: &'static str,
    managed_by: &'static str,
    enrollment_status: u32,
    join_type: &'static str,
    health_status: &'static str,
    machine_group: &'static str,
    is_domain_controller: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<&'a [&'static str]>,
}

#[derive(Serialize)]
struct WirePolicy<'a> {
    policy_id: &'a str,
    name: &'static str,
    #[serde(rename = "type")]
    policy_type: &'static str,
    profile: &'static str,
    version: u32,
    state: State,
    settings: Vec<WireSetting>,
}

#[derive(Serialize)]
struct WireSetting {
    setting_id: &'static str,
    name: &'static str,
    state: State,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<ErrorCode>,
    expected: &'static str,
    /// Not yet known while `Pending`, meaningless when `NotApplicable`.
    #[serde(skip_serializing_if = "Option::is_none")]
    actual: Option<&'static str>,
}

/// What every report of the run shares.
struct ReportContext<'a> {
    tenant_id: &'a str,
    policy_ids: &'a [String],
    timeline: &'a Timeline,
}

/// One report as a `\n`-terminated JSON line.
fn render_report(
    device: &Device,
    policies: &[AppliedPolicy],
    observed: u64,
    context: &ReportContext,
    rng: &mut SplitMix64,
) -> Result<Vec<u8>> {
    let report_id = rng.uuid();
    let schema = (!rng.chance(MISSING_SCHEMA_PER_MILLE)).then_some(SCHEMA);
    let local_time = device
        .local_time
        .filter(|_| rng.chance(LOCAL_TIME_PER_MILLE));
    let upper_case_id;
    let device_id = if device.id_case_varies && rng.chance(UPPER_CASE_ID_PER_MILLE) {
        upper_case_id = device.device_id.to_ascii_uppercase();
        &upper_case_id
    } else {
        &device.device_id
    };
    let report = WireReport {
        schema,
        report_id,
        tenant_id: context.tenant_id,
        observed_at: context.timeline.observed_at(observed, local_time),
        device: WireDevice {
            device_id,
            aad_device_id: device.aad_device_id.as_deref(),
            name: &device.name,
            os_platform: device.platform.as_str(),
            os_version: device.os_version,
            agent_version: device.agent_version,
            managed_by: device.managed_by,
            enrollment_status: device.enrollment_status,
            join_type: device.join_type,
            health_status: device.health_status,
            machine_group: device.machine_group,
            is_domain_controller: device.server_role == Some(ServerRole::DomainController),
            tags: (!device.tags.is_empty()).then_some(device.tags.as_slice()),
        },
        policies: policies
            .iter()
            .map(|applied| render_policy(device, applied, policies, observed, context))
            .collect(),
    };
    let mut line = Vec::new();
    serde_json::to_writer(&mut line, &report).context("cannot serialize a report")?;
    line.push(b'\n');
    Ok(line)
}

fn render_policy<'a>(
    device: &Device,
    applied: &AppliedPolicy,
    all_applied: &[AppliedPolicy],
    observed: u64,
    context: &ReportContext<'a>,
) -> WirePolicy<'a> {
    let spec = &CATALOG[applied.policy];
    let settings: Vec<WireSetting> = spec
        .settings
        .iter()
        .enumerate()
        .map(|(index, setting)| {
            let expected = spec.expected(setting, applied.revised);
            let drift = device.drifts.iter().find(|drift| {
                drift.policy == applied.policy
                    && drift.setting == index
                    && (drift.from..drift.until).contains(&observed)
            });
            let (state, error_code, actual) =
                if setting.not_applicable_on.contains(&device.platform) {
                    (State::NotApplicable, None, None)
                } else if applied.pending {
                    (State::Pending, None, None)
                } else if conflicts(setting.id, expected, applied.policy, all_applied) {
                    (State::Conflict, None, Some(setting.drifted))
                } else if let Some(drift) = drift {
                    (State::Error, Some(drift.error_code), Some(setting.drifted))
                } else {
                    (State::Succeeded, None, Some(expected))
                };
            WireSetting {
                setting_id: setting.id,
                name: setting.name,
                state,
                error_code,
                expected,
                actual,
            }
        })
        .collect();
    let revision_name = spec.revision.as_ref().filter(|_| applied.revised);
    WirePolicy {
        policy_id: &context.policy_ids[applied.policy],
        name: revision_name.map_or(spec.name, |revision| revision.name),
        policy_type: spec.policy_type,
        profile: spec.profile,
        version: spec.version + u32::from(applied.revised),
        state: settings
            .iter()
            .map(|setting| setting.state)
            .max()
            .unwrap_or(State::NotApplicable),
        settings,
    }
}

/// Two policies on one device that set the same setting to different values
/// conflict, and the agent applies neither.
fn conflicts(
    setting_id: &str,
    expected: &str,
    policy: usize,
    all_applied: &[AppliedPolicy],
) -> bool {
    all_applied
        .iter()
        .filter(|other| other.policy != policy)
        .any(|other| {
            let spec = &CATALOG[other.policy];
            spec.settings.iter().any(|setting| {
                setting.id == setting_id && spec.expected(setting, other.revised) != expected
            })
        })
}

/// One report's JSON line, with what orders it within its file.
#[derive(Clone)]
struct Line {
    observed: u64,
    device: usize,
    json: Vec<u8>,
}

/// Writes one collector's file for one day and returns its size on disk.
fn write_day_file(
    options: &GenerateOptions,
    collector: Collector,
    date: NaiveDate,
    mut lines: Vec<Line>,
) -> Result<u64> {
    lines.sort_by_key(|line| (line.observed, line.device));
    let mut text = Vec::new();
    for line in &lines {
        text.extend_from_slice(&line.json);
    }
    let folder = options.out.join(collector.name());
    fs::create_dir_all(&folder).with_context(|| format!("cannot create `{}`", folder.display()))?;
    let extension = if options.gzip { "ndjson.gz" } else { "ndjson" };
    let path = folder.join(format!("{}.{extension}", date.format("%Y-%m-%d")));
    let bytes = if options.gzip {
        // The default header has no file name and mtime 0, so the same text
        // always compresses to the same bytes.
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder
            .write_all(&text)
            .and_then(|()| encoder.finish())
            .with_context(|| format!("cannot compress `{}`", path.display()))?
    } else {
        text
    };
    fs::write(&path, &bytes).with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(bytes.len() as u64)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::io::Read;
    use std::path::Path;

    use chrono::{DateTime, Utc};
    use flate2::read::GzDecoder;
    use serde_json::Value;

    use super::*;

    const STATES: [&str; 5] = ["NotApplicable", "Succeeded", "Pending", "Conflict", "Error"];
    const POLICY_TYPES: [&str; 5] = [
        "Antivirus",
        "Firewall",
        "FirewallRules",
        "EndpointDetectionAndResponse",
        "AttackSurfaceReduction",
    ];

    fn start() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()
    }

    fn small_fleet(out: &Path, seed: u64, gzip: bool) -> GenerateOptions {
        GenerateOptions {
            out: out.to_path_buf(),
            devices: 60,
            days: 14,
            checkins_per_day: 2,
            seed,
            start: start(),
            gzip,
            exports: false,
        }
    }

    /// Every file under `root`, keyed by its path relative to `root`.
    fn read_tree(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
        fn walk(root: &Path, folder: &Path, files: &mut BTreeMap<PathBuf, Vec<u8>>) {
            for entry in fs::read_dir(folder).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(root, &path, files);
                } else {
                    let relative = path.strip_prefix(root).unwrap().to_path_buf();
                    files.insert(relative, fs::read(&path).unwrap());
                }
            }
        }
        let mut files = BTreeMap::new();
        walk(root, root, &mut files);
        files
    }

    /// The text of every file, decompressed, keyed by relative path.
    fn read_texts(root: &Path) -> BTreeMap<PathBuf, String> {
        read_tree(root)
            .into_iter()
            .map(|(path, bytes)| {
                let text = if path.extension().is_some_and(|extension| extension == "gz") {
                    let mut text = String::new();
                    GzDecoder::new(bytes.as_slice())
                        .read_to_string(&mut text)
                        .unwrap();
                    text
                } else {
                    String::from_utf8(bytes).unwrap()
                };
                (path, text)
            })
            .collect()
    }

    fn reports(root: &Path) -> Vec<Value> {
        read_texts(root)
            .values()
            .flat_map(|text| text.lines().map(|line| serde_json::from_str(line).unwrap()))
            .collect()
    }

    fn text<'a>(value: &'a Value, pointer: &str) -> &'a str {
        value
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no string at `{pointer}` in {value}"))
    }

    fn observed_at(report: &Value) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text(report, "/observed_at"))
            .unwrap()
            .with_timezone(&Utc)
    }

    fn severity(state: &str) -> usize {
        STATES
            .iter()
            .position(|known| *known == state)
            .unwrap_or_else(|| panic!("`{state}` is not a state"))
    }

    #[test]
    fn same_seed_gives_identical_files_and_another_seed_differs() {
        for gzip in [false, true] {
            let (first, second, other) = (
                tempfile::tempdir().unwrap(),
                tempfile::tempdir().unwrap(),
                tempfile::tempdir().unwrap(),
            );
            // The exports too, once.
            let options = |out: &Path, seed| GenerateOptions {
                devices: 30,
                days: 5,
                exports: gzip,
                ..small_fleet(out, seed, gzip)
            };
            let summary = generate(&options(first.path(), 7)).unwrap();
            assert_eq!(generate(&options(second.path(), 7)).unwrap(), summary);
            generate(&options(other.path(), 8)).unwrap();

            let tree = read_tree(first.path());
            assert!(!tree.is_empty());
            assert_eq!(read_tree(second.path()), tree);
            assert_ne!(read_tree(other.path()), tree);
        }
    }

    #[test]
    fn every_line_is_a_valid_v1_report() {
        let out = tempfile::tempdir().unwrap();
        let summary = generate(&small_fleet(out.path(), 11, true)).unwrap();

        let tree = read_tree(out.path());
        assert_eq!(summary.files, tree.len() as u64);
        assert_eq!(
            summary.bytes,
            tree.values().map(|bytes| bytes.len() as u64).sum::<u64>()
        );
        let texts = read_texts(out.path());
        let mut lines = 0;
        for (path, file_text) in &texts {
            let collector = path.parent().unwrap().to_str().unwrap();
            assert!(COLLECTORS.iter().any(|known| known.name() == collector));
            let file_name = path.file_name().unwrap().to_str().unwrap();
            let date = file_name.strip_suffix(".ndjson.gz").unwrap();
            NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
            assert!(file_text.ends_with('\n'));

            let mut previous = None;
            for line in file_text.lines() {
                lines += 1;
                let report: Value = serde_json::from_str(line).unwrap();
                assert_valid_report(&report);
                let instant = observed_at(&report);
                assert!(previous <= Some(instant), "{path:?} is not sorted");
                previous = Some(instant);
            }
        }
        assert_eq!(lines, summary.reports + summary.duplicates);
    }

    fn assert_valid_report(report: &Value) {
        if let Some(schema) = report.get("schema") {
            assert_eq!(schema, SCHEMA);
        }
        text(report, "/report_id");
        text(report, "/tenant_id");
        let observed = text(report, "/observed_at");
        let fraction = observed.split_once('.').unwrap().1;
        assert!(fraction[..7].bytes().all(|byte| byte.is_ascii_digit()));
        assert!(
            matches!(&fraction[7..], "Z" | "+05:30" | "+09:00"),
            "{observed}"
        );
        DateTime::parse_from_rfc3339(observed).unwrap();

        let device_id = text(report, "/device/device_id");
        assert_eq!(device_id.len(), 40);
        assert!(device_id.bytes().all(|byte| byte.is_ascii_hexdigit()));
        let aad_device_id = report.pointer("/device/aad_device_id").unwrap();
        assert!(aad_device_id.is_null() || aad_device_id.is_string());
        for field in ["name", "os_platform", "managed_by"] {
            text(report, &format!("/device/{field}"));
        }
        let enrollment_status = report.pointer("/device/enrollment_status").unwrap();
        let policies = report["policies"].as_array().unwrap();
        if enrollment_status.as_u64().unwrap() == 0 {
            assert!((2..=6).contains(&policies.len()), "{report}");
        } else {
            assert!(policies.is_empty());
        }

        for policy in policies {
            text(policy, "/policy_id");
            text(policy, "/name");
            assert!(POLICY_TYPES.contains(&text(policy, "/type")));
            let settings = policy["settings"].as_array().unwrap();
            assert!((3..=15).contains(&settings.len()));
            let mut worst = 0;
            for setting in settings {
                text(setting, "/setting_id");
                let state = text(setting, "/state");
                worst = worst.max(severity(state));
                assert_eq!(setting.get("error_code").is_some(), state == "Error");
                if matches!(state, "Error" | "Conflict") {
                    assert_ne!(setting.get("actual"), setting.get("expected"));
                }
            }
            assert_eq!(text(policy, "/state"), STATES[worst]);
        }
    }

    #[test]
    fn fleet_has_every_awkward_case_promised() {
        let out = tempfile::tempdir().unwrap();
        let options = small_fleet(out.path(), 3, false);
        let summary = generate(&options).unwrap();
        let reports = reports(out.path());

        let mut deliveries: BTreeMap<&str, u32> = BTreeMap::new();
        for report in &reports {
            *deliveries.entry(text(report, "/report_id")).or_default() += 1;
        }
        assert!(summary.duplicates > 0);
        assert_eq!(
            deliveries.values().filter(|&&count| count == 2).count() as u64,
            summary.duplicates
        );

        // By device: every report, in time order.
        let mut by_device: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
        for report in &reports {
            let device_id = text(report, "/device/device_id").to_ascii_lowercase();
            by_device.entry(device_id).or_default().push(report);
        }
        for history in by_device.values_mut() {
            history.sort_by_key(|report| observed_at(report));
        }
        let midnight = |day: u64| {
            (start() + Days::new(day))
                .and_time(NaiveTime::MIN)
                .and_utc()
        };
        let last_day = midnight(u64::from(options.days) - 1);
        assert!(by_device.values().any(|history| {
            observed_at(history.last().unwrap()) < last_day - TimeDelta::days(7)
        }));
        assert!(
            by_device
                .values()
                .any(|history| observed_at(history[0]) >= midnight(1))
        );
        let policy_ids = |report: &Value| -> BTreeSet<String> {
            report["policies"]
                .as_array()
                .unwrap()
                .iter()
                .map(|policy| text(policy, "/policy_id").to_owned())
                .collect()
        };
        assert!(by_device.values().any(|history| {
            let latest = policy_ids(history.last().unwrap());
            history
                .iter()
                .any(|report| !policy_ids(report).is_subset(&latest))
        }));

        let mut names_by_policy: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        let mut policy_states = BTreeSet::new();
        let mut setting_states = BTreeSet::new();
        for policy in reports
            .iter()
            .flat_map(|report| report["policies"].as_array().unwrap())
        {
            names_by_policy
                .entry(text(policy, "/policy_id"))
                .or_default()
                .insert(text(policy, "/name"));
            policy_states.insert(text(policy, "/state"));
            for setting in policy["settings"].as_array().unwrap() {
                setting_states.insert(text(setting, "/state"));
            }
        }
        assert!(names_by_policy.values().any(|names| names.len() == 2));
        assert_eq!(setting_states, BTreeSet::from(STATES));
        assert_eq!(policy_states, BTreeSet::from(STATES));

        let device = |field: &str| -> BTreeSet<String> {
            reports
                .iter()
                .map(|report| report["device"][field].to_string())
                .collect()
        };
        assert!(device("enrollment_status").len() > 1);
        assert!(device("aad_device_id").contains("null"));
        assert!(
            device("device_id")
                .iter()
                .any(|id| id.bytes().any(|byte| byte.is_ascii_uppercase()))
        );
        let names = device("name");
        for hostile in HOSTILE_NAMES {
            assert!(names.contains(&Value::from(hostile).to_string()));
        }
        assert!(reports.iter().any(|report| report.get("schema").is_none()));
        for offset in ["+05:30", "+09:00"] {
            assert!(
                reports
                    .iter()
                    .any(|report| text(report, "/observed_at").ends_with(offset))
            );
        }
    }
}

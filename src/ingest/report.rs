//! One agent report: its wire shape (agent-report/v1), validated and
//! normalised into the canonical form the lake stores.
//!
//! Validation says *why* a report is rejected in one sentence naming the
//! field by its JSON path, because that sentence is what an operator reads in
//! the `quarantine` table.

use std::fmt;

use chrono::DateTime;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use super::error_code;

/// The five states of a policy or a setting, in their canonical spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    Succeeded,
    Error,
    Conflict,
    Pending,
    NotApplicable,
}

impl State {
    pub const ALL: [State; 5] = [
        State::Succeeded,
        State::Error,
        State::Conflict,
        State::Pending,
        State::NotApplicable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Succeeded => "Succeeded",
            State::Error => "Error",
            State::Conflict => "Conflict",
            State::Pending => "Pending",
            State::NotApplicable => "NotApplicable",
        }
    }

    /// Case-insensitive, and spaces ignored, so that the admin center's
    /// `Not applicable` is accepted as well as `notapplicable`.
    pub fn parse(text: &str) -> Option<State> {
        let folded: String = text
            .chars()
            .filter(|c| *c != ' ')
            .flat_map(char::to_lowercase)
            .collect();
        State::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(&folded))
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A report after validation: every required field present, timestamps in
/// UTC microseconds, device id in lower case, states canonical.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub report_id: String,
    pub tenant_id: String,
    pub observed_at_us: i64,
    pub device: Device,
    pub policies: Vec<Policy>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    pub device_id: String,
    pub aad_device_id: Option<String>,
    pub name: String,
    pub os_platform: String,
    pub os_version: Option<String>,
    pub agent_version: Option<String>,
    pub managed_by: String,
    pub enrollment_status: Option<i64>,
    pub join_type: Option<String>,
    pub health_status: Option<String>,
    pub machine_group: Option<String>,
    pub is_domain_controller: Option<bool>,
    pub tags: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub policy_id: String,
    pub name: String,
    pub policy_type: String,
    pub profile: Option<String>,
    pub version: Option<i64>,
    pub state: State,
    pub settings: Vec<Setting>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub setting_id: String,
    pub name: Option<String>,
    pub state: State,
    pub error_code: Option<String>,
    pub expected: Option<String>,
    pub actual: Option<String>,
}

/// The wire shape. Required fields are `Option` so that a missing one is
/// reported by us, with its full path, rather than by serde.
#[derive(Deserialize)]
struct WireReport {
    schema: Option<String>,
    report_id: Option<String>,
    tenant_id: Option<String>,
    observed_at: Option<String>,
    device: Option<WireDevice>,
    policies: Option<Vec<WirePolicy>>,
}

#[derive(Deserialize)]
struct WireDevice {
    device_id: Option<String>,
    aad_device_id: Option<String>,
    name: Option<String>,
    os_platform: Option<String>,
    os_version: Option<String>,
    agent_version: Option<String>,
    managed_by: Option<String>,
    enrollment_status: Option<i64>,
    join_type: Option<String>,
    health_status: Option<String>,
    machine_group: Option<String>,
    is_domain_controller: Option<bool>,
    tags: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct WirePolicy {
    policy_id: Option<String>,
    name: Option<String>,
    #[serde(rename = "type")]
    policy_type: Option<String>,
    profile: Option<String>,
    version: Option<i64>,
    state: Option<String>,
    settings: Option<Vec<WireSetting>>,
}

#[derive(Deserialize)]
struct WireSetting {
    setting_id: Option<String>,
    name: Option<String>,
    state: Option<String>,
    error_code: Option<ErrorCode>,
    expected: Option<String>,
    actual: Option<String>,
}

/// `error_code` is a string or an integer on the wire; the lake keeps one
/// spelling of it (`error_code::normalize`), `None` for no error.
struct ErrorCode(Option<String>);

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CodeVisitor;
        impl Visitor<'_> for CodeVisitor {
            type Value = ErrorCode;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or an integer")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ErrorCode, E> {
                Ok(ErrorCode(error_code::normalize(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ErrorCode, E> {
                Ok(ErrorCode(error_code::from_integer(v.into())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ErrorCode, E> {
                Ok(ErrorCode(error_code::from_integer(v.into())))
            }
        }
        deserializer.deserialize_any(CodeVisitor)
    }
}

pub const SCHEMA_V1: &str = "agent-report/v1";

/// The instants a lake partition can be named for (`date=YYYY-MM-DD`, four
/// digits) and every reader's date type holds: 0001-01-01T00:00:00Z to
/// 9999-12-31T23:59:59.999999Z. RFC 3339 allows `9999-12-31T23:00:00-05:00`,
/// which is in the year 10000 in UTC.
const FIRST_US: i64 = -62_135_596_800_000_000;
const LAST_US: i64 = 253_402_300_800_000_000 - 1;

/// Parses and validates one report from its JSON text. The error is the one
/// reason that goes into the `quarantine` table.
pub fn parse(json: &[u8]) -> Result<Report, String> {
    let text = std::str::from_utf8(json).map_err(|e| {
        format!(
            "not valid UTF-8 (invalid byte at offset {})",
            e.valid_up_to()
        )
    })?;
    let first = text.trim_start().as_bytes().first().copied();
    if first != Some(b'{') {
        // Tell "not JSON at all" apart from "JSON, but not an object".
        return Err(match serde_json::from_str::<serde::de::IgnoredAny>(text) {
            Ok(_) => "not a JSON object: a report must be an object".to_owned(),
            Err(e) => format!("not valid JSON: {e}"),
        });
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let wire: WireReport = match serde_path_to_error::deserialize(&mut de) {
        Ok(w) => w,
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            return Err(if inner.is_syntax() || inner.is_eof() {
                format!("not valid JSON: {inner}")
            } else {
                format!(
                    "field `{path}` has the wrong type: {}",
                    strip_position(&inner)
                )
            });
        }
    };
    // Trailing content after the object is a syntax error too.
    de.end().map_err(|e| format!("not valid JSON: {e}"))?;
    wire.validate()
}

/// serde_json appends "at line 1 column 57"; within one report the path we
/// print says more than a column in a line that may be 10 kB long.
fn strip_position(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg,
    }
}

fn required<T>(value: Option<T>, path: &str) -> Result<T, String> {
    value.ok_or_else(|| format!("missing required field `{path}`"))
}

fn state(value: Option<String>, path: &str) -> Result<State, String> {
    let text = required(value, path)?;
    State::parse(&text).ok_or_else(|| {
        format!(
            "field `{path}` has unknown state `{text}` (expected Succeeded, Error, Conflict, Pending or NotApplicable)"
        )
    })
}

/// Parses an RFC 3339 timestamp with any offset and 0–9 fractional digits
/// into UTC microseconds since the epoch. Digits beyond the microsecond are
/// truncated (toward the past), as DuckDB and Spark do.
pub fn parse_timestamp_us(text: &str) -> Option<i64> {
    let t = DateTime::parse_from_rfc3339(text).ok()?;
    let seconds = t.timestamp();
    let micros = i64::from(t.timestamp_subsec_micros());
    seconds.checked_mul(1_000_000)?.checked_add(micros)
}

impl WireReport {
    fn validate(self) -> Result<Report, String> {
        if let Some(schema) = &self.schema
            && schema != SCHEMA_V1
        {
            return Err(format!(
                "unsupported schema `{schema}` (this version reads `{SCHEMA_V1}`)"
            ));
        }
        let report_id = required(self.report_id, "report_id")?;
        let tenant_id = required(self.tenant_id, "tenant_id")?;
        let observed_at = required(self.observed_at, "observed_at")?;
        let observed_at_us = parse_timestamp_us(&observed_at).ok_or_else(|| {
            format!("field `observed_at` is not an RFC 3339 timestamp: `{observed_at}`")
        })?;
        if !(FIRST_US..=LAST_US).contains(&observed_at_us) {
            return Err(format!(
                "field `observed_at` is outside the years 0001 to 9999 in UTC: `{observed_at}`"
            ));
        }
        let device = required(self.device, "device")?.validate()?;
        let policies = required(self.policies, "policies")?
            .into_iter()
            .enumerate()
            .map(|(i, p)| p.validate(i))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Report {
            report_id,
            tenant_id,
            observed_at_us,
            device,
            policies,
        })
    }
}

impl WireDevice {
    fn validate(self) -> Result<Device, String> {
        Ok(Device {
            device_id: required(self.device_id, "device.device_id")?.to_lowercase(),
            aad_device_id: self.aad_device_id,
            name: required(self.name, "device.name")?,
            os_platform: required(self.os_platform, "device.os_platform")?,
            os_version: self.os_version,
            agent_version: self.agent_version,
            managed_by: required(self.managed_by, "device.managed_by")?,
            enrollment_status: self.enrollment_status,
            join_type: self.join_type,
            health_status: self.health_status,
            machine_group: self.machine_group,
            is_domain_controller: self.is_domain_controller,
            tags: self.tags,
        })
    }
}

impl WirePolicy {
    fn validate(self, i: usize) -> Result<Policy, String> {
        let at = |field: &str| format!("policies[{i}].{field}");
        let settings = self
            .settings
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(j, s)| s.validate(i, j))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Policy {
            policy_id: required(self.policy_id, &at("policy_id"))?,
            name: required(self.name, &at("name"))?,
            policy_type: required(self.policy_type, &at("type"))?,
            profile: self.profile,
            version: self.version,
            state: state(self.state, &at("state"))?,
            settings,
        })
    }
}

impl WireSetting {
    fn validate(self, i: usize, j: usize) -> Result<Setting, String> {
        let at = |field: &str| format!("policies[{i}].settings[{j}].{field}");
        Ok(Setting {
            setting_id: required(self.setting_id, &at("setting_id"))?,
            name: self.name,
            state: state(self.state, &at("state"))?,
            error_code: self.error_code.and_then(|c| c.0),
            expected: self.expected,
            actual: self.actual,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"report_id":"r1","tenant_id":"t","observed_at":"2026-11-25T02:13:07.1618923+05:30",
        "device":{"device_id":"ABCdef","name":"x","os_platform":"Linux","managed_by":"MDE","future":1},
        "policies":[{"policy_id":"p","name":"n","type":"Antivirus","state":"not applicable",
            "settings":[{"setting_id":"s","state":"ERROR","error_code":-2016281112}]}]}"#;

    #[test]
    fn normalises_a_good_report() {
        let r = parse(GOOD.as_bytes()).unwrap();
        assert_eq!(r.device.device_id, "abcdef");
        // 02:13:07.161892 at +05:30 is 20:43:07.161892 the day before, UTC.
        assert_eq!(
            r.observed_at_us,
            parse_timestamp_us("2026-11-24T20:43:07.161892Z").unwrap()
        );
        assert_eq!(r.policies[0].state, State::NotApplicable);
        assert_eq!(r.policies[0].settings[0].state, State::Error);
        assert_eq!(
            r.policies[0].settings[0].error_code.as_deref(),
            Some("0x87D1FDE8")
        );
    }

    #[test]
    fn timestamps_take_zero_to_nine_fraction_digits() {
        let base = parse_timestamp_us("2026-01-01T00:00:00Z").unwrap();
        assert_eq!(
            parse_timestamp_us("2026-01-01T00:00:00.5Z"),
            Some(base + 500_000)
        );
        assert_eq!(
            parse_timestamp_us("2026-01-01T00:00:00.123456789Z"),
            Some(base + 123_456)
        );
        assert_eq!(parse_timestamp_us("2026-01-01T01:00:00+01:00"), Some(base));
        assert_eq!(parse_timestamp_us("2026-01-01"), None);
        assert_eq!(parse_timestamp_us("yesterday"), None);
    }

    #[test]
    fn observed_at_stays_within_four_digit_utc_years() {
        let at = |t: &str| {
            parse(
                GOOD.replace("2026-11-25T02:13:07.1618923+05:30", t)
                    .as_bytes(),
            )
        };
        assert_eq!(
            at("9999-12-31T23:59:59.999999Z").unwrap().observed_at_us,
            LAST_US
        );
        assert_eq!(at("0001-01-01T00:00:00Z").unwrap().observed_at_us, FIRST_US);
        assert!(at("1601-01-01T00:00:00Z").is_ok());
        assert_eq!(
            at("9999-12-31T23:00:00-05:00").unwrap_err(),
            "field `observed_at` is outside the years 0001 to 9999 in UTC: `9999-12-31T23:00:00-05:00`"
        );
        assert!(at("0001-01-01T00:30:00+01:00").is_err());
    }

    #[test]
    fn states_fold_case_and_spaces() {
        assert_eq!(State::parse("Not applicable"), Some(State::NotApplicable));
        assert_eq!(State::parse("succeeded"), Some(State::Succeeded));
        assert_eq!(State::parse("PENDING"), Some(State::Pending));
        assert_eq!(State::parse("Failed"), None);
        assert_eq!(State::parse(""), None);
    }

    #[test]
    fn reasons_name_the_field() {
        let missing = GOOD.replace(r#""device_id":"ABCdef","#, "");
        assert_eq!(
            parse(missing.as_bytes()).unwrap_err(),
            "missing required field `device.device_id`"
        );
        let wrong = GOOD.replace(r#""name":"x""#, r#""name":5"#);
        let reason = parse(wrong.as_bytes()).unwrap_err();
        assert!(
            reason.starts_with("field `device.name` has the wrong type"),
            "{reason}"
        );
        let state = GOOD.replace("ERROR", "Broken");
        assert!(
            parse(state.as_bytes())
                .unwrap_err()
                .starts_with("field `policies[0].settings[0].state` has unknown state `Broken`")
        );
        let schema = GOOD.replacen('{', r#"{"schema":"agent-report/v2","#, 1);
        assert_eq!(
            parse(schema.as_bytes()).unwrap_err(),
            "unsupported schema `agent-report/v2` (this version reads `agent-report/v1`)"
        );
        assert!(
            parse(b"{\"report_id\":")
                .unwrap_err()
                .starts_with("not valid JSON")
        );
        assert!(
            parse(b"[1,2]")
                .unwrap_err()
                .starts_with("not a JSON object")
        );
        assert!(parse(b"{} x").unwrap_err().starts_with("not valid JSON"));
    }
}

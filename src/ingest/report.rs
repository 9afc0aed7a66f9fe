//! One agent report: its wire shape (agent-report/v1), validated and
//! normalised into the canonical form the lake stores.
//!
//! Validation says *why* a report is rejected in one sentence naming the
//! field by its JSON path, because that sentence is what an operator reads in
//! the `quarantine` table.

use std::borrow::Cow;
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
        if text.is_ascii() {
            // The usual case, without allocating: compare ignoring ASCII
            // case and spaces.
            let letters = text.bytes().filter(|b| *b != b' ');
            return State::ALL.into_iter().find(|s| {
                let mut l = letters.clone();
                s.as_str()
                    .bytes()
                    .all(|c| l.next().is_some_and(|b| b.eq_ignore_ascii_case(&c)))
                    && l.next().is_none()
            });
        }
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
///
/// Text is `S`: owned `String`s for a report built in memory (a vendor
/// export), or text borrowed from the input where it holds no JSON escape
/// (`Cow<str>`), which is what the ingest's fast path stores.
#[derive(Debug, Clone, PartialEq)]
pub struct Report<S = String> {
    pub report_id: S,
    pub tenant_id: S,
    pub observed_at_us: i64,
    pub device: Device<S>,
    pub policies: Vec<Policy<S>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Device<S = String> {
    pub device_id: S,
    pub aad_device_id: Option<S>,
    pub name: S,
    pub os_platform: S,
    pub os_version: Option<S>,
    pub agent_version: Option<S>,
    pub managed_by: S,
    pub enrollment_status: Option<i64>,
    pub join_type: Option<S>,
    pub health_status: Option<S>,
    pub machine_group: Option<S>,
    pub is_domain_controller: Option<bool>,
    pub tags: Option<Vec<S>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Policy<S = String> {
    pub policy_id: S,
    pub name: S,
    pub policy_type: S,
    pub profile: Option<S>,
    pub version: Option<i64>,
    pub state: State,
    pub settings: Vec<Setting<S>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Setting<S = String> {
    pub setting_id: S,
    pub name: Option<S>,
    pub state: State,
    pub error_code: Option<String>,
    pub expected: Option<S>,
    pub actual: Option<S>,
}

/// A report whose text may borrow from the input it was parsed from.
pub type BorrowedReport<'a> = Report<Cow<'a, str>>;

impl BorrowedReport<'_> {
    /// The same report with text of its own.
    pub fn into_owned(self) -> Report {
        let own = |s: Cow<'_, str>| s.into_owned();
        let d = self.device;
        Report {
            report_id: own(self.report_id),
            tenant_id: own(self.tenant_id),
            observed_at_us: self.observed_at_us,
            device: Device {
                device_id: own(d.device_id),
                aad_device_id: d.aad_device_id.map(own),
                name: own(d.name),
                os_platform: own(d.os_platform),
                os_version: d.os_version.map(own),
                agent_version: d.agent_version.map(own),
                managed_by: own(d.managed_by),
                enrollment_status: d.enrollment_status,
                join_type: d.join_type.map(own),
                health_status: d.health_status.map(own),
                machine_group: d.machine_group.map(own),
                is_domain_controller: d.is_domain_controller,
                tags: d.tags.map(|t| t.into_iter().map(own).collect()),
            },
            policies: self
                .policies
                .into_iter()
                .map(|p| Policy {
                    policy_id: own(p.policy_id),
                    name: own(p.name),
                    policy_type: own(p.policy_type),
                    profile: p.profile.map(own),
                    version: p.version,
                    state: p.state,
                    settings: p
                        .settings
                        .into_iter()
                        .map(|s| Setting {
                            setting_id: own(s.setting_id),
                            name: s.name.map(own),
                            state: s.state,
                            error_code: s.error_code,
                            expected: s.expected.map(own),
                            actual: s.actual.map(own),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// A JSON string, borrowed from the input when it holds no escape (most
/// do), so that the happy path copies each text once: into the Arrow
/// builder. Its type errors read as `String`'s do ("expected a string").
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

type Field<'a> = Option<Text<'a>>;

/// The wire shape. Required fields are `Option` so that a missing one is
/// reported by us, with its full path, rather than by serde.
#[derive(Deserialize)]
struct WireReport<'a> {
    #[serde(borrow)]
    schema: Field<'a>,
    #[serde(borrow)]
    report_id: Field<'a>,
    #[serde(borrow)]
    tenant_id: Field<'a>,
    #[serde(borrow)]
    observed_at: Field<'a>,
    #[serde(borrow)]
    device: Option<WireDevice<'a>>,
    #[serde(borrow)]
    policies: Option<Vec<WirePolicy<'a>>>,
}

#[derive(Deserialize)]
struct WireDevice<'a> {
    #[serde(borrow)]
    device_id: Field<'a>,
    #[serde(borrow)]
    aad_device_id: Field<'a>,
    #[serde(borrow)]
    name: Field<'a>,
    #[serde(borrow)]
    os_platform: Field<'a>,
    #[serde(borrow)]
    os_version: Field<'a>,
    #[serde(borrow)]
    agent_version: Field<'a>,
    #[serde(borrow)]
    managed_by: Field<'a>,
    enrollment_status: Option<i64>,
    #[serde(borrow)]
    join_type: Field<'a>,
    #[serde(borrow)]
    health_status: Field<'a>,
    #[serde(borrow)]
    machine_group: Field<'a>,
    is_domain_controller: Option<bool>,
    #[serde(borrow)]
    tags: Option<Vec<Text<'a>>>,
}

#[derive(Deserialize)]
struct WirePolicy<'a> {
    #[serde(borrow)]
    policy_id: Field<'a>,
    #[serde(borrow)]
    name: Field<'a>,
    #[serde(borrow, rename = "type")]
    policy_type: Field<'a>,
    #[serde(borrow)]
    profile: Field<'a>,
    version: Option<i64>,
    #[serde(borrow)]
    state: Field<'a>,
    #[serde(borrow)]
    settings: Option<Vec<WireSetting<'a>>>,
}

#[derive(Deserialize)]
struct WireSetting<'a> {
    #[serde(borrow)]
    setting_id: Field<'a>,
    #[serde(borrow)]
    name: Field<'a>,
    #[serde(borrow)]
    state: Field<'a>,
    error_code: Option<ErrorCode>,
    #[serde(borrow)]
    expected: Field<'a>,
    #[serde(borrow)]
    actual: Field<'a>,
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
    parse_borrowed(json).map(BorrowedReport::into_owned)
}

/// [`parse`], keeping the report's text borrowed from `json` where it can.
///
/// The happy path is one pass of serde_json with no bookkeeping; only a
/// report that fails to deserialize is parsed again, with the path of every
/// field tracked, to say where it failed. Both passes use the same types,
/// so they fail on exactly the same input.
pub fn parse_borrowed(json: &[u8]) -> Result<BorrowedReport<'_>, String> {
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
    // `from_str` fails on trailing content after the object too.
    match serde_json::from_str::<WireReport<'_>>(text) {
        Ok(wire) => wire.validate(),
        Err(_) => Err(explain(text)),
    }
}

/// Why `text` does not deserialize, naming the field by its path: the slow
/// path, taken only for a report that failed the fast one.
fn explain(text: &str) -> String {
    let mut de = serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize::<_, WireReport<'_>>(&mut de) {
        Ok(_) => match de.end() {
            Err(e) => format!("not valid JSON: {e}"),
            Ok(()) => "not valid JSON".to_owned(),
        },
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                format!("not valid JSON: {inner}")
            } else {
                format!(
                    "field `{path}` has the wrong type: {}",
                    strip_position(&inner)
                )
            }
        }
    }
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

fn text<'a>(value: Field<'a>, path: &str) -> Result<Cow<'a, str>, String> {
    required(value, path).map(|t| t.0)
}

fn optional(value: Field<'_>) -> Option<Cow<'_, str>> {
    value.map(|t| t.0)
}

/// Lower case, borrowing when the text already is (the usual case).
fn lower_case(text: Cow<'_, str>) -> Cow<'_, str> {
    if text.is_ascii() && !text.bytes().any(|b| b.is_ascii_uppercase()) {
        text
    } else {
        Cow::Owned(text.to_lowercase())
    }
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

impl<'a> WireReport<'a> {
    fn validate(self) -> Result<BorrowedReport<'a>, String> {
        if let Some(schema) = &self.schema
            && schema.0 != SCHEMA_V1
        {
            return Err(format!(
                "unsupported schema `{}` (this version reads `{SCHEMA_V1}`)",
                schema.0
            ));
        }
        let report_id = text(self.report_id, "report_id")?;
        let tenant_id = text(self.tenant_id, "tenant_id")?;
        let observed_at = text(self.observed_at, "observed_at")?;
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

impl<'a> WireDevice<'a> {
    fn validate(self) -> Result<Device<Cow<'a, str>>, String> {
        Ok(Device {
            device_id: lower_case(text(self.device_id, "device.device_id")?),
            aad_device_id: optional(self.aad_device_id),
            name: text(self.name, "device.name")?,
            os_platform: text(self.os_platform, "device.os_platform")?,
            os_version: optional(self.os_version),
            agent_version: optional(self.agent_version),
            managed_by: text(self.managed_by, "device.managed_by")?,
            enrollment_status: self.enrollment_status,
            join_type: optional(self.join_type),
            health_status: optional(self.health_status),
            machine_group: optional(self.machine_group),
            is_domain_controller: self.is_domain_controller,
            tags: self.tags.map(|t| t.into_iter().map(|t| t.0).collect()),
        })
    }
}

impl<'a> WirePolicy<'a> {
    fn validate(self, i: usize) -> Result<Policy<Cow<'a, str>>, String> {
        let at = |field: &str| format!("policies[{i}].{field}");
        let settings = self
            .settings
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(j, s)| s.validate(i, j))
            .collect::<Result<Vec<_>, _>>()?;
        // The paths are only formatted for a report that fails.
        let need = |v: Field<'a>, field: &str| match v {
            Some(t) => Ok(t.0),
            None => Err(format!("missing required field `{}`", at(field))),
        };
        Ok(Policy {
            policy_id: need(self.policy_id, "policy_id")?,
            name: need(self.name, "name")?,
            policy_type: need(self.policy_type, "type")?,
            profile: optional(self.profile),
            version: self.version,
            state: match self.state {
                Some(t) => State::parse(&t.0).ok_or_else(|| unknown_state(&at("state"), &t.0))?,
                None => return Err(format!("missing required field `{}`", at("state"))),
            },
            settings,
        })
    }
}

impl<'a> WireSetting<'a> {
    fn validate(self, i: usize, j: usize) -> Result<Setting<Cow<'a, str>>, String> {
        let at = |field: &str| format!("policies[{i}].settings[{j}].{field}");
        Ok(Setting {
            setting_id: match self.setting_id {
                Some(t) => t.0,
                None => return Err(format!("missing required field `{}`", at("setting_id"))),
            },
            name: optional(self.name),
            state: match self.state {
                Some(t) => State::parse(&t.0).ok_or_else(|| unknown_state(&at("state"), &t.0))?,
                None => return Err(format!("missing required field `{}`", at("state"))),
            },
            error_code: self.error_code.and_then(|c| c.0),
            expected: optional(self.expected),
            actual: optional(self.actual),
        })
    }
}

fn unknown_state(path: &str, text: &str) -> String {
    format!(
        "field `{path}` has unknown state `{text}` (expected Succeeded, Error, Conflict, Pending or NotApplicable)"
    )
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

//! Exceptions as data: an exceptions CSV (scope, reason, owner, expiry)
//! checked line by line and loaded into the lake's `exceptions` table, one
//! load at a time. Every load is kept for audit; the newest is the set in
//! force. Meaning and matching rules: docs/exceptions.md.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Result;
use chrono::NaiveDate;
use datafusion::arrow::array::{
    ArrayRef, Date32Array, RecordBatch, StringArray, TimestampMicrosecondArray, UInt64Array,
};
use serde::Deserialize;

use crate::lake::{self, Staging, Table};

/// Why an exceptions file was refused; nothing of it is loaded.
#[derive(Debug, thiserror::Error)]
pub enum ExceptionsError {
    #[error("cannot read `{}`: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{}` line {line}: {message}", path.display())]
    Line {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("`{}` holds no exception", path.display())]
    Empty { path: PathBuf },
}

/// One line of the file, as written.
#[derive(Debug, Deserialize)]
struct Line {
    device_id: Option<String>,
    policy_id: Option<String>,
    setting_id: Option<String>,
    reason: Option<String>,
    owner: Option<String>,
    expires: Option<String>,
}

/// One exception, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exception {
    pub line: u64,
    pub device_id: Option<String>,
    pub policy_id: Option<String>,
    pub setting_id: Option<String>,
    pub reason: String,
    pub owner: String,
    /// The last day the exception applies (inclusive).
    pub expires: NaiveDate,
}

/// The columns of the file, in any order: `device_id, policy_id,
/// setting_id, reason, owner, expires`.
pub const COLUMNS: [&str; 6] = [
    "device_id",
    "policy_id",
    "setting_id",
    "reason",
    "owner",
    "expires",
];

/// Reads and checks an exceptions file: the first bad line refuses it all.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Vec<Exception>, ExceptionsError> {
    let line_error = |line: u64, message: String| ExceptionsError::Line {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| line_error(1, e.to_string()))?
        .clone();
    for column in COLUMNS {
        if !headers.iter().any(|h| h == column) {
            return Err(line_error(
                1,
                format!(
                    "the header lacks the column `{column}` (columns: {})",
                    COLUMNS.join(", ")
                ),
            ));
        }
    }
    let mut exceptions = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            line_error(line, e.to_string())
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let raw: Line = record
            .deserialize(Some(&headers))
            .map_err(|e| line_error(line, e.to_string()))?;
        let text = |v: Option<String>| v.filter(|s| !s.is_empty());
        let device_id = text(raw.device_id).map(|d| d.to_lowercase());
        let policy_id = text(raw.policy_id);
        let setting_id = text(raw.setting_id);
        if device_id.is_none() && policy_id.is_none() && setting_id.is_none() {
            return Err(line_error(
                line,
                "no scope: give a device_id, a policy_id or a setting_id (an exception for everything is refused)".to_owned(),
            ));
        }
        let required = |v: Option<String>, name: &str| {
            text(v).ok_or_else(|| line_error(line, format!("`{name}` is empty")))
        };
        let reason = required(raw.reason, "reason")?;
        let owner = required(raw.owner, "owner")?;
        let expires_text = required(raw.expires, "expires")?;
        let expires = NaiveDate::parse_from_str(&expires_text, "%Y-%m-%d").map_err(|_| {
            line_error(
                line,
                format!("`expires` is not a date (YYYY-MM-DD): `{expires_text}`"),
            )
        })?;
        exceptions.push(Exception {
            line,
            device_id,
            policy_id,
            setting_id,
            reason,
            owner,
            expires,
        });
    }
    if exceptions.is_empty() {
        return Err(ExceptionsError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(exceptions)
}

/// Loads `path` as the new set of exceptions, in one commit. Returns how
/// many it holds.
pub fn load(lake_dir: &Path, path: &Path, loaded_at_us: i64) -> Result<usize> {
    let bytes = std::fs::read(path).map_err(|source| ExceptionsError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let sha256 = crate::report::sha256_bytes(&bytes);
    let exceptions = parse(path, &bytes)?;
    let lock = lake::lock_for_writing(lake_dir)?;
    let load_id = super::run_id(loaded_at_us);
    let batch = rows(&exceptions, &load_id, loaded_at_us, path, &sha256)?;
    let mut staging = Staging::new(lake_dir, &load_id)?;
    let stem = format!("exceptions-{load_id}");
    lake::stage_partitioned(&mut staging, Table::Exceptions, &batch, "loaded_at", &stem)?;
    staging.commit(&lock)?;
    Ok(exceptions.len())
}

/// Loads `path` unless the set in force came from a file with the same
/// checksum; `None` when nothing changed.
pub fn load_if_changed(lake_dir: &Path, path: &Path, loaded_at_us: i64) -> Result<Option<usize>> {
    let bytes = std::fs::read(path).map_err(|source| ExceptionsError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let sha256 = crate::report::sha256_bytes(&bytes);
    let newest = {
        let _read = lake::lock_for_reading(lake_dir)?;
        lake::newest_exception_load(lake_dir)?
    };
    if newest.is_some_and(|(_, sum)| sum == sha256) {
        return Ok(None);
    }
    load(lake_dir, path, loaded_at_us).map(Some)
}

fn rows(
    exceptions: &[Exception],
    load_id: &str,
    loaded_at_us: i64,
    path: &Path,
    sha256: &str,
) -> Result<RecordBatch> {
    let n = exceptions.len();
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    let source = path.to_string_lossy().into_owned();
    let text = |f: &dyn Fn(&Exception) -> Option<String>| -> ArrayRef {
        Arc::new(StringArray::from(
            exceptions.iter().map(f).collect::<Vec<_>>(),
        ))
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec![load_id; n])),
        Arc::new(TimestampMicrosecondArray::from(vec![loaded_at_us; n]).with_timezone("UTC")),
        Arc::new(StringArray::from(vec![source.as_str(); n])),
        Arc::new(StringArray::from(vec![sha256; n])),
        Arc::new(UInt64Array::from_iter_values(
            exceptions.iter().map(|e| e.line),
        )),
        text(&|e| e.device_id.clone()),
        text(&|e| e.policy_id.clone()),
        text(&|e| e.setting_id.clone()),
        text(&|e| Some(e.reason.clone())),
        text(&|e| Some(e.owner.clone())),
        Arc::new(Date32Array::from_iter_values(
            exceptions
                .iter()
                .map(|e| (e.expires - epoch).num_days() as i32),
        )),
    ];
    Ok(RecordBatch::try_new(Table::Exceptions.schema(), columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<Vec<Exception>, ExceptionsError> {
        parse(Path::new("exceptions.csv"), text.as_bytes())
    }

    #[test]
    fn blanks_are_wildcards_and_ids_are_lower_case() {
        let got = parse_text(
            "device_id,policy_id,setting_id,reason,owner,expires\n\
             DEV-A,,,lab machine,alice,2026-11-30\n",
        )
        .unwrap();
        assert_eq!(got[0].device_id.as_deref(), Some("dev-a"));
        assert_eq!((got[0].policy_id.clone(), got[0].line), (None, 2));
    }

    #[test]
    fn bad_lines_name_the_file_and_line() {
        let header = "device_id,policy_id,setting_id,reason,owner,expires\n";
        let cases = [
            (",,,r,o,2026-11-30\n", "`exceptions.csv` line 2: no scope"),
            (
                "d,,,r,o,30/11/2026\n",
                "`exceptions.csv` line 2: `expires` is not a date (YYYY-MM-DD): `30/11/2026`",
            ),
            (
                "d,,,,o,2026-11-30\n",
                "`exceptions.csv` line 2: `reason` is empty",
            ),
        ];
        for (line, want) in cases {
            let err = parse_text(&format!("{header}d,,,r,o,2026-11-30\n{line}"))
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(&want.replace("line 2", "line 3")), "{err}");
        }
        let err = parse_text("device_id,reason,owner,expires\nd,r,o,2026-11-30\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("`exceptions.csv` line 1: the header lacks the column `policy_id`"),
            "{err}"
        );
        assert!(matches!(
            parse_text(header),
            Err(ExceptionsError::Empty { .. })
        ));
    }
}

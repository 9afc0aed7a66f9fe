//! `posture`: offline compliance analytics for Defender for Endpoint
//! security settings. The modules follow the pipeline:
//!
//! - [`ingest`]: agent reports from an inbox, validated and normalised;
//! - [`lake`]: the Hive-partitioned Parquet lake and its atomic commits;
//! - [`query`]: DataFusion over the lake, the named queries of `queries/`;
//! - [`report`]: query results rendered as HTML, CSV and a manifest;
//! - [`error_codes`]: what an error code means, where Microsoft documents it;
//! - [`bundle`] and [`nightly`]: a report bundle end to end, and the nightly
//!   job (`posture run`) built on ingest and bundle;
//! - [`fault`]: named fault-injection points for the crash and full-disk tests;
//! - [`generate`]: a deterministic fleet of agent reports, for trials and tests;
//! - [`cli`] and [`commands`]: the command line, one thin file per subcommand.

pub mod bundle;
pub mod cli;
pub mod commands;
pub mod error_codes;
pub mod fault;
#[doc(hidden)]
pub mod fuzzing;
pub mod generate;
pub mod ingest;
pub mod lake;
pub mod nightly;
pub mod query;
pub mod report;

use std::fmt;

/// An error that comes with a `hint:` line: something the user can do.
#[derive(Debug)]
pub struct Hinted {
    pub message: String,
    pub hint: String,
}

impl Hinted {
    pub fn new(message: impl Into<String>, hint: impl Into<String>) -> Hinted {
        Hinted {
            message: message.into(),
            hint: hint.into(),
        }
    }
}

impl fmt::Display for Hinted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Hinted {}

//! `posture generate --out DIR ...`

use std::process::ExitCode;

use anyhow::Result;

use crate::generate::{GenerateOptions, generate};

pub fn run(options: GenerateOptions) -> Result<ExitCode> {
    let summary = generate(&options)?;
    eprintln!(
        "generated: files={} reports={} duplicates={} bytes={} in `{}`",
        summary.files,
        summary.reports,
        summary.duplicates,
        summary.bytes,
        options.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

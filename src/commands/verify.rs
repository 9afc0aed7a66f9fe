//! `posture verify DIR`: checks a report bundle against its manifest.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use crate::report::verify;

pub fn run(dir: &Path) -> Result<ExitCode> {
    let outcome = verify(dir)?;
    for path in &outcome.changed {
        eprintln!("changed: `{path}`");
    }
    for path in &outcome.added {
        eprintln!("added: `{path}`");
    }
    for path in &outcome.removed {
        eprintln!("removed: `{path}`");
    }
    if outcome.ok() {
        eprintln!(
            "verified: {} files match `{}`",
            outcome.checked,
            dir.join("manifest.json").display()
        );
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "error: the bundle `{}` does not match its manifest ({} changed, {} added, {} removed)",
            dir.display(),
            outcome.changed.len(),
            outcome.added.len(),
            outcome.removed.len()
        );
        Ok(ExitCode::FAILURE)
    }
}

//! Fault injection for the crash and full-disk tests: named points in the
//! write path where a test can make `posture` stop dead or fail as a full
//! disk would, so that the narrow windows (half a Parquet file written, the
//! commit rename) are hit every time rather than by luck.
//!
//! Off unless `POSTURE_FAULT` is set, as `POINT[#N]:ACTION`:
//!
//! - `POINT`: one of [`POINTS`]; `#N` picks its N-th passage (default 1).
//! - `ACTION`: `pause` prints `fault: paused at POINT#N` on stderr and waits
//!   forever, for the test to SIGKILL the process there; `abort` ends the
//!   process at once (SIGABRT, no clean-up runs); `delay` waits two seconds
//!   there and goes on (to widen a window for a concurrent reader);
//!   `enospc` fails the write with "No space left on device", as a full
//!   disk does.
//!
//! Anyone who can set a process's environment can already kill it, so this
//! gives nothing away; it costs one environment lookup per process.

use std::io;
use std::sync::Mutex;
use std::sync::OnceLock;

/// The named points, in the order an ingest (or a compaction) passes them.
pub const POINTS: &[&str] = &[
    // A Parquet file of the run is half written in `_staging/` (its
    // row groups written, its footer not).
    "mid-parquet-write",
    // A batch of rows has been written out to staged files.
    "after-flush",
    // A run of the dedup index is half written in `_staging/`.
    "mid-index-write",
    // A compaction has staged the merged file of one partition.
    "after-compact-partition",
    // Every file is staged and `COMMIT.tmp` is synced; the commit rename
    // has not happened.
    "before-commit-rename",
    // The commit point has passed; no file has been moved into the lake.
    "after-commit-rename",
    // One file of the run has been moved into the lake, the others not.
    "mid-move",
    // A compaction has deleted one of the files it replaces, not the others.
    "mid-remove",
    // Every file is in place; the staging folder is still there.
    "before-staging-removed",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Pause,
    Abort,
    Delay,
    Enospc,
}

#[derive(Debug)]
struct Plan {
    point: String,
    nth: u64,
    action: Action,
    passed: Mutex<u64>,
}

fn plan() -> Option<&'static Plan> {
    static PLAN: OnceLock<Option<Plan>> = OnceLock::new();
    PLAN.get_or_init(|| {
        let spec = std::env::var("POSTURE_FAULT").ok()?;
        let parsed = parse(&spec);
        if parsed.is_none() {
            eprintln!("warning: ignoring `POSTURE_FAULT={spec}` (expected POINT[#N]:pause|abort|delay|enospc)");
        }
        parsed
    })
    .as_ref()
}

fn parse(spec: &str) -> Option<Plan> {
    let (target, action) = spec.rsplit_once(':')?;
    let (point, nth) = match target.split_once('#') {
        Some((p, n)) => (p, n.parse().ok().filter(|n| *n >= 1)?),
        None => (target, 1),
    };
    if !POINTS.contains(&point) {
        return None;
    }
    let action = match action {
        "pause" => Action::Pause,
        "abort" => Action::Abort,
        "delay" => Action::Delay,
        "enospc" => Action::Enospc,
        _ => return None,
    };
    Some(Plan {
        point: point.to_owned(),
        nth,
        action,
        passed: Mutex::new(0),
    })
}

/// Marks a passage through `point`. Returns an error only when the plan
/// says to fail here as a full disk would.
pub fn point(point: &str) -> io::Result<()> {
    debug_assert!(POINTS.contains(&point), "unknown fault point `{point}`");
    let Some(plan) = plan() else {
        return Ok(());
    };
    if plan.point != point {
        return Ok(());
    }
    let passage = {
        let mut passed = plan.passed.lock().unwrap_or_else(|e| e.into_inner());
        *passed += 1;
        *passed
    };
    if passage != plan.nth {
        return Ok(());
    }
    match plan.action {
        Action::Pause => {
            eprintln!("fault: paused at {point}#{passage}");
            loop {
                std::thread::park();
            }
        }
        Action::Abort => std::process::abort(),
        Action::Delay => {
            std::thread::sleep(std::time::Duration::from_secs(2));
            Ok(())
        }
        Action::Enospc => Err(io::Error::new(
            io::ErrorKind::StorageFull,
            "No space left on device (os error 28, injected by POSTURE_FAULT)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_or_are_refused() {
        let p = parse("mid-parquet-write#3:pause").unwrap();
        assert_eq!(
            (p.point.as_str(), p.nth, p.action),
            ("mid-parquet-write", 3, Action::Pause)
        );
        let p = parse("before-commit-rename:enospc").unwrap();
        assert_eq!((p.nth, p.action), (1, Action::Enospc));
        assert!(parse("nowhere:pause").is_none());
        assert!(parse("after-flush#0:pause").is_none());
        assert!(parse("after-flush:explode").is_none());
        assert!(parse("after-flush").is_none());
    }
}

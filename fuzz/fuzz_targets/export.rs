//! A vendor export (Intune report export as zip, CSV or JSON; the Defender
//! machine list) read into rows, reports and rejects.
#![no_main]

use std::sync::LazyLock;

static DIR: LazyLock<tempfile::TempDir> = LazyLock::new(|| tempfile::tempdir().unwrap());

libfuzzer_sys::fuzz_target!(|data: &[u8]| posture::fuzzing::export(DIR.path(), data));

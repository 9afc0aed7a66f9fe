//! A whole inbox file (gzip or not, NDJSON or a JSON array) cut into
//! reports, under small limits.
#![no_main]

use std::sync::LazyLock;

static DIR: LazyLock<tempfile::TempDir> = LazyLock::new(|| tempfile::tempdir().unwrap());

libfuzzer_sys::fuzz_target!(|data: &[u8]| posture::fuzzing::ingest_file(DIR.path(), data));

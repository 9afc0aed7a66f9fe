//! A bundle's manifest.json checked by `posture verify`.
#![no_main]

use std::sync::LazyLock;

static DIR: LazyLock<tempfile::TempDir> = LazyLock::new(|| tempfile::tempdir().unwrap());

libfuzzer_sys::fuzz_target!(|data: &[u8]| posture::fuzzing::manifest_verify(DIR.path(), data));

//! The entry points of the fuzz targets (`fuzz/`), here so that the corpus
//! they find is replayed by the ordinary tests too (`tests/cli/fuzz.rs`):
//! each takes arbitrary bytes and must return, never panic, hang or grow
//! without bound.

use std::path::Path;

use crate::ingest::{Limits, Record, read_file};

/// One report's text through the parser and validator.
pub fn report_parse(data: &[u8]) {
    let _ = crate::ingest::parse(data);
}

/// A whole inbox file (gzip or not, NDJSON or an array) cut into records,
/// each parsed: what `posture ingest` does with one file, less the lake.
/// Small limits, so that the limits themselves are exercised.
pub fn ingest_file(dir: &Path, data: &[u8]) {
    let path = dir.join("input");
    std::fs::write(&path, data).expect("the fuzz folder is writable");
    let limits = Limits {
        max_report_bytes: 4096,
        max_decompressed_bytes: 1 << 20,
    };
    let mut records = 0u64;
    let _ = read_file(&path, &limits, &mut |record| {
        records += 1;
        match record {
            Record::Report(_, text) => {
                assert!(text.len() as u64 <= limits.max_report_bytes + 2);
                let _ = crate::ingest::parse(text);
            }
            Record::Unreadable(_, reason, raw) => {
                assert!(!reason.is_empty());
                assert!(raw.len() as u64 <= limits.max_report_bytes + 2);
            }
        }
        Ok(())
    });
}

/// A manifest's text checked against a small bundle: `posture verify`.
/// It must never look outside `dir`.
pub fn manifest_verify(dir: &Path, data: &[u8]) {
    let bundle = dir.join("bundle");
    if !bundle.join("csv").is_dir() {
        std::fs::create_dir_all(bundle.join("csv")).expect("the fuzz folder is writable");
        std::fs::write(bundle.join("index.html"), "<!doctype html>").expect("writable");
        std::fs::write(bundle.join("csv/a.csv"), "a\r\n1\r\n").expect("writable");
    }
    std::fs::write(bundle.join(crate::report::MANIFEST), data).expect("writable");
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(manifest) = crate::report::parse_manifest(text)
    {
        for file in &manifest.files {
            assert!(!file.path.contains(".."), "accepted `{}`", file.path);
            assert!(!file.path.starts_with('/'), "accepted `{}`", file.path);
        }
    }
    let _ = crate::report::verify(&bundle);
}

/// A vendor export (zip, CSV or JSON, told apart as `posture ingest` does)
/// read into its items: rows, one-policy reports, per-setting rows, or a
/// rejected row with its reason.
pub fn export(dir: &Path, data: &[u8]) {
    use crate::ingest::exports;
    let path = dir.join("export");
    std::fs::write(&path, data).expect("the fuzz folder is writable");
    let Ok(Some(kind)) = exports::sniff(&path) else {
        return;
    };
    let limits = crate::ingest::Limits {
        max_report_bytes: 1 << 20,
        max_decompressed_bytes: 1 << 20,
    };
    let _ = exports::read_file(&path, "export", kind, &limits, &mut |_, item| {
        if let exports::Item::Rejected { reason, .. } = &item {
            assert!(!reason.is_empty());
        }
        Ok(())
    });
}

//! The fuzz corpus (`fuzz/corpus/<target>/`), replayed as ordinary tests on
//! the stable toolchain: every input the fuzzers kept, including each that
//! once found a bug, goes through the same entry point as under `cargo fuzz`
//! (`posture::fuzzing`) and must not panic. How to fuzz: docs/fuzzing.md.

use std::path::{Path, PathBuf};

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list `{}`: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "the corpus of `{target}` is empty");
    files
}

#[test]
fn fuzz_corpus_report_parse() {
    for input in corpus("report_parse") {
        posture::fuzzing::report_parse(&std::fs::read(&input).unwrap());
    }
}

#[test]
fn fuzz_corpus_ingest_file() {
    let dir = tempfile::tempdir().unwrap();
    for input in corpus("ingest_file") {
        posture::fuzzing::ingest_file(dir.path(), &std::fs::read(&input).unwrap());
    }
}

#[test]
fn fuzz_corpus_manifest_verify() {
    let dir = tempfile::tempdir().unwrap();
    for input in corpus("manifest_verify") {
        posture::fuzzing::manifest_verify(dir.path(), &std::fs::read(&input).unwrap());
    }
}

#[test]
fn fuzz_corpus_export() {
    let dir = tempfile::tempdir().unwrap();
    for input in corpus("export") {
        posture::fuzzing::export(dir.path(), &std::fs::read(&input).unwrap());
    }
}

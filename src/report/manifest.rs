//! `manifest.json`: what an auditor checks a bundle against. Every file of
//! the bundle with its SHA-256, the lake files read, the SQL of each query,
//! the tool version and the parameters.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::ReportInput;

pub const MANIFEST: &str = "manifest.json";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ManifestFile {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub tool: String,
    pub version: String,
    pub as_of: String,
    pub parameters: BTreeMap<String, String>,
    /// When the bundle was made, RFC 3339: `SOURCE_DATE_EPOCH` when it is
    /// set (reproducible bundles), else the clock.
    pub generated_at: String,
    pub queries: BTreeMap<String, QueryRecord>,
    pub lake_files: Vec<LakeFile>,
    pub files: Vec<ManifestFile>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct QueryRecord {
    pub sha256: String,
    pub sql: String,
    pub rows: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LakeFile {
    pub path: String,
    pub sha256: String,
}

pub fn sha256_file(path: &Path) -> Result<(String, u64)> {
    let mut file = File::open(path).with_context(|| format!("cannot open `{}`", path.display()))?;
    let mut hasher = Sha256::new();
    let bytes = io::copy(&mut file, &mut hasher)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    Ok((format!("{:x}", hasher.finalize()), bytes))
}

/// The SHA-256 of some bytes, in lower-case hex.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

fn relative(out: &Path, path: &Path) -> String {
    path.strip_prefix(out)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

impl Manifest {
    pub fn build(
        input: &ReportInput,
        queries: BTreeMap<String, QueryRecord>,
        out: &Path,
        written: &[PathBuf],
    ) -> Result<Manifest> {
        let mut files = written
            .iter()
            .map(|p| {
                let (sha256, bytes) = sha256_file(p)?;
                Ok(ManifestFile {
                    path: relative(out, p),
                    sha256,
                    bytes,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let parameters = BTreeMap::from([
            ("as_of".to_owned(), input.as_of.to_string()),
            ("stale_days".to_owned(), input.stale_days.to_string()),
            ("days".to_owned(), input.trend_days.to_string()),
        ]);
        Ok(Manifest {
            tool: "posture".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            as_of: input.as_of.to_string(),
            parameters,
            generated_at: crate::query::output::rfc3339(input.generated_at * 1_000_000),
            queries,
            lake_files: input
                .lake_files
                .iter()
                .map(|(path, sha256)| LakeFile {
                    path: path.clone(),
                    sha256: sha256.clone(),
                })
                .collect(),
            files,
        })
    }

    pub fn write(&self, out: &Path) -> Result<()> {
        let path = out.join(MANIFEST);
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        std::fs::write(&path, text).with_context(|| format!("cannot write `{}`", path.display()))
    }
}

/// What `posture verify` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyOutcome {
    pub checked: usize,
    pub changed: Vec<String>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

impl VerifyOutcome {
    pub fn ok(&self) -> bool {
        self.changed.is_empty() && self.added.is_empty() && self.removed.is_empty()
    }
}

/// Reads a manifest's text, refusing one that could make `verify` look
/// outside its bundle: every path must be relative, inside the bundle
/// (no `..`, no root, no empty part), and named once.
pub fn parse_manifest(text: &str) -> Result<Manifest> {
    let manifest: Manifest = serde_json::from_str(text)?;
    let mut seen = std::collections::HashSet::new();
    for file in &manifest.files {
        let inside = !file.path.is_empty()
            && !file.path.starts_with('/')
            && !file.path.contains('\\')
            && !file.path.contains('\0')
            && file
                .path
                .split('/')
                .all(|part| !part.is_empty() && part != "." && part != "..");
        if !inside {
            anyhow::bail!("it names `{}`, a path outside the bundle", file.path);
        }
        if !seen.insert(file.path.as_str()) {
            anyhow::bail!("it names `{}` twice", file.path);
        }
    }
    Ok(manifest)
}

/// Recomputes every file's hash and compares the folder with the manifest.
/// A bundle holds regular files only: a symbolic link where the manifest
/// names a file counts as changed, wherever it points.
pub fn verify(dir: &Path) -> Result<VerifyOutcome> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    let manifest = parse_manifest(&text)
        .with_context(|| format!("`{}` is not a posture manifest", path.display()))?;
    let mut outcome = VerifyOutcome::default();
    // Each query's SQL is in the manifest with its checksum: they must agree.
    for (name, query) in &manifest.queries {
        if format!("{:x}", Sha256::digest(query.sql.as_bytes())) != query.sha256 {
            outcome
                .changed
                .push(format!("{MANIFEST} (the SQL of `{name}`)"));
        }
    }
    for file in &manifest.files {
        let full = dir.join(&file.path);
        let Ok(meta) = std::fs::symlink_metadata(&full) else {
            outcome.removed.push(file.path.clone());
            continue;
        };
        if meta.is_dir() {
            outcome.removed.push(file.path.clone());
            continue;
        }
        outcome.checked += 1;
        if !meta.is_file() || sha256_file(&full)?.0 != file.sha256 {
            outcome.changed.push(file.path.clone());
        }
    }
    let mut present = Vec::new();
    list_files(dir, dir, &mut present)?;
    for p in present {
        if p != MANIFEST && !manifest.files.iter().any(|f| f.path == p) {
            outcome.added.push(p);
        }
    }
    Ok(outcome)
}

/// Every entry under `dir` that is not a folder; symbolic links are listed,
/// never followed, so a link loop cannot make the walk go round.
fn list_files(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<()> {
    for entry in
        std::fs::read_dir(dir).with_context(|| format!("cannot list `{}`", dir.display()))?
    {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            list_files(root, &path, out)?;
        } else {
            out.push(relative(root, &path));
        }
    }
    out.sort();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest_with(path: &str) -> String {
        format!(
            r#"{{"tool":"posture","version":"0","as_of":"2026-11-01","parameters":{{}},
            "generated_at":"x","queries":{{}},"lake_files":[],
            "files":[{{"path":"{path}","sha256":"00","bytes":1}}]}}"#
        )
    }

    #[test]
    fn paths_outside_the_bundle_are_refused() {
        for bad in [
            "../etc/passwd",
            "/etc/passwd",
            "a/../../b",
            "",
            "a//b",
            "./a",
        ] {
            let err = parse_manifest(&manifest_with(bad)).unwrap_err();
            assert!(
                err.to_string().contains("outside the bundle"),
                "{bad}: {err}"
            );
        }
        assert!(parse_manifest(&manifest_with("csv/a.csv")).is_ok());
        assert!(parse_manifest("{").is_err());
    }
}

//! A site for the collect tests: a folder with posture.toml pointing at
//! the fake tenant, the commands run there (their outputs kept), and the
//! checks: files byte for byte what was served, no secret anywhere.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use super::fake_tenant::{
    self, CLIENT, FakeTenant, SAS_SIG, SECRET, TENANT, TOKEN_PREFIX, fixture,
};
use crate::{posture, stderr};

/// A site: a folder with posture.toml pointing at the fake tenant.
pub struct Site {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
    /// Every stdout and stderr of the site's commands, for the secret scan.
    pub outputs: Vec<String>,
}

impl Site {
    pub fn new(tenant: &FakeTenant, collect: &str) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let url = tenant.url();
        std::fs::write(
            root.join("posture.toml"),
            format!(
                "lake = \"lake\"\ninbox = \"inbox\"\nreports = \"reports\"\n\n[collect]\n\
                 tenant_id = \"{TENANT}\"\nclient_id = \"{CLIENT}\"\n\
                 login_url = \"{url}\"\ngraph_url = \"{url}/v1.0\"\ndefender_url = \"{url}\"\n\
                 page_size = 2\nrequest_timeout = 1.5\nretry_first_delay = 0.05\nretry_time = 20\n\
                 export_poll = 0.05\n{collect}\n"
            ),
        )
        .unwrap();
        Site {
            _dir: dir,
            root,
            outputs: Vec::new(),
        }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = posture();
        c.args(args)
            .arg("--config")
            .arg(self.root.join("posture.toml"))
            .current_dir(std::env::temp_dir())
            .env("POSTURE_CLIENT_SECRET", SECRET);
        for var in [
            "POSTURE_TENANT_ID",
            "POSTURE_CLIENT_ID",
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "http_proxy",
            "https_proxy",
            "all_proxy",
        ] {
            c.env_remove(var);
        }
        c
    }

    pub fn keep(&mut self, o: &Output) {
        self.outputs
            .push(String::from_utf8_lossy(&o.stdout).into_owned());
        self.outputs.push(stderr(o));
    }

    pub fn collect(&mut self) -> Output {
        self.collect_with(|_| {})
    }

    pub fn collect_with(&mut self, f: impl FnOnce(&mut Command)) -> Output {
        let mut c = self.command(&["collect"]);
        f(&mut c);
        let o = c.output().unwrap();
        self.keep(&o);
        o
    }

    pub fn inbox(&self) -> PathBuf {
        self.root.join("inbox")
    }

    /// The collection folders, oldest first.
    pub fn collections(&self) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(self.inbox().join("collect"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        dirs
    }

    /// The files of a collection, by name (dot files apart).
    pub fn files(dir: &Path) -> (BTreeMap<String, Vec<u8>>, Vec<String>) {
        let mut files = BTreeMap::new();
        let mut hidden = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                hidden.push(name);
            } else {
                files.insert(name, std::fs::read(entry.path()).unwrap());
            }
        }
        hidden.sort();
        (files, hidden)
    }

    /// Fails if the secret, a token or the download signature is in any
    /// output or any file of the site, whatever happened.
    pub fn assert_no_secret(&self, tenant: &FakeTenant) {
        let encoded: String = url::form_urlencoded::byte_serialize(SECRET.as_bytes()).collect();
        let key_line = std::fs::read_to_string(fixture("test-key.pem"))
            .unwrap()
            .lines()
            .nth(1)
            .unwrap()
            .to_owned();
        let mut needles = vec![
            SECRET.to_owned(),
            encoded,
            SAS_SIG.to_owned(),
            TOKEN_PREFIX.to_owned(),
            key_line,
        ];
        needles.extend(tenant.tokens());
        for (i, text) in self.outputs.iter().enumerate() {
            for needle in &needles {
                assert!(
                    !text.contains(needle.as_str()),
                    "output {i} holds `{needle}`:\n{text}"
                );
            }
        }
        let mut stack = vec![self.root.clone()];
        let mut scanned = 0;
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let bytes = std::fs::read(&path).unwrap();
                scanned += 1;
                for needle in &needles {
                    assert!(
                        !contains(&bytes, needle.as_bytes()),
                        "`{}` holds `{needle}`",
                        path.display()
                    );
                }
                // (The lake's Parquet is compressed, but all it holds came
                // from the inbox files scanned here, and from the outputs.)
            }
        }
        assert!(scanned > 0);
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

pub fn assert_code(o: &Output, code: i32) {
    assert_eq!(o.status.code(), Some(code), "stderr:\n{}", stderr(o));
}

/// The summary line's counts: files, already, failed.
pub fn collected(o: &Output) -> (u64, u64, u64) {
    let err = stderr(o);
    let line = err
        .lines()
        .find(|l| l.starts_with("collected: "))
        .unwrap_or_else(|| panic!("no summary line in:\n{err}"));
    let get = |key: &str| -> u64 {
        line.split(' ')
            .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
            .unwrap()
            .parse()
            .unwrap()
    };
    (get("files"), get("already"), get("failed"))
}

/// The served body that a collected file should equal, byte for byte:
/// page N of an API is the Nth distinct page target answered `200`; a zip
/// is the download of the job of its report (and policy).
pub fn expected_bytes(tenant: &FakeTenant, name: &str) -> Vec<u8> {
    let served = tenant.served();
    let log = tenant.log();
    if let Some(rest) = name.strip_prefix("mde-") {
        let (api, page) = rest.trim_end_matches(".json").rsplit_once('-').unwrap();
        let page: usize = page.parse().unwrap();
        let path = match api {
            "machines" => "/api/machines?",
            "deviceavinfo" => "/api/deviceavinfo?",
            "SecureConfigurationsAssessmentByMachine" => {
                "/api/machines/SecureConfigurationsAssessmentByMachine?"
            }
            other => panic!("{other}"),
        };
        let mut targets: Vec<&str> = Vec::new();
        for entry in &log {
            if entry.status == 200
                && entry.target.starts_with(path)
                && !targets.contains(&entry.target.as_str())
            {
                targets.push(&entry.target);
            }
        }
        return served[targets[page - 1]].clone();
    }
    let stem = name
        .strip_prefix("intune-")
        .unwrap()
        .trim_end_matches(".zip");
    let (report, policy) = match stem.split_once('-') {
        Some((r, p)) => (r, Some(p)),
        None => (stem, None),
    };
    // The job created for it: its POST named the report and the filter.
    let jobs: Vec<&fake_tenant::Logged> = log
        .iter()
        .filter(|e| e.method == "POST" && e.target.ends_with("/exportJobs"))
        .filter(|e| {
            let body: Value = serde_json::from_str(&e.body).unwrap();
            body["reportName"] == report
                && body["filter"].as_str()
                    == policy.map(|p| format!("(PolicyId eq '{p}')")).as_deref()
        })
        .collect();
    assert!(!jobs.is_empty(), "no export job for {name}");
    let blobs: Vec<&Vec<u8>> = served
        .iter()
        .filter(|(t, _)| t.starts_with(&format!("/blob/{report}_")))
        .map(|(_, b)| b)
        .collect();
    // Of the report's downloads, the one holding this policy's CSV.
    let want = tenant_csv(tenant, report, policy);
    blobs
        .into_iter()
        .find(|zip| unzip_one(zip) == want)
        .unwrap_or_else(|| panic!("no download of {name} served"))
        .clone()
}

fn tenant_csv(tenant: &FakeTenant, report: &str, policy: Option<&str>) -> String {
    let key = match policy {
        Some(p) => format!("{report}/{p}"),
        None => report.to_owned(),
    };
    tenant.data().exports[&key].clone()
}

fn unzip_one(zip: &[u8]) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut archive.by_index(0).unwrap(), &mut text).unwrap();
    text
}

/// Every file of `dir` equals what the tenant served for it.
pub fn assert_byte_identical(tenant: &FakeTenant, dir: &Path, names: &[&str]) {
    let (files, hidden) = Site::files(dir);
    let got: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(got, names, "files of `{}`", dir.display());
    for (name, bytes) in &files {
        assert!(
            *bytes == expected_bytes(tenant, name),
            "`{name}` differs from what was served"
        );
    }
    assert!(
        hidden.iter().all(|h| !h.starts_with(".partial-")),
        "partial files left: {hidden:?}"
    );
}

pub fn requests<'a>(log: &'a [fake_tenant::Logged], path: &str) -> Vec<&'a fake_tenant::Logged> {
    log.iter().filter(|e| e.target.contains(path)).collect()
}

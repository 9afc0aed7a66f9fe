//! `posture run`, the nightly job, over simulated nights: files arriving
//! each night, a missed night caught up with `--backfill`, a re-delivered
//! file, a changed one, retention and the exit codes (docs/run.md).

use super::*;

/// One agent report of device `device` at `at`, its one policy in `state`.
fn report(id: &str, device: &str, at: &str, state: &str) -> String {
    format!(
        r#"{{"report_id":"{id}","tenant_id":"t1","observed_at":"{at}","device":{{"device_id":"{device}","name":"{device}","os_platform":"Linux","managed_by":"MDE"}},"policies":[{{"policy_id":"P1","name":"AV","type":"Antivirus","state":"{state}","settings":[]}}]}}"#
    ) + "\n"
}

/// The night of `day`: two devices report.
fn night_file(day: &str) -> String {
    report(
        &format!("a-{day}"),
        "dev-a",
        &format!("{day}T08:00:00Z"),
        "Succeeded",
    ) + &report(
        &format!("b-{day}"),
        "dev-b",
        &format!("{day}T09:00:00Z"),
        "Error",
    )
}

struct Site {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Site {
    fn new() -> Site {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        std::fs::create_dir(root.join("inbox")).unwrap();
        // Relative paths: from the config file's folder, not the cwd.
        std::fs::write(
            root.join("posture.toml"),
            "lake = \"lake\"\ninbox = \"inbox\"\nreports = \"reports\"\nretention_days = 30\n\
             exceptions = \"exceptions.csv\"\n",
        )
        .unwrap();
        std::fs::write(
            root.join("exceptions.csv"),
            "device_id,policy_id,setting_id,reason,owner,expires\ndev-b,,,lab,alice,2026-11-30\n",
        )
        .unwrap();
        Site { _dir: dir, root }
    }

    fn deliver(&self, name: &str, text: &str) {
        std::fs::write(self.root.join("inbox").join(name), text).unwrap();
    }

    fn run(&self, args: &[&str]) -> Output {
        posture()
            .arg("run")
            .arg("--config")
            .arg(self.root.join("posture.toml"))
            .args(args)
            .current_dir(std::env::temp_dir())
            .output()
            .unwrap()
    }

    fn reports(&self) -> PathBuf {
        self.root.join("reports")
    }

    fn bundles(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.reports())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("2026-"))
            .collect();
        names.sort();
        names
    }

    fn latest(&self) -> String {
        std::fs::read_link(self.reports().join("latest"))
            .unwrap()
            .to_string_lossy()
            .into_owned()
    }

    /// The ledger: how many times each inbox file was read, by name.
    fn ledger(&self) -> Vec<(String, u64)> {
        sql(
            &self.root.join("lake"),
            "SELECT file, count(*) AS reads FROM ingest_log GROUP BY file ORDER BY file",
        )
        .into_iter()
        .map(|row| {
            let file = row["file"].as_str().unwrap();
            let name = Path::new(file).file_name().unwrap().to_string_lossy();
            (name.into_owned(), row["reads"].as_u64().unwrap())
        })
        .collect()
    }
}

fn assert_code(o: &Output, code: i32) {
    assert_eq!(o.status.code(), Some(code), "stderr:\n{}", stderr(o));
}

#[test]
fn three_nights_one_missed_and_backfilled_one_file_redelivered() {
    let site = Site::new();

    // Night 1: the first file arrives, and a truncated gzip: exit 2, what
    // could be read is ingested and the bundle is written anyway.
    site.deliver("n1.ndjson", &night_file("2026-11-10"));
    let gz = std::fs::read(fixture("gzipped.ndjson.gz")).unwrap();
    std::fs::write(
        site.root.join("inbox/broken.ndjson.gz"),
        &gz[..gz.len() / 2],
    )
    .unwrap();
    let o = site.run(&[]);
    assert_code(&o, 2);
    assert!(stderr(&o).contains("1 file(s) could not be read to the end"));
    assert_eq!(site.bundles(), ["2026-11-10"]);
    assert_eq!(site.latest(), "2026-11-10");
    assert!(site.reports().join("2026-11-10/index.html").is_file());
    assert_eq!(
        site.ledger(),
        [
            ("broken.ndjson.gz".to_owned(), 1),
            ("n1.ndjson".to_owned(), 1)
        ]
    );
    // The exceptions file of posture.toml was loaded.
    let lake = site.root.join("lake");
    assert_eq!(
        column(&lake, "SELECT device_id FROM current_exceptions"),
        ["dev-b"]
    );
    // The broken file is taken out of the inbox (it was logged without a
    // checksum, so it would be read again each night).
    std::fs::remove_file(site.root.join("inbox/broken.ndjson.gz")).unwrap();

    // Night 2 is missed: its file arrives, nothing runs.
    site.deliver("n2.ndjson", &night_file("2026-11-11"));

    // Night 3: its file arrives, with one bad line, and night 1's is
    // delivered again, same bytes; the operator catches up on the missed
    // night. One quarantined report is above the threshold of 0: exit 3.
    site.deliver("n3.ndjson", &(night_file("2026-11-12") + "{not json\n"));
    site.deliver("n1.ndjson", &night_file("2026-11-10"));
    let o = site.run(&["--backfill", "2026-11-11"]);
    assert_code(&o, 3);
    assert!(
        stderr(&o).contains("2 new or changed file(s), 1 already ingested"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("ingested: read=5 new=4 duplicate=0 quarantined=1"));
    assert_eq!(site.bundles(), ["2026-11-10", "2026-11-11", "2026-11-12"]);
    assert_eq!(site.latest(), "2026-11-12");
    // Each bundle is its own day's snapshot, and verifies.
    let index = std::fs::read_to_string(site.reports().join("2026-11-11/index.html")).unwrap();
    assert!(index.contains("as of 2026-11-11"));
    for day in site.bundles() {
        let o = run(&["verify", site.reports().join(&day).to_str().unwrap()]);
        assert_code(&o, 0);
    }
    assert_eq!(
        site.ledger(),
        [
            ("broken.ndjson.gz".to_owned(), 1),
            ("n1.ndjson".to_owned(), 1),
            ("n2.ndjson".to_owned(), 1),
            ("n3.ndjson".to_owned(), 1)
        ]
    );
    // The exceptions file did not change: not loaded again.
    assert_eq!(
        column(&lake, "SELECT count(DISTINCT load_id) AS n FROM exceptions"),
        ["1"]
    );

    // A run killed while replacing the bundle of 11-12 left the old bundle
    // moved aside and the new one half-written. Then n3 changes under the
    // same name (a second bad line): it is read again, its good reports are
    // duplicates. The next run cleans up and finishes; 2 quarantined is not
    // above a threshold of 2: exit 0. A retention of 2 days keeps 11-11 and
    // 11-12.
    let reports = site.reports();
    std::fs::rename(
        reports.join("2026-11-12"),
        reports.join(".old-2026-11-12.4242"),
    )
    .unwrap();
    std::fs::create_dir(reports.join(".tmp-2026-11-12.4242")).unwrap();
    std::fs::write(reports.join(".tmp-2026-11-12.4242/index.html"), "half").unwrap();
    site.deliver(
        "n3.ndjson",
        &(night_file("2026-11-12") + "{not json\n{nor this\n"),
    );
    let o = site.run(&["--retention-days", "2", "--quarantine-threshold", "2"]);
    assert_code(&o, 0);
    assert!(stderr(&o).contains("ingested: read=4 new=0 duplicate=2 quarantined=2"));
    assert_eq!(site.ledger()[3], ("n3.ndjson".to_owned(), 2));
    let mut names: Vec<String> = std::fs::read_dir(&reports)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            ".posture-run.lock",
            "2026-11-11",
            "2026-11-12",
            "latest",
            "posture-run.log"
        ]
    );
    assert_code(
        &run(&["verify", reports.join("latest").to_str().unwrap()]),
        0,
    );

    // Everything went to the log file too.
    let log = std::fs::read_to_string(site.reports().join("posture-run.log")).unwrap();
    assert!(log.contains("pruned"), "{log}");
    assert!(log.contains("bundle"), "{log}");
}

#[test]
fn run_failures_exit_1_and_say_what_to_do() {
    let site = Site::new();
    // An empty inbox: nothing to report yet.
    let o = site.run(&[]);
    assert_code(&o, 1);
    assert!(
        stderr(&o).contains("holds no reports yet"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("hint: put agent reports into the inbox"));
    // Another run holds the lock (here flock(1), the same flock(2) lock):
    // this one stops at once.
    std::fs::create_dir_all(site.reports()).unwrap();
    let mut holder = Command::new("flock")
        .arg(site.reports().join(".posture-run.lock"))
        .args(["-c", "echo locked; cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("flock runs");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(holder.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line, "locked\n");
    let o = site.run(&[]);
    drop(holder.stdin.take());
    holder.wait().unwrap();
    assert_code(&o, 1);
    assert!(
        stderr(&o).contains("another `posture run` holds"),
        "{}",
        stderr(&o)
    );
    // An unknown key in the config file.
    std::fs::write(
        site.root.join("posture.toml"),
        "lake = \"lake\"\nretention = 3\n",
    )
    .unwrap();
    let o = site.run(&[]);
    assert_code(&o, 1);
    assert!(
        stderr(&o).contains("is not a valid config: unknown field `retention`"),
        "{}",
        stderr(&o)
    );
}

/// Every Parquet file of the lake's report tables and daily snapshot, by
/// `table/date=…` folder.
fn files_by_partition(lake: &Path) -> Vec<(String, usize)> {
    let mut partitions = Vec::new();
    for table in [
        "reports",
        "policy_states",
        "setting_states",
        "daily_reports",
        "daily_policy_states",
    ] {
        let Ok(days) = std::fs::read_dir(lake.join(table)) else {
            continue;
        };
        for day in days {
            let day = day.unwrap().path();
            let files = std::fs::read_dir(&day)
                .unwrap()
                .filter(|f| {
                    f.as_ref()
                        .unwrap()
                        .path()
                        .extension()
                        .is_some_and(|x| x == "parquet")
                })
                .count();
            let name = day.file_name().unwrap().to_string_lossy().into_owned();
            partitions.push((format!("{table}/{name}"), files));
        }
    }
    partitions.sort();
    partitions
}

/// Issue 16: `posture run` keeps the lake compacted, so that its bundles
/// and every later query read the daily snapshot without a chore.
#[test]
fn runs_keep_the_lake_compacted_with_its_daily_snapshot() {
    let site = Site::new();
    let lake = site.root.join("lake");
    site.deliver("n1.ndjson", &night_file("2026-11-10"));
    assert_code(&site.run(&[]), 0);
    // Night 2: the next day, and a late report of 11-10 (a second file in
    // that day's partitions until the run merges it).
    site.deliver(
        "n2.ndjson",
        &(night_file("2026-11-11") + &report("late", "dev-c", "2026-11-10T23:00:00Z", "Error")),
    );
    let o = site.run(&[]);
    assert_code(&o, 0);
    assert!(
        stderr(&o).contains("compacted: partitions=3 files=")
            && stderr(&o).contains(" snapshots=2"),
        "{}",
        stderr(&o)
    );
    let one_each: Vec<(String, usize)> = [
        "daily_policy_states/date=2026-11-10",
        "daily_policy_states/date=2026-11-11",
        "daily_reports/date=2026-11-10",
        "daily_reports/date=2026-11-11",
        "policy_states/date=2026-11-10",
        "policy_states/date=2026-11-11",
        "reports/date=2026-11-10",
        "reports/date=2026-11-11",
    ]
    .iter()
    .map(|p| (p.to_string(), 1))
    .collect();
    assert_eq!(files_by_partition(&lake), one_each);
    // Nothing is left for `posture compact`: every snapshot is valid.
    let o = run(&["compact", "--lake", lake.to_str().unwrap()]);
    assert_code(&o, 0);
    assert!(stderr(&o).contains("nothing to compact"), "{}", stderr(&o));
    // The late report counts in the bundle of 11-10, rewritten from the
    // snapshot: dev-c's Error makes it noncompliant.
    assert_eq!(
        query_csv(&lake, "compliance_by_platform", &["--as-of", "2026-11-10"]),
        "os_platform,devices,compliant,noncompliant,no_policy,stale,compliance_pct\n\
         Linux,3,1,2,0,0,33.33\n"
    );
}

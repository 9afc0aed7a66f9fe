//! The same named queries, analysts' SQL and report on a real Ballista
//! cluster: a scheduler and an executor started in this test process on
//! loopback, reached by the `posture` binary over gRPC with
//! `--engine df://127.0.0.1:PORT`. Built only with `--features ballista`.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ballista_core::serde::BallistaCodec;
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;

use super::{
    generated_inbox, ingest, later_inbox, load_exceptions, named_queries, posture, stderr,
};

fn snapshot_fixture() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/snapshot/fleet.ndjson")
}

/// The cluster's `--engine` value. Started once and kept for the test run;
/// its threads end with the test process.
fn cluster() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // Decoding and planning deep plans recurses deeply in a debug build.
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .thread_stack_size(32 << 20)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let addr = ballista_scheduler::standalone::new_standalone_scheduler()
                    .await
                    .unwrap();
                let url = format!("http://localhost:{}", addr.port());
                let scheduler = loop {
                    match SchedulerGrpcClient::connect(url.clone()).await {
                        Ok(client) => break client,
                        Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
                    }
                };
                ballista_executor::new_standalone_executor(scheduler, 2, BallistaCodec::default())
                    .await
                    .unwrap();
                tx.send(addr.port()).unwrap();
                std::future::pending::<()>().await;
            });
        });
        let port = rx.recv().unwrap();
        format!("df://localhost:{port}")
    })
}

/// Runs `command`, failing the test instead of waiting forever: a Ballista
/// job that never finishes leaves its client waiting (docs/scale-out.md).
fn output_within(command: &mut Command, limit: Duration) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            child.kill().unwrap();
            panic!("{command:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn query(lake: &Path, engine: &str, name: &str) -> String {
    let o = output_within(
        posture()
            .args([
                "query", "--format", "csv", "--engine", engine, "--days", "5", "--lake",
            ])
            .arg(lake)
            .arg(name),
        Duration::from_secs(600),
    );
    assert!(o.status.success(), "{name} on {engine}: {}", stderr(&o));
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn every_named_query_returns_the_same_rows_on_the_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("snapshot");
    ingest(&snapshot, &[&snapshot_fixture()]);
    // Vendor exports and exceptions, so that their queries have rows too.
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    ingest(&snapshot, &[&fixtures.join("exports")]);
    let o = load_exceptions(&snapshot, &fixtures.join("history/exceptions.csv"));
    assert!(o.status.success(), "{}", stderr(&o));
    let names = named_queries();
    assert!(names.len() >= 10, "{names:?}");
    let mut with_rows = 0;
    for name in &names {
        let local = query(&snapshot, "local", name);
        with_rows += usize::from(local.lines().count() > 1);
        assert_eq!(query(&snapshot, cluster(), name), local, "{name}");
    }
    // Equal empty answers would prove little.
    assert!(
        with_rows >= names.len() - 2,
        "{with_rows} of {} queries have rows",
        names.len()
    );

    // A generated fleet: more devices, days and files than the fixture;
    // then compacted, so that the cluster reads the daily snapshot tables.
    let fleet = dir.path().join("fleet");
    ingest(&fleet, &[&generated_inbox(dir.path(), 60)]);
    let names = [
        "compliance_by_policy",
        "compliance_by_platform",
        "setting_failures",
        "compliance_trend",
    ];
    let mut before = Vec::new();
    for name in names {
        let local = query(&fleet, "local", name);
        assert!(local.lines().count() > 1, "{name} has no rows");
        assert_eq!(
            query(&fleet, cluster(), name),
            local,
            "{name} on the generated fleet"
        );
        before.push(local);
    }
    let o = posture()
        .args(["compact", "--lake"])
        .arg(&fleet)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(fleet.join("daily_reports").is_dir());
    for (name, before) in names.into_iter().zip(before) {
        assert_eq!(
            query(&fleet, cluster(), name),
            before,
            "{name} on the compacted fleet"
        );
    }
    let scanned = |lake: &Path| {
        let o = output_within(
            posture()
                .args(["sql", "--format", "csv", "--engine", cluster(), "--lake"])
                .arg(lake)
                .arg("EXPLAIN SELECT device_id, observed_at FROM day_end_reports"),
            Duration::from_secs(600),
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let plan = String::from_utf8(o.stdout).unwrap();
        (plan.contains("/daily_reports/"), plan.contains("/reports/"))
    };
    assert_eq!(
        scanned(&fleet),
        (true, false),
        "every day from the snapshot"
    );

    // Late reports for the last day (its snapshot goes stale) and a new
    // day: the cluster now reads snapshot days and raw days together.
    ingest(&fleet, &[&later_inbox(dir.path(), 60)]);
    assert_eq!(scanned(&fleet), (true, true), "snapshot and raw days");
    for name in names {
        assert_eq!(
            query(&fleet, cluster(), name),
            query(&fleet, "local", name),
            "{name} on snapshot and raw days"
        );
    }
}

#[test]
fn analysts_sql_is_read_only_on_the_cluster_too() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    ingest(&lake, &[&snapshot_fixture()]);
    let sql = |engine: &str, text: &str| {
        posture()
            .args(["sql", "--format", "csv", "--engine", engine, "--lake"])
            .arg(&lake)
            .arg(text)
            .output()
            .unwrap()
    };
    let question =
        "SELECT os_platform, count(*) AS n FROM latest_reports GROUP BY os_platform ORDER BY 1";
    let local = sql("local", question);
    let remote = sql(cluster(), question);
    assert!(
        local.status.success() && remote.status.success(),
        "{}",
        stderr(&remote)
    );
    assert_eq!(remote.stdout, local.stdout);

    let refused = sql(
        cluster(),
        "COPY (SELECT 1) TO '/tmp/posture-cluster-copy.csv'",
    );
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("read-only"),
        "{}",
        stderr(&refused)
    );
    assert!(!Path::new("/tmp/posture-cluster-copy.csv").exists());

    // A Ballista 55 job that unions an empty scan with a real one never
    // finishes (docs/scale-out.md): --timeout stops it, and says why.
    let o = output_within(
        posture()
            .args(["sql", "--engine", cluster(), "--timeout", "3", "--lake"])
            .arg(&lake)
            .arg(
                "SELECT d, count(*) FROM (SELECT device_id AS d FROM reports WHERE date = '1999-01-01' \
                 UNION ALL SELECT device_id AS d FROM reports) GROUP BY d",
            ),
        Duration::from_secs(120),
    );
    let err = stderr(&o);
    assert!(!o.status.success());
    assert!(err.contains("stopped after 3 s"), "{err}");
    assert!(err.contains("docs/scale-out.md"), "{err}");
}

#[test]
fn the_report_is_byte_identical_on_the_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    ingest(&lake, &[&snapshot_fixture()]);
    let report = |engine: &str, out: &Path| {
        let o = posture()
            .env("SOURCE_DATE_EPOCH", "1764000000")
            .args(["report", "--engine", engine, "--lake"])
            .arg(&lake)
            .arg("--out")
            .arg(out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        std::fs::read_to_string(out.join("manifest.json")).unwrap()
    };
    let local = report("local", &dir.path().join("local"));
    let remote = report(cluster(), &dir.path().join("remote"));
    // The manifest holds every file's checksum: say which files differ.
    let files = |manifest: &str| -> Vec<(String, String)> {
        let v: serde_json::Value = serde_json::from_str(manifest).unwrap();
        v["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["path"].to_string(), f["sha256"].to_string()))
            .collect()
    };
    let (local_files, remote_files) = (files(&local), files(&remote));
    let differ: Vec<&(String, String)> = local_files
        .iter()
        .filter(|f| !remote_files.contains(f))
        .collect();
    assert!(differ.is_empty(), "differ on the cluster: {differ:?}");
    assert_eq!(remote, local, "the manifests differ");
}

/// A cluster that cannot see the lake's files would answer every query with
/// no rows. Here the client sees the lake through a bind mount in a mount
/// namespace of its own, and the cluster sees an empty lake at that path.
#[test]
fn a_cluster_that_cannot_see_the_lake_is_an_error_not_empty_rows() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    ingest(&real, &[&snapshot_fixture()]);
    let shared = dir.path().join("shared");
    std::fs::create_dir_all(shared.join("reports")).unwrap();
    let posture_bin = env!("CARGO_BIN_EXE_posture");
    let script = format!(
        "mount --bind '{}' '{}' && exec '{posture_bin}' query --engine '{}' --lake '{}' compliance_by_platform",
        real.display(),
        shared.display(),
        cluster(),
        shared.display()
    );
    let o = std::process::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .output();
    let o = match o {
        Ok(o) if !String::from_utf8_lossy(&o.stderr).contains("mount") => o,
        other => {
            eprintln!("skipped: this machine cannot make a mount namespace ({other:?})");
            return;
        }
    };
    assert!(
        !o.status.success(),
        "the query ran: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    let err = stderr(&o);
    assert!(err.contains("sees 0 reports in the newest day"), "{err}");
    assert!(
        err.contains("hint: every scheduler and executor must see the lake at the same path"),
        "{err}"
    );
}

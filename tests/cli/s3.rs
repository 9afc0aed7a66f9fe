//! A lake on S3-compatible object storage (`--lake s3://BUCKET/PREFIX`): a
//! local moto server stands in for S3, the lake is published to it by
//! `tests/s3_put.py` (boto3), and `posture` reads it with the credentials,
//! region and endpoint of the environment, as the AWS tools do. Built only
//! with the `s3` feature (which `ballista` turns on).

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use super::{generated_inbox, ingest, later_inbox, named_queries, posture, stderr};

/// A secret that must never appear in anything `posture` prints.
const SECRET: &str = "posture-test-secret-5f1c9a7e";

/// A moto S3 server on a free loopback port, stopped when dropped.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto() -> Moto {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("python3")
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 with moto[server] (tests/requirements.txt)");
    let moto = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..300 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return moto;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the moto server did not start on port {port}");
}

/// The environment of a reader of the lake: the usual AWS variables.
fn aws(cmd: &mut Command, endpoint: &str) {
    cmd.env("AWS_ACCESS_KEY_ID", "posture-test-key")
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ALLOW_HTTP", "true");
}

fn publish(moto: &Moto, lake: &Path, bucket: &str, prefix: &str) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/s3_put.py");
    let mut cmd = Command::new("python3");
    cmd.arg(script)
        .args([&moto.endpoint, bucket, prefix])
        .arg(lake);
    aws(&mut cmd, &moto.endpoint);
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn posture_on(moto: &Moto, args: &[&str]) -> std::process::Output {
    let mut cmd = posture();
    cmd.args(args);
    aws(&mut cmd, &moto.endpoint);
    let o = cmd.output().unwrap();
    assert!(!stderr(&o).contains(SECRET), "{}", stderr(&o));
    o
}

fn csv(moto: &Moto, lake: &str, args: &[&str]) -> String {
    let mut all = vec!["--lake", lake, "--format", "csv"];
    all.splice(0..0, args.iter().copied());
    let o = posture_on(moto, &all);
    assert!(o.status.success(), "{args:?} on {lake}: {}", stderr(&o));
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn a_lake_on_s3_answers_as_its_folder_does() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    ingest(&lake, &[&generated_inbox(dir.path(), 40)]);
    let moto = moto();
    publish(&moto, &lake, "fleet", "nightly/lake");
    let local = lake.to_str().unwrap();
    let s3 = "s3://fleet/nightly/lake";

    let names = named_queries();
    let mut with_rows = 0;
    for name in &names {
        let args = ["query", name.as_str(), "--days", "5"];
        let here = csv(&moto, local, &args);
        with_rows += usize::from(here.lines().count() > 1);
        assert_eq!(csv(&moto, s3, &args), here, "{name}");
    }
    assert!(with_rows >= names.len() / 2, "{with_rows} of {names:?}");

    let per_day = "SELECT date, count(*) AS reports FROM reports GROUP BY date ORDER BY date";
    let here = csv(&moto, local, &["sql", per_day]);
    assert!(here.lines().count() > 5, "{here}");
    assert_eq!(csv(&moto, s3, &["sql", per_day]), here);

    // The report lists the same lake files with the same checksums.
    let lake_files = |out: &Path, from: &str| -> Value {
        let o = posture_on(
            &moto,
            &["report", "--lake", from, "--out", out.to_str().unwrap()],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let verify = posture().arg("verify").arg(out).output().unwrap();
        assert!(verify.status.success(), "{}", stderr(&verify));
        let manifest: Value =
            serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
        manifest["lake_files"].clone()
    };
    let here = lake_files(&dir.path().join("out-local"), local);
    assert!(here.as_array().unwrap().len() > 10, "{here}");
    assert_eq!(lake_files(&dir.path().join("out-s3"), s3), here);
}

#[test]
fn a_compacted_lake_on_s3_reads_its_snapshot_while_it_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    ingest(&lake, &[&generated_inbox(dir.path(), 40)]);
    let o = posture()
        .arg("compact")
        .arg("--lake")
        .arg(&lake)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let moto = moto();
    publish(&moto, &lake, "fleet", "compacted");
    let (local, s3) = (lake.to_str().unwrap(), "s3://fleet/compacted");
    // Which tables a scan of day_end_reports reads.
    let scanned = |from: &str| {
        let plan = csv(
            &moto,
            from,
            &[
                "sql",
                "EXPLAIN SELECT device_id, observed_at FROM day_end_reports",
            ],
        );
        (plan.contains("/daily_reports/"), plan.contains("/reports/"))
    };
    let same_answers = |when: &str| {
        for name in ["compliance_by_policy", "stale_devices", "compliance_trend"] {
            let args = ["query", name, "--days", "5"];
            assert_eq!(
                csv(&moto, s3, &args),
                csv(&moto, local, &args),
                "{name} {when}"
            );
        }
    };
    assert_eq!(scanned(s3), (true, false), "every day from the snapshot");
    same_answers("compacted");

    // Late reports for the last day and a new day, published without a
    // new compaction: that day's sidecar no longer names its raw files, so
    // its raw partition is read, as from the folder.
    ingest(&lake, &[&later_inbox(dir.path(), 40)]);
    publish(&moto, &lake, "fleet", "compacted");
    assert_eq!(scanned(s3), (true, true), "snapshot and raw days");
    assert_eq!(scanned(s3), scanned(local));
    same_answers("after late reports");
}

#[test]
fn credentials_stay_in_the_environment_and_writers_keep_folders() {
    let moto = moto();
    // A bucket that does not exist: an error naming the URL, no secret.
    let o = posture_on(
        &moto,
        &["query", "--lake", "s3://missing/lake", "stale_devices"],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("s3://missing/lake/"), "{}", stderr(&o));

    // Credentials in the URL are refused, and not echoed.
    let o = posture_on(
        &moto,
        &[
            "query",
            "--lake",
            &format!("s3://key:{SECRET}@fleet/lake"),
            "stale_devices",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("must not hold credentials"),
        "{}",
        stderr(&o)
    );

    // Writers take a folder: nothing is created for an s3:// lake.
    let cwd = tempfile::tempdir().unwrap();
    for args in [
        vec!["ingest", "--lake", "s3://fleet/lake", "inbox"],
        vec!["exceptions", "--lake", "s3://fleet/lake", "exceptions.csv"],
        vec![
            "run",
            "--lake",
            "s3://fleet/lake",
            "--inbox",
            "inbox",
            "--reports",
            "reports",
        ],
    ] {
        let o = posture()
            .args(&args)
            .current_dir(cwd.path())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("is object storage"), "{}", stderr(&o));
    }
    assert_eq!(std::fs::read_dir(cwd.path()).unwrap().count(), 0);
}

//! The report bundle: what a browser shows of it, that its numbers are the
//! named queries' rows, and that `posture verify` catches any change.

use super::*;

const HOSTILE: &str = "<script>alert(1)</script><img src=x onerror=alert(2)>";

/// A generated fleet plus a stale device with a hostile name, ingested, and
/// a report of it in `DIR/report`.
fn report_of_a_fleet(dir: &tempfile::TempDir, extra: &[&str]) -> (PathBuf, PathBuf) {
    let inbox = generated_inbox(dir.path(), 40);
    let hostile = dir.path().join("hostile.ndjson");
    let report = serde_json::json!({
        "report_id": "h1", "tenant_id": "t", "observed_at": "2026-10-20T12:00:00Z",
        "device": {"device_id": "dev-h", "name": HOSTILE, "os_platform": "Linux", "managed_by": "MDE"},
        "policies": [{"policy_id": "p-h", "name": HOSTILE, "type": "Antivirus", "state": "Error",
            "settings": [{"setting_id": "s-h", "name": "=cmd|' /C calc'!A0", "state": "Error",
                "expected": "1", "actual": "0"}]}],
    });
    std::fs::write(&hostile, report.to_string()).unwrap();
    let lake = lake_in(dir);
    ingest(&lake, &[&inbox, &hostile]);
    // An expired exception with a hostile reason, an active one for p-h.
    let exceptions = dir.path().join("exceptions.csv");
    std::fs::write(
        &exceptions,
        format!(
            "device_id,policy_id,setting_id,reason,owner,expires\n\
             dev-h,,,{HOSTILE},alice,2026-01-01\n\
             ,p-h,,lab policy,bob,2099-12-31\n"
        ),
    )
    .unwrap();
    let o = load_exceptions(&lake, &exceptions);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = dir.path().join("report");
    render(&lake, &out, extra);
    (lake, out)
}

fn render(lake: &Path, out: &Path, extra: &[&str]) {
    let o = posture()
        .args(["report", "--lake"])
        .arg(lake)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
}

/// Chromium, headless and cut off from the network, as Debian ships it.
fn chromium(profile: &Path, args: &[&str], url: &str) -> Output {
    let binary = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|b| Path::new(b).exists())
        .expect("chromium is installed (`apt-get install chromium`; .ci/run does)");
    Command::new(binary)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .output()
        .expect("chromium runs")
}

#[test]
fn chromium_opens_the_report_offline_and_runs_nothing_from_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let (_, out) = report_of_a_fleet(&dir, &[]);
    let net_log = dir.path().join("net-log.json");
    let url = format!("file://{}", out.join("index.html").display());
    let dom = chromium(
        &dir.path().join("profile"),
        &[
            "--dump-dom",
            &format!("--log-net-log={}", net_log.display()),
        ],
        &url,
    );
    assert!(dom.status.success(), "{}", stderr(&dom));
    let dom_text = String::from_utf8_lossy(&dom.stdout);
    let log = stderr(&dom);
    // No console message at all: no script error, no CSP violation (which
    // is what any attempt to fetch something would cause).
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    // The hostile name is text, in the stale list: no element came of it.
    assert!(
        dom_text
            .contains("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;")
    );
    assert!(!dom_text.contains("<img src=\"x\""));
    assert!(!dom_text.contains("<img src=x"));
    // No vendor export in this lake: the vendor views say so (issue 5).
    for id in [
        "antivirus-health-empty",
        "firewall-status-empty",
        "onboarding-coverage-empty",
    ] {
        assert!(dom_text.contains(&format!("id=\"{id}\"")), "no `{id}`");
    }
    // No request left the machine: the only URLs in the net log are the
    // browser's own update and account checks, which the page cannot cause.
    let net = std::fs::read_to_string(&net_log).unwrap();
    let browser_own = ["google.com", "googleapis.com", "gstatic.com", "gvt1.com"];
    for url in net
        .split("\"url\":\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
    {
        let http = url.starts_with("http://") || url.starts_with("https://");
        let host = url.split('/').nth(2).unwrap_or("");
        assert!(
            !http
                || browser_own
                    .iter()
                    .any(|h| host == *h || host.ends_with(&format!(".{h}"))),
            "the page made a request: {url}"
        );
    }
    // The overview is not blank.
    let shot = dir.path().join("shot.png");
    let o = chromium(
        &dir.path().join("profile2"),
        &[
            "--window-size=1280,1600",
            &format!("--screenshot={}", shot.display()),
        ],
        &url,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let image = image::open(&shot).unwrap().to_rgb8();
    let colours: std::collections::HashSet<[u8; 3]> = image.pixels().map(|p| p.0).collect();
    assert!(
        colours.len() > 50,
        "the screenshot has {} colours",
        colours.len()
    );
    let dark = image
        .pixels()
        .filter(|p| p.0.iter().all(|c| *c < 100))
        .count();
    assert!(dark > 5_000, "too little text drawn: {dark} dark pixels");
}

/// The text of each cell of the HTML table with the given id, row by row.
fn html_table(html: &str, id: &str) -> Vec<Vec<String>> {
    let start = html
        .find(&format!("<table class=\"sortable\" id=\"{id}\">"))
        .unwrap_or_else(|| panic!("no table `{id}`"));
    let body = &html[start..];
    let body = &body[body.find("<tbody>").unwrap()..body.find("</tbody>").unwrap()];
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    let inner = &cell[cell.find('>').unwrap() + 1..cell.find("</td>").unwrap()];
                    let mut text = String::new();
                    let mut in_tag = false;
                    for c in inner.chars() {
                        match c {
                            '<' => in_tag = true,
                            '>' => in_tag = false,
                            c if !in_tag => text.push(c),
                            _ => {}
                        }
                    }
                    text.replace("&lt;", "<")
                        .replace("&gt;", ">")
                        .replace("&quot;", "\"")
                        .replace("&#x27;", "'")
                        .replace("&#x2f;", "/")
                        .replace("&amp;", "&")
                })
                .collect()
        })
        .collect()
}

/// A named query's rows as CSV cells (header dropped). These queries' cells
/// hold no comma, quote or line break.
fn query_rows(lake: &Path, name: &str, args: &[&str]) -> Vec<Vec<String>> {
    query_csv(lake, name, args)
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

#[test]
fn the_charts_data_and_totals_are_the_named_queries_rows() {
    let dir = tempfile::tempdir().unwrap();
    let (lake, out) = report_of_a_fleet(&dir, &["--stale-days", "3"]);
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    let args = ["--stale-days", "3"];
    let platforms = query_rows(&lake, "compliance_by_platform", &args);
    assert_eq!(html_table(&html, "platform-data"), platforms);
    assert_eq!(
        html_table(&html, "trend-data"),
        query_rows(&lake, "compliance_trend", &args)
    );
    // What changed comes first, before the totals; the exceptions and the
    // trend with exceptions applied are their queries' rows.
    assert!(html.find("id=\"changes\"").unwrap() < html.find("class=\"totals\"").unwrap());
    for (id, name) in [
        ("changes", "changes"),
        ("exceptions", "exceptions"),
        ("exceptions-trend", "exceptions_trend"),
    ] {
        assert_eq!(
            html_table(&html, id),
            query_rows(&lake, name, &args),
            "{id}"
        );
    }
    let exceptions = html_table(&html, "exceptions");
    assert_eq!(
        exceptions.iter().map(|r| r[7].as_str()).collect::<Vec<_>>(),
        ["active", "expired"]
    );
    // The policy chart's rows, by id (names may hold commas).
    let policy_ids: Vec<String> = html_table(&html, "policy-data")
        .into_iter()
        .map(|row| row[0].clone())
        .collect();
    let o = posture()
        .args(["query", "--format", "json", "--lake"])
        .arg(&lake)
        .args(["compliance_by_policy", "--stale-days", "3"])
        .output()
        .unwrap();
    let rows: Vec<Value> = serde_json::from_slice(&o.stdout).unwrap();
    let expected: Vec<String> = rows
        .iter()
        .map(|r| r["policy_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(policy_ids, expected);
    // The totals add up the platform rows.
    let sum = |column: usize| -> u64 {
        platforms
            .iter()
            .map(|r| r[column].parse::<u64>().unwrap())
            .sum()
    };
    assert!(html.contains(&format!("<b>{}</b>devices reporting (not stale)", sum(1))));
    assert!(html.contains(&format!("<b>{}</b>stale devices", sum(5))));
    assert!(html.contains(&format!(
        "compliance % = compliant / (compliant + noncompliant) = {} / {}",
        sum(2),
        sum(2) + sum(3)
    )));
}

#[test]
fn every_policy_and_device_has_its_page() {
    let dir = tempfile::tempdir().unwrap();
    let (lake, out) = report_of_a_fleet(&dir, &[]);
    let policies = query_rows(&lake, "compliance_by_policy", &[]);
    let pages = std::fs::read_dir(out.join("policies"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().unwrap() == "html")
        .count();
    assert_eq!(pages, policies.len());
    let index = std::fs::read_to_string(out.join("devices/index-0001.html")).unwrap();
    let devices = column(&lake, "SELECT count(*) FROM device_status")[0]
        .parse::<usize>()
        .unwrap();
    assert!(index.contains(&format!("of {devices}</h1>")));
    // The hostile policy's page shows the formula as text; its CSV
    // neutralises it for spreadsheets.
    let csv = std::fs::read_to_string(out.join("csv/policy_devices.csv")).unwrap();
    assert!(csv.contains("'=cmd|' /C calc'!A0"), "{csv}");
}

#[test]
fn verify_names_each_changed_added_and_removed_file() {
    let dir = tempfile::tempdir().unwrap();
    let (_, out) = report_of_a_fleet(&dir, &[]);
    let bundle = out.to_str().unwrap();
    let o = run(&["verify", bundle]);
    assert!(o.status.success(), "{}", stderr(&o));
    // One byte of one CSV.
    let csv = out.join("csv/stale_devices.csv");
    let mut bytes = std::fs::read(&csv).unwrap();
    let last = bytes.len() - 3;
    bytes[last] ^= 1;
    std::fs::write(&csv, bytes).unwrap();
    let o = run(&["verify", bundle]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with("changed: `csv/stale_devices.csv`\n"),
        "{}",
        stderr(&o)
    );
    // A file added, and one removed.
    std::fs::write(out.join("charts/extra.png"), "x").unwrap();
    std::fs::remove_file(out.join("charts/trend.png")).unwrap();
    let o = run(&["verify", bundle]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("added: `charts/extra.png`\n"), "{err}");
    assert!(err.contains("removed: `charts/trend.png`\n"), "{err}");
    assert!(err.ends_with("(1 changed, 1 added, 1 removed)\n"), "{err}");
}

#[test]
fn the_same_lake_gives_a_byte_identical_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let (lake, _) = report_of_a_fleet(&dir, &[]);
    let bundle = |name: &str| {
        let out = dir.path().join(name);
        let o = posture()
            .env("SOURCE_DATE_EPOCH", "1764000000")
            .args(["report", "--lake"])
            .arg(&lake)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        lake_files(&out)
    };
    let (a, b) = (bundle("a"), bundle("b"));
    assert_eq!(a.len(), b.len());
    for ((pa, ca), (pb, cb)) in a.iter().zip(&b) {
        assert_eq!(
            pa.strip_prefix(dir.path().join("a")).unwrap(),
            pb.strip_prefix(dir.path().join("b")).unwrap()
        );
        assert!(ca == cb, "{} differs", pa.display());
    }
    let manifest = std::fs::read_to_string(dir.path().join("a/manifest.json")).unwrap();
    assert!(
        manifest.contains("\"generated_at\": \"2025-11-24T16:00:00Z\""),
        "{manifest}"
    );
}

/// Issue 5: the antivirus, firewall and onboarding views of a lake of
/// vendor exports, as Chromium shows them, are the named queries' rows.
#[test]
fn chromium_shows_the_vendor_views() {
    let dir = tempfile::tempdir().unwrap();
    let lake = super::exports::export_lake(&dir);
    let out = dir.path().join("report");
    render(&lake, &out, &[]);
    let url = format!("file://{}", out.join("index.html").display());
    let dom = chromium(&dir.path().join("profile"), &["--dump-dom"], &url);
    assert!(dom.status.success(), "{}", stderr(&dom));
    let console: Vec<String> = stderr(&dom)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_owned)
        .collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    let html = String::from_utf8_lossy(&dom.stdout);
    assert!(!html.contains("-empty\""), "an empty state is shown");
    for (id, query) in [
        ("firewall-status", "firewall_status"),
        ("onboarding-coverage", "onboarding_coverage"),
        ("onboarding-devices", "onboarding_devices"),
    ] {
        assert_eq!(html_table(&html, id), query_rows(&lake, query, &[]), "{id}");
    }
    let antivirus = html_table(&html, "antivirus-health");
    let states: Vec<&str> = antivirus.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(states, ["clean", "rebootPending"]);
    assert_eq!(antivirus[0][2..], ["2", "0", "1", "0", "0", "1"]);
    assert!(out.join("csv/onboarding_devices.csv").is_file());
}

//! The report bundle: what a browser shows of it (the overview, a policy
//! page, a device page and the lookup, offline and without a console
//! message), that its evidence files hold every row of the named queries,
//! which devices get pages, and that `posture verify` catches any change.

use std::collections::BTreeSet;
use std::io::Read;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use super::*;

const HOSTILE: &str = "<script>alert(1)</script><img src=x onerror=alert(2)>";

/// A generated fleet plus a stale device with a hostile name, ingested with
/// exceptions, and its report in `DIR/report`.
fn fleet_in(dir: &Path, extra: &[&str]) -> (PathBuf, PathBuf) {
    let inbox = generated_inbox(dir, 40);
    let hostile = dir.join("hostile.ndjson");
    let report = serde_json::json!({
        "report_id": "h1", "tenant_id": "t", "observed_at": "2026-10-20T12:00:00Z",
        "device": {"device_id": "dev-h", "name": HOSTILE, "os_platform": "Linux", "managed_by": "MDE"},
        "policies": [{"policy_id": "p-h", "name": HOSTILE, "type": "Antivirus", "state": "Error",
            "settings": [{"setting_id": "s-h", "name": "=cmd|' /C calc'!A0", "state": "Error",
                "expected": "1", "actual": "0"}]}],
    });
    std::fs::write(&hostile, report.to_string()).unwrap();
    let lake = dir.join("lake");
    ingest(&lake, &[&inbox, &hostile]);
    // An expired exception with a hostile reason, an active one for p-h.
    let exceptions = dir.join("exceptions.csv");
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
    let out = dir.join("report");
    render(&lake, &out, extra);
    (lake, out)
}

/// The fleet of `fleet_in`, made once per test run for the tests that only
/// read its lake and bundle (under the target folder's scratch space).
fn shared_fleet() -> &'static (PathBuf, PathBuf) {
    static FLEET: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    FLEET.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-fleet");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        fleet_in(&dir, &[])
    })
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

fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// What headless Chromium made of one page (tests/browser.py).
#[derive(Debug)]
struct Visit {
    final_url: String,
    html: String,
    problems: Vec<String>,
    requests: Vec<String>,
    eval: Value,
}

/// Opens `urls` in one headless Chromium, driven over its DevTools pipe.
fn browse(urls: &[String], options: &[&str]) -> Vec<Visit> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser.py");
    let o = Command::new("python3")
        .arg(script)
        .args(options)
        .args(urls)
        .output()
        .expect("python3 runs");
    assert!(
        o.status.success(),
        "tests/browser.py failed: {}",
        stderr(&o)
    );
    let pages: Vec<Value> = serde_json::from_slice(&o.stdout).unwrap();
    pages
        .into_iter()
        .map(|p| {
            let texts = |key: &str| -> Vec<String> {
                p[key]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap().to_owned())
                    .collect()
            };
            Visit {
                final_url: p["final_url"].as_str().unwrap().to_owned(),
                html: p["html"].as_str().unwrap().to_owned(),
                problems: texts("problems"),
                requests: texts("requests"),
                eval: p["eval"].clone(),
            }
        })
        .collect()
}

/// No console message, script error, failed load or CSP violation, and no
/// request that leaves the bundle (only `file:` and `data:` URLs).
fn assert_clean(visit: &Visit) {
    assert!(
        visit.problems.is_empty(),
        "{}: {:#?}",
        visit.final_url,
        visit.problems
    );
    for url in &visit.requests {
        assert!(
            url.starts_with("file://") || url.starts_with("data:"),
            "{} requested {url}",
            visit.final_url
        );
    }
}

/// The text of the cells of the table with the given id, row by row (from
/// a page's source or from a browser's DOM, closing tags or not).
fn table_cells(html: &str, id: &str) -> Vec<Vec<String>> {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no table `{id}`"));
    let body = &html[start..];
    let body = &body[body.find("<tbody>").unwrap() + 7..body.find("</tbody>").unwrap()];
    body.split("<tr")
        .skip(1)
        .map(|row| {
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    // Up to `</td>`, or to the markup's line end where the
                    // closing tags are left out.
                    let cell = match cell.find("</td>") {
                        Some(end) => &cell[..end],
                        None => cell.trim_end_matches('\n'),
                    };
                    let mut text = String::new();
                    let mut in_tag = true;
                    for c in cell.chars() {
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

/// A named query's rows as JSON.
fn query_json(lake: &Path, name: &str, args: &[&str]) -> Vec<Value> {
    let o = posture()
        .args(["query", "--format", "json", "--lake"])
        .arg(lake)
        .arg(name)
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{name}: {}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// A named query's rows as CSV records (header dropped).
fn query_rows(lake: &Path, name: &str, args: &[&str]) -> Vec<Vec<String>> {
    csv_records(query_csv(lake, name, args).as_bytes())
}

fn csv_records(text: &[u8]) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text)
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The data of a lookup page.
fn lookup_data(html: &str) -> Value {
    let start = html.find("id=\"lookup-data\">").unwrap() + 17;
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).unwrap()
}

fn slug(prefix: &str, id: &str) -> String {
    format!(
        "{prefix}-{}",
        &format!("{:x}", Sha256::digest(id.as_bytes()))[..16]
    )
}

/// Devices that need attention: noncompliant, stale, or changed (other
/// than new).
fn attention(lake: &Path) -> BTreeSet<String> {
    let mut ids: BTreeSet<String> = query_json(lake, "device_detail", &[])
        .iter()
        .filter(|r| r["compliance"] == "noncompliant" || r["stale"] == true)
        .map(|r| text(&r["device_id"]))
        .collect();
    // A device that is only new needs no page.
    ids.extend(
        query_json(lake, "changes", &[])
            .iter()
            .filter(|r| r["change"] != "new_device")
            .map(|r| text(&r["device_id"]))
            .filter(|id| !id.is_empty()),
    );
    ids
}

/// A device whose status needs no page, with its name.
fn quiet_device(lake: &Path) -> (String, String) {
    let busy = attention(lake);
    query_json(lake, "device_detail", &[])
        .iter()
        .map(|r| (text(&r["device_id"]), text(&r["device_name"])))
        .find(|(id, name)| !busy.contains(id) && name.starts_with("ws-"))
        .expect("a compliant workstation that did not change")
}

/// What the lookup and a device page show of a device: its policies with
/// their states, and its settings, from `device_detail` (all settings, or
/// only the failing ones with their evidence).
fn states_of(lake: &Path, device: &str, failing_only: bool) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut policy = None;
    for r in query_json(lake, "device_detail", &["--device", device]) {
        if r["policy_id"].is_null() {
            continue;
        }
        if policy.as_ref() != Some(&r["policy_id"]) {
            policy = Some(r["policy_id"].clone());
            rows.push(vec![text(&r["policy_name"]), text(&r["policy_state"])]);
        }
        let state = text(&r["setting_state"]);
        let failing = state == "Error" || state == "Conflict";
        if r["setting_id"].is_null() || (failing_only && !failing) {
            continue;
        }
        let mut row = vec![text(&r["setting_name"])];
        if !failing_only {
            row.push(text(&r["setting_id"]));
        }
        row.push(state);
        for key in ["error_code", "expected", "actual"] {
            row.push(if failing {
                text(&r[key])
            } else {
                String::new()
            });
        }
        rows.push(row);
    }
    rows
}

/// Issue 15: the overview, a policy page, a device page and the lookup open
/// from disk with no console message of any kind (a failed resource, such
/// as the font whose `data:` URL was HTML-escaped, included), no request
/// leaving the bundle, the font loaded, and the headline at the top of a
/// 1280×900 screenshot.
#[test]
fn chromium_opens_every_kind_of_page_offline_without_a_console_message() {
    let (lake, out) = shared_fleet();
    let policy = out.join(format!("policies/{}.html", slug("policy", "p-h")));
    let (quiet, _) = quiet_device(lake);
    let shot = out.parent().unwrap().join("overview.png");
    let urls = [
        file_url(&out.join("index.html")),
        file_url(&policy),
        file_url(&out.join("devices/page-00001.html")),
        format!("{}?q={quiet}", file_url(&out.join("lookup.html"))),
    ];
    let probe = "(() => { const h = document.getElementById('headline-compliance'); \
        return { headline: h ? h.getBoundingClientRect().bottom : null, \
        font: [...document.fonts].some(f => f.family.includes('DejaVu') && f.status === 'loaded') }; })()";
    let visits = browse(
        &urls,
        &[
            "--screenshot",
            shot.to_str().unwrap(),
            "--size",
            "1280x900",
            "--eval",
            probe,
        ],
    );
    for visit in &visits {
        assert_clean(visit);
    }
    let [overview, policy_page, device_page, lookup] = &visits[..] else {
        panic!("four pages")
    };
    // The overview: the headline on screen, in the bundled font.
    assert_eq!(overview.eval["font"], true, "the bundled font did not load");
    let bottom = overview.eval["headline"].as_f64().unwrap();
    assert!(bottom < 900.0, "the headline ends at {bottom} px");
    let image = image::open(&shot).unwrap().to_rgb8();
    assert_eq!(image.dimensions(), (1280, 900));
    let dark_on_top = image
        .enumerate_pixels()
        .filter(|(_, y, p)| *y < 300 && p.0.iter().all(|c| *c < 100))
        .count();
    assert!(
        dark_on_top > 3_000,
        "little text on top: {dark_on_top} dark pixels"
    );
    // The hostile name is text, in the stale list: no element came of it.
    assert!(
        overview
            .html
            .contains("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x")
    );
    assert!(!overview.html.contains("<img src=\"x\""));
    // The policy page, the device page and the lookup show their data.
    assert!(policy_page.html.contains("<h1>Policy &lt;script&gt;"));
    assert!(device_page.html.contains("<section class=\"device\""));
    assert!(
        lookup.final_url.contains("/lookup/id-"),
        "{}",
        lookup.final_url
    );
    assert!(lookup.html.contains("id=\"device-states\""));
}

/// Issue 15: a device with no page of its own is found by id and by name,
/// and the lookup shows its states: every policy and setting of its latest
/// report, as `device_detail` has them.
#[test]
fn the_lookup_finds_a_device_without_a_page_and_shows_its_states() {
    let (lake, out) = shared_fleet();
    let (id, name) = quiet_device(lake);
    let pages: Vec<String> = std::fs::read_dir(out.join("devices"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert!(
        !pages
            .iter()
            .any(|p| p.contains(&format!("Device id <code>{id}</code>"))),
        "{id} has a page"
    );
    let lookup = file_url(&out.join("lookup.html"));
    let visits = browse(
        &[
            format!("{lookup}?q={id}"),
            format!("{lookup}?q={}", name.to_uppercase()),
        ],
        &[],
    );
    let expected = states_of(lake, &id, false);
    assert!(expected.len() > 3, "{expected:?}");
    for visit in &visits {
        assert_clean(visit);
        let shown: Vec<Vec<String>> = table_cells(&visit.html, "device-states")
            .into_iter()
            .map(|row| row.into_iter().filter(|c| !c.is_empty()).collect())
            .collect();
        // Policy rows: name and state; setting rows: name, id, state (a
        // compliant device's settings carry no evidence).
        let expected: Vec<Vec<String>> = expected
            .iter()
            .map(|row| row.iter().filter(|c| !c.is_empty()).cloned().collect())
            .collect();
        assert_eq!(shown, expected, "{}", visit.final_url);
        assert!(visit.html.contains(&format!("Device id {id}")));
    }
}

/// Issue 15: every row of every view is in the bundle's Parquet files (read
/// by pyarrow) and CSV files, not only the rows the pages show.
#[test]
fn the_evidence_files_hold_every_row_of_every_view() {
    let (lake, out) = shared_fleet();
    check_evidence(lake, out, &posture::report::REQUIRED_VIEWS);
    // The hostile setting name is neutralised in the CSV for spreadsheets.
    let csv = std::fs::read_to_string(out.join("csv/policy_devices.csv")).unwrap();
    assert!(csv.contains("'=cmd|' /C calc'!A0"), "{csv}");
}

/// Issue 15: a view past the plain CSV's size is gzip, and still holds
/// every row; its Parquet file too, also when it is read a range of
/// devices at a time.
#[test]
fn the_gzip_evidence_of_a_bigger_fleet_holds_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    let o = run(&[
        "generate",
        "--out",
        inbox.to_str().unwrap(),
        "--devices",
        "800",
        "--days",
        "2",
        "--seed",
        "7",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lake = dir.path().join("lake");
    ingest(&lake, &[&inbox]);
    let out = dir.path().join("report");
    // device_detail a range of 150 devices at a time (a million devices
    // are read 100,000 at a time): the rows are the query's all the same.
    let o = posture()
        .args(["report", "--lake"])
        .arg(&lake)
        .arg("--out")
        .arg(&out)
        .env("POSTURE_DEVICES_PER_RANGE", "150")
        .env("POSTURE_PROFILE", "1")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("plan of `device_detail (devices range 6)`"),
        "device_detail was not read by range"
    );
    assert!(out.join("csv/device_detail.csv.gz").is_file());
    assert!(!out.join("csv/device_detail.csv").exists());
    check_evidence(&lake, &out, &["device_detail", "policy_devices"]);
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(index.contains("device_detail.csv.gz</a> (CSV, gzip"));
}

/// Each view's Parquet rows (read by pyarrow) and CSV rows (gzip or not,
/// in parts or not) against the named query's.
fn check_evidence(lake: &Path, out: &Path, views: &[&str]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/read_evidence.py");
    let o = Command::new("python3")
        .arg(script)
        .arg(out)
        .args(views)
        .output()
        .expect("python3 runs");
    assert!(
        o.status.success(),
        "read_evidence.py failed: {}",
        stderr(&o)
    );
    let parquet: Value = serde_json::from_slice(&o.stdout).unwrap();
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    for view in views {
        let expected = query_json(lake, view, &[]);
        let rows = parquet[view].as_array().unwrap();
        assert_eq!(rows.len(), expected.len(), "{view}: Parquet rows");
        assert!(rows == &expected, "{view}: the Parquet rows differ");
        assert_eq!(manifest["queries"][view]["rows"], expected.len(), "{view}");
        // The CSV: one file, or gzip parts in order, each with its header.
        let mut csv_rows = Vec::new();
        let mut files: Vec<PathBuf> = std::fs::read_dir(out.join("csv"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let name = p.file_name().unwrap().to_str().unwrap();
                name == format!("{view}.csv")
                    || name == format!("{view}.csv.gz")
                    || (name.starts_with(&format!("{view}-")) && name.ends_with(".csv.gz"))
            })
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{view}: no CSV");
        for file in files {
            let mut bytes = Vec::new();
            if file.extension().unwrap() == "gz" {
                flate2::read::MultiGzDecoder::new(std::fs::File::open(&file).unwrap())
                    .read_to_end(&mut bytes)
                    .unwrap();
            } else {
                bytes = std::fs::read(&file).unwrap();
            }
            csv_rows.extend(csv_records(&bytes));
        }
        let query = query_rows(lake, view, &[]);
        assert_eq!(csv_rows.len(), query.len(), "{view}: CSV rows");
        for (got, want) in csv_rows.iter().zip(&query) {
            for (g, w) in got.iter().zip(want) {
                let formula = w.starts_with(['=', '+', '-', '@', '\t', '\r']);
                assert!(
                    g == w || (formula && *g == format!("'{w}")),
                    "{view}: `{g}` for `{w}`"
                );
            }
        }
    }
}

/// Issue 15: the trend and the day before are computed a few days at a
/// time (a day at a time at a million devices); whatever the step, the
/// overview's trends, changes and counts are the named queries' rows.
#[test]
fn the_trend_is_the_same_computed_a_day_or_two_days_at_a_time() {
    let (lake, _) = shared_fleet();
    let days = query_rows(lake, "compliance_trend", &[])
        .iter()
        .filter(|row| row[1] != "0" || row[5] != "0")
        .count();
    assert!(days >= 3, "the fleet reports on {days} days only");
    let devices = query_rows(lake, "compliance_by_platform", &[])
        .iter()
        .map(|row| row[1].parse::<usize>().unwrap() + row[5].parse::<usize>().unwrap())
        .sum::<usize>();
    for days_per_step in [1, 2] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("report");
        let o = posture()
            .args(["report", "--lake"])
            .arg(lake)
            .arg("--out")
            .arg(&out)
            .env(
                "POSTURE_DEVICE_DAYS_PER_STEP",
                (devices * days_per_step).to_string(),
            )
            .env("POSTURE_PROFILE", "1")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        // The steps' views are computed in schemas named by their days.
        let steps: BTreeSet<String> = stderr(&o)
            .lines()
            .filter_map(|l| l.strip_prefix("-- `device_status` of `days_"))
            .map(|l| l.split('`').next().unwrap().to_owned())
            .collect();
        assert!(steps.len() >= 2, "{days_per_step}: steps {steps:?}");
        for step in &steps {
            let (from, to) = step.split_once('_').unwrap();
            let span = chrono::NaiveDate::parse_from_str(to, "%Y%m%d").unwrap()
                - chrono::NaiveDate::parse_from_str(from, "%Y%m%d").unwrap();
            assert!(span.num_days() < days_per_step as i64, "{step}");
        }
        let html = std::fs::read_to_string(out.join("index.html")).unwrap();
        for (id, name) in [
            ("trend-data", "compliance_trend"),
            ("exceptions-trend", "exceptions_trend"),
            ("changes", "changes"),
            ("platform-data", "compliance_by_platform"),
        ] {
            assert_eq!(table_cells(&html, id), query_rows(lake, name, &[]), "{id}");
        }
    }
}

/// Issue 15: the overview opens with the headline (compliance % with its
/// denominator, devices, noncompliant, stale, the change since the day
/// before), then the charts, what changed and the failing settings; the
/// charts' tables and the headline are the named queries' rows.
#[test]
fn the_headline_comes_first_and_shows_the_named_queries_numbers() {
    let (lake, _) = shared_fleet();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    render(lake, &out, &["--stale-days", "3"]);
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    let args = ["--stale-days", "3"];
    let platforms = query_rows(lake, "compliance_by_platform", &args);
    assert_eq!(table_cells(&html, "platform-data"), platforms);
    let trend = query_rows(lake, "compliance_trend", &args);
    assert_eq!(table_cells(&html, "trend-data"), trend);
    let at = |id: &str| {
        html.find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("{id}"))
    };
    assert!(at("headline") < at("charts"));
    assert!(at("charts") < at("what-changed"));
    assert!(at("what-changed") < at("failing-settings"));
    for (id, name) in [
        ("changes", "changes"),
        ("exceptions", "exceptions"),
        ("exceptions-trend", "exceptions_trend"),
    ] {
        assert_eq!(
            table_cells(&html, id),
            query_rows(lake, name, &args),
            "{id}"
        );
    }
    // The failing settings, with a column for each code's meaning.
    let failures = table_cells(&html, "setting-failures");
    let expected = query_rows(lake, "setting_failures", &args);
    assert_eq!(failures.len(), expected.len().min(50));
    // setting_failures' columns are the contract's: error_code is the fifth.
    let code = 4;
    for (shown, row) in failures.iter().zip(&expected) {
        assert_eq!(shown[..row.len()], row[..]);
        let meaning = posture::error_codes::meaning(&row[code]).unwrap_or_default();
        assert_eq!(shown[row.len()], meaning, "{row:?}");
    }
    // The generated fleet fails with 0x87D1FDE8 among others.
    assert!(
        failures
            .iter()
            .any(|r| r.last().unwrap() == "Remediation failed")
    );
    let exceptions = table_cells(&html, "exceptions");
    assert_eq!(
        exceptions.iter().map(|r| r[7].as_str()).collect::<Vec<_>>(),
        ["active", "expired"]
    );
    // The policy chart's rows, by id (names may hold commas).
    let policy_ids: Vec<String> = table_cells(&html, "policy-data")
        .into_iter()
        .map(|row| row[0].clone())
        .collect();
    let expected: Vec<String> = query_json(lake, "compliance_by_policy", &args)
        .iter()
        .map(|r| text(&r["policy_id"]))
        .collect();
    assert_eq!(policy_ids, expected);
    // The headline: the platform rows added up, the change since the day
    // before from the trend's last two rows.
    let sum = |rows: &[Vec<String>], column: usize| -> i64 {
        rows.iter().map(|r| r[column].parse::<i64>().unwrap()).sum()
    };
    let (compliant, noncompliant) = (sum(&platforms, 2), sum(&platforms, 3));
    assert!(html.contains(&format!(
        "compliant: {compliant} of {} devices with a policy state",
        compliant + noncompliant
    )));
    assert!(html.contains(&format!(
        "<b>{}</b>devices reporting (not stale)",
        sum(&platforms, 1)
    )));
    assert!(html.contains(&format!("<b>{noncompliant}</b>noncompliant")));
    assert!(html.contains(&format!("<b>{}</b>stale devices", sum(&platforms, 5))));
    let before = &trend[trend.len() - 2];
    let delta = noncompliant - before[3].parse::<i64>().unwrap();
    let delta = match delta {
        0 => "±0".to_owned(),
        d if d > 0 => format!("+{d}"),
        d => format!("−{}", -d),
    };
    assert!(
        html.contains(&format!(
            "<span class=\"delta\">{delta} since {}</span>",
            before[0]
        )),
        "no `{delta}` noncompliant since {}",
        before[0]
    );
}

/// Issue 15: a page per policy; a page for each device that needs
/// attention (noncompliant, stale, changed since the day before) and for no
/// other; every device in the lookup, once.
#[test]
fn policies_and_devices_needing_attention_have_pages_and_every_device_is_in_the_lookup() {
    let (lake, out) = shared_fleet();
    let policies = query_rows(lake, "compliance_by_policy", &[]);
    let pages = std::fs::read_dir(out.join("policies"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().unwrap() == "html")
        .count();
    assert_eq!(pages, policies.len());
    let mut anchors = BTreeSet::new();
    let mut looked_up = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(out.join("devices"))
        .unwrap()
        .chain(std::fs::read_dir(out.join("lookup")).unwrap())
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for file in files {
        let html = std::fs::read_to_string(&file).unwrap();
        let name = file.file_name().unwrap().to_str().unwrap();
        if name.starts_with("page-") {
            for part in html.split("Device id <code>").skip(1) {
                assert!(anchors.insert(part[..part.find('<').unwrap()].to_owned()));
            }
        } else if name.starts_with("id-") {
            for device in lookup_data(&html)["devices"].as_array().unwrap() {
                looked_up.push(text(&device[0]));
            }
        }
    }
    let busy = attention(lake);
    assert!(!busy.is_empty());
    assert_eq!(anchors, busy);
    let mut devices: Vec<String> = query_json(lake, "device_detail", &[])
        .iter()
        .map(|r| text(&r["device_id"]))
        .collect();
    devices.dedup();
    assert_eq!(looked_up, devices);
    let index = std::fs::read_to_string(out.join("devices/index.html")).unwrap();
    assert!(
        index.contains(&format!(
            "{} of {} devices have a page",
            busy.len(),
            devices.len()
        )),
        "{index}"
    );
}

/// A device page shows the device's policies with their states and the
/// evidence of its failing settings, as `device_detail` has them: in a
/// table the policies with something failing, on one line the others.
#[test]
fn a_device_page_shows_its_policies_and_failing_settings() {
    let (lake, out) = shared_fleet();
    // Each policy of the device with its failing settings.
    let grouped = |id: &str| {
        let mut policies: Vec<(Vec<String>, Vec<Vec<String>>)> = Vec::new();
        for row in states_of(lake, id, true) {
            if row.len() == 2 {
                policies.push((row, Vec::new()));
            } else {
                policies.last_mut().unwrap().1.push(row);
            }
        }
        policies
    };
    let busy = attention(lake);
    let id = busy
        .iter()
        .find(|id| grouped(id).iter().any(|(_, failing)| !failing.is_empty()))
        .expect("a device with a failing setting");
    let marker = format!("Device id <code>{id}</code>");
    let html = (1..)
        .map(|n| out.join(format!("devices/page-{n:05}.html")))
        .take_while(|p| p.exists())
        .map(|p| std::fs::read_to_string(p).unwrap())
        .find(|html| html.contains(&marker))
        .unwrap();
    let at = html.find(&marker).unwrap();
    let start = html[..at]
        .rfind("<section class=\"device\" id=\"d")
        .unwrap();
    let section = &html[start..start + html[start..].find("</section>").unwrap()];
    let n = &section["<section class=\"device\" id=\"d".len()..];
    let n = &n[..n.find('"').unwrap()];
    let mut shown: Vec<(Vec<String>, Vec<Vec<String>>)> = Vec::new();
    for row in table_cells(section, &format!("t{n}")) {
        if !row[0].is_empty() {
            shown.push((row[..2].to_vec(), Vec::new()));
        }
        if !row[3].is_empty() {
            shown.last_mut().unwrap().1.push(row[3..].to_vec());
        }
    }
    let (others, failing): (Vec<_>, Vec<_>) = grouped(id)
        .into_iter()
        .partition(|(p, f)| f.is_empty() && (p[1] == "Succeeded" || p[1] == "NotApplicable"));
    assert_eq!(shown, failing);
    for (policy, _) in others {
        let shown = match policy[1].as_str() {
            "Succeeded" => format!("{} (", policy[0]),
            state => format!("{}: {state} (", policy[0]),
        };
        assert!(section.contains(&shown), "{policy:?} not in {section}");
    }
}

/// Printing the overview gives no navigation, and each section on its own
/// pages, charts included.
#[test]
fn printing_leaves_out_the_navigation_and_breaks_pages_between_sections() {
    let (_, out) = shared_fleet();
    let probe = "(() => ({ nav: getComputedStyle(document.querySelector('nav')).display, \
        breaks: [...document.querySelectorAll('main > section')].map(s => getComputedStyle(s).breakBefore), \
        charts: document.querySelectorAll('#charts svg').length }))()";
    let visits = browse(
        &[file_url(&out.join("index.html"))],
        &["--media", "print", "--eval", probe],
    );
    let v = &visits[0];
    assert_clean(v);
    assert_eq!(v.eval["nav"], "none");
    let breaks: Vec<&str> = v.eval["breaks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap())
        .collect();
    assert_eq!(breaks[0], "auto");
    assert!(breaks[1..].iter().all(|b| *b == "page"), "{breaks:?}");
    assert_eq!(v.eval["charts"], 3);
}

#[test]
fn verify_names_each_changed_added_and_removed_file() {
    let dir = tempfile::tempdir().unwrap();
    let (_, out) = fleet_in(dir.path(), &[]);
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
    let (lake, _) = shared_fleet();
    let dir = tempfile::tempdir().unwrap();
    let bundle = |name: &str, profile: bool| {
        let out = dir.path().join(name);
        let mut command = posture();
        if profile {
            command.env("POSTURE_PROFILE", "1");
        }
        let o = command
            .env("SOURCE_DATE_EPOCH", "1764000000")
            .args(["report", "--lake"])
            .arg(lake)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        (lake_files(&out), stderr(&o))
    };
    // The second run prints its plans (docs/report.md) and writes the same.
    let ((a, quiet), (b, profiled)) = (bundle("a", false), bundle("b", true));
    assert!(!quiet.contains("-- plan of"), "{quiet}");
    for name in [
        "latest_reports",
        "device_status",
        "policy_devices",
        "device_detail",
    ] {
        let plan = profiled
            .split("-- plan of `")
            .find(|p| p.starts_with(&format!("{name}`")))
            .unwrap_or_else(|| panic!("no plan of `{name}` in:\n{profiled}"));
        assert!(plan.contains("output_rows="), "{plan}");
    }
    assert_eq!(a.len(), b.len());
    for ((pa, ca), (pb, cb)) in a.iter().zip(&b) {
        assert_eq!(
            pa.strip_prefix(dir.path().join("a")).unwrap(),
            pb.strip_prefix(dir.path().join("b")).unwrap()
        );
        assert!(ca == cb, "{} differs", pa.display());
    }
    // Every file is in the manifest, and nothing else is left in the folder.
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("a/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["generated_at"], "2025-11-24T16:00:00Z");
    assert_eq!(manifest["files"].as_array().unwrap().len() + 1, a.len());
    let o = run(&["verify", dir.path().join("a").to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// Issue 5: the antivirus, firewall and onboarding views of a lake of
/// vendor exports, as Chromium shows them, are the named queries' rows.
#[test]
fn chromium_shows_the_vendor_views() {
    let dir = tempfile::tempdir().unwrap();
    let lake = super::exports::export_lake(&dir);
    let out = dir.path().join("report");
    render(&lake, &out, &[]);
    let visits = browse(&[file_url(&out.join("index.html"))], &[]);
    assert_clean(&visits[0]);
    let html = &visits[0].html;
    assert!(!html.contains("-empty\""), "an empty state is shown");
    for (id, query) in [
        ("firewall-status", "firewall_status"),
        ("antivirus-mode", "antivirus_mode"),
        ("secure-configuration", "secure_configuration"),
        ("onboarding-coverage", "onboarding_coverage"),
        ("onboarding-devices", "onboarding_devices"),
    ] {
        assert_eq!(table_cells(html, id), query_rows(&lake, query, &[]), "{id}");
    }
    let antivirus = table_cells(html, "antivirus-health");
    let states: Vec<&str> = antivirus.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(states, ["clean", "rebootPending"]);
    assert_eq!(antivirus[0][2..], ["2", "0", "1", "0", "0", "1"]);
    assert!(out.join("csv/onboarding_devices.csv").is_file());
}

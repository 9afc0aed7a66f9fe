//! `posture collect` and the collect step of `posture run`, against the
//! fake tenant of `fake_tenant.rs` on loopback (issue 18): files in the
//! inbox byte for byte what was served, through throttling, outages, slow
//! answers and an expiring token; a following ingest lands them; clear
//! errors naming the permission the app lacks; a killed run resumed without
//! downloading twice or leaving a partial file where ingest reads; two
//! nights of `posture run`. Every test ends by looking for the secret, the
//! tokens and the download signature in every output and every file.

mod data;
mod fake_tenant;
mod services;
mod site;

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::Value;

use data::{P_OTHER, P1, P2, policy_csv, tenant_data};
use fake_tenant::{Action, FakeTenant, Fault, SECRET, fixture};
use site::{Site, assert_byte_identical, assert_code, collected, expected_bytes, requests};

use super::{column, count, counts, ingest, stderr};

#[test]
fn collects_every_report_byte_for_byte_through_throttling_outages_and_an_expired_token() {
    let tenant = FakeTenant::start(tenant_data("2026-11-10"));
    // A 429 asking for 1 s, a 503, an answer slower than the timeout, and
    // the Graph token expiring mid-run.
    tenant.fault(Fault {
        path: "/api/machines?$top=2&$skip=2",
        nth: 1,
        action: Action::TooMany(1),
    });
    tenant.fault(Fault {
        path: "exportJobs('DefenderAgents_",
        nth: 1,
        action: Action::Unavailable,
    });
    tenant.fault(Fault {
        path: "/api/machines?$top=2&$skip=4",
        nth: 1,
        action: Action::Slow(Duration::from_secs(3)),
    });
    tenant.fault(Fault {
        path: "exportJobs('FirewallStatus_",
        nth: 2,
        action: Action::Expired,
    });
    let mut site = Site::new(
        &tenant,
        "intune_reports = [\"DeviceStatusesByConfigurationProfile\", \"DefenderAgents\", \"FirewallStatus\"]\n\
         defender = [\"machines\"]",
    );
    let o = site.collect();
    assert_code(&o, 0);
    assert_eq!(collected(&o), (7, 0, 0));
    let err = stderr(&o);
    // Progress on stderr.
    for line in [
        "Graph lists 2 endpoint security policies and baselines (1 other policies left out)",
        "export job `DefenderAgents_",
        "`machines` page 3: 1 row(s) into",
        "429 Too Many Requests from `http://127.0.0.1",
        "(Retry-After)",
        "503 Service Unavailable",
        "within 2 s (`request_timeout`)",
        "the Microsoft Graph token was refused",
    ] {
        assert!(err.contains(line), "no `{line}` in:\n{err}");
    }

    let dirs = site.collections();
    assert_eq!(dirs.len(), 1);
    assert_byte_identical(
        &tenant,
        &dirs[0],
        &[
            "intune-DefenderAgents.zip",
            &format!("intune-DeviceStatusesByConfigurationProfile-{P1}.zip"),
            &format!("intune-DeviceStatusesByConfigurationProfile-{P2}.zip"),
            "intune-FirewallStatus.zip",
            "mde-machines-00001.json",
            "mde-machines-00002.json",
            "mde-machines-00003.json",
        ],
    );
    assert!(dirs[0].join(".complete").is_file());

    let log = tenant.log();
    // Retry-After was honoured: the retry came a second later or more.
    let throttled = requests(&log, "/api/machines?$top=2&$skip=2");
    assert_eq!(
        throttled.iter().map(|e| e.status).collect::<Vec<_>>(),
        [429, 200]
    );
    assert!(throttled[1].at - throttled[0].at >= Duration::from_secs(1));
    // The slow answer was given up on and asked again.
    assert_eq!(requests(&log, "/api/machines?$top=2&$skip=4").len(), 2);
    // A new token after the expired one: Graph twice, Defender once.
    assert_eq!(requests(&log, "/oauth2/v2.0/token").len(), 3);
    // The signed download link gets no token.
    let downloads = requests(&log, "/blob/");
    assert_eq!(downloads.len(), 4);
    assert!(downloads.iter().all(|e| e.authorization.is_none()));
    // The other policy was not exported; each export polled until done.
    assert!(!log.iter().any(|e| e.body.contains(P_OTHER)));
    let create = requests(&log, "/exportJobs");
    assert_eq!(create.iter().filter(|e| e.method == "POST").count(), 4);

    // A following ingest lands them: 5 machines, 2 + 2 policy statuses,
    // 2 Defender agents, 2 firewall statuses.
    let lake = site.root.join("lake");
    assert_eq!(ingest(&lake, &[&site.inbox()]), counts(13, 13, 0, 0));
    assert_eq!(count(&lake, "device_inventory"), 5);
    assert_eq!(count(&lake, "policy_states"), 4);
    assert_eq!(count(&lake, "antivirus_health"), 2);
    assert_eq!(count(&lake, "firewall_status"), 2);
    assert_eq!(
        column(
            &lake,
            "SELECT DISTINCT policy_id FROM policy_states ORDER BY policy_id"
        ),
        [P1, P2]
    );

    // Run again: the collection is complete, so a new one starts and
    // fetches everything anew.
    let o = site.collect();
    assert_code(&o, 0);
    assert_eq!(collected(&o), (7, 0, 0));
    assert_eq!(site.collections().len(), 2);
    site.assert_no_secret(&tenant);
}

#[test]
fn a_certificate_authenticates_and_the_other_reports_arrive_whole() {
    let mut data = tenant_data("2026-11-10");
    // No next link on `machines` pages: a full page is followed by `$skip`.
    data.machines_next_link = false;
    data.machines.truncate(4);
    let tenant = FakeTenant::start(data);
    let mut site = Site::new(
        &tenant,
        &format!(
            "certificate_file = \"{}\"\nprivate_key_file = \"{}\"\n\
             intune_reports = [\"DeviceAssignmentStatusByConfigurationPolicy\", \"DevicePolicySettingsComplianceReport\", \"DevicesWithInventory\"]\n\
             defender = [\"machines\", \"SecureConfigurationsAssessmentByMachine\", \"deviceavinfo\"]\n\
             policy_ids = [\"{P2}\"]",
            fixture("test-cert.pem").display(),
            fixture("test-key.pem").display()
        ),
    );
    let o = site.collect_with(|c| {
        c.env_remove("POSTURE_CLIENT_SECRET");
    });
    assert_code(&o, 0);
    assert_eq!(collected(&o), (9, 0, 0));
    let dirs = site.collections();
    assert_byte_identical(
        &tenant,
        &dirs[0],
        &[
            &format!("intune-DeviceAssignmentStatusByConfigurationPolicy-{P2}.zip"),
            "intune-DevicePolicySettingsComplianceReport.zip",
            "intune-DevicesWithInventory.zip",
            "mde-SecureConfigurationsAssessmentByMachine-00001.json",
            "mde-SecureConfigurationsAssessmentByMachine-00002.json",
            "mde-deviceavinfo-00001.json",
            "mde-deviceavinfo-00002.json",
            "mde-machines-00001.json",
            "mde-machines-00002.json",
        ],
    );
    let log = tenant.log();
    // The listed policy only; no listing asked for.
    assert!(requests(&log, "configurationPolicies").is_empty());
    // The assessment is paged with `pageSize` and its next links; the
    // machine list with `$top`, then `$skip` (the third, empty page is not
    // kept).
    assert!(!requests(&log, "SecureConfigurationsAssessmentByMachine?pageSize=2").is_empty());
    let machines: Vec<String> = requests(&log, "/api/machines?")
        .iter()
        .map(|e| e.target.clone())
        .collect();
    assert_eq!(
        machines,
        [
            "/api/machines?%24top=2",
            "/api/machines?%24top=2&%24skip=2",
            "/api/machines?%24top=2&%24skip=4"
        ]
    );
    // Each token came from a signed assertion; the tenant checked it.
    assert!(
        requests(&log, "/oauth2/v2.0/token")
            .iter()
            .all(|e| e.status == 200)
    );
    site.assert_no_secret(&tenant);
}

#[test]
fn each_failure_says_what_to_fix_and_keeps_what_was_downloaded() {
    let tenant = FakeTenant::start(tenant_data("2026-11-10"));
    let mut site = Site::new(
        &tenant,
        "intune_reports = [\"DefenderAgents\", \"FirewallStatus\"]\ndefender = [\"machines\"]",
    );
    let fails = |o: &Output, message: &str, hint: &str| {
        assert_code(o, 1);
        let err = stderr(o);
        assert!(err.contains(message), "no `{message}` in:\n{err}");
        assert!(
            err.contains(&format!("hint: {hint}")),
            "no hint `{hint}` in:\n{err}"
        );
    };

    // The wrong tenant, an unknown app, a wrong secret.
    let o = site.collect_with(|c| {
        c.env("POSTURE_TENANT_ID", "fabrikam-0002");
    });
    fails(
        &o,
        "cannot get a Microsoft Graph token: the tenant `fabrikam-0002` does not exist: AADSTS90002",
        "check `tenant_id`",
    );
    assert!(stderr(&o).contains("cannot get a Defender for Endpoint token: the tenant"));
    let o = site.collect_with(|c| {
        c.env("POSTURE_CLIENT_ID", "nobody-0003");
    });
    fails(
        &o,
        "there is no app `nobody-0003` in the tenant `contoso-0001`",
        "check `client_id`",
    );
    let o = site.collect_with(|c| {
        c.env("POSTURE_CLIENT_SECRET", "not-the-secret-value");
    });
    fails(
        &o,
        "cannot get a Microsoft Graph token: the client secret was refused: AADSTS7000215",
        "give the secret's Value (not its Secret ID)",
    );
    // No credential at all, and a secret written into posture.toml.
    let o = site.collect_with(|c| {
        c.env_remove("POSTURE_CLIENT_SECRET");
    });
    fails(
        &o,
        "`posture collect` needs the app's credential",
        "set `POSTURE_CLIENT_SECRET`",
    );
    let config = std::fs::read_to_string(site.root.join("posture.toml")).unwrap();
    std::fs::write(
        site.root.join("posture.toml"),
        config.replace(
            "[collect]\n",
            &format!("[collect]\nclient_secret = \"{SECRET}\"\n"),
        ),
    )
    .unwrap();
    let o = site.collect();
    fails(
        &o,
        "`client_secret` in posture.toml is refused",
        "put the secret in a file readable only by posture's user",
    );
    std::fs::write(site.root.join("posture.toml"), &config).unwrap();
    // The secret in a file named by the config works as the environment does.
    std::fs::write(site.root.join("secret.txt"), format!("{SECRET}\n")).unwrap();
    std::fs::write(
        site.root.join("posture.toml"),
        config.replace(
            "[collect]\n",
            "[collect]\nclient_secret_file = \"secret.txt\"\n",
        ),
    )
    .unwrap();
    let o = site.collect_with(|c| {
        c.env_remove("POSTURE_CLIENT_SECRET");
    });
    assert_code(&o, 0);
    assert!(
        stderr(&o).contains("may be read by other users"),
        "{}",
        stderr(&o)
    );
    std::fs::write(site.root.join("posture.toml"), &config).unwrap();
    std::fs::remove_file(site.root.join("secret.txt")).unwrap();
    // That run finished a collection; the next failures start a new one.

    // Permissions missing: Defender's machine list, and Intune's firewall
    // report. What else there is arrives; the run says what to grant.
    tenant.fault(Fault {
        path: "/api/machines",
        nth: 1,
        action: Action::Forbidden(
            "The application does not have any of the required application permissions (Machine.ReadWrite.All, Machine.Read.All) to access the resource.",
        ),
    });
    tenant.fault(Fault {
        path: "\"reportName\":\"FirewallStatus\"",
        nth: 1,
        action: Action::Forbidden(
            "{\r\n  \"_version\": 3,\r\n  \"Message\": \"Application is not authorized to perform this operation. Application must have one of the following scopes: DeviceManagementManagedDevices.Read.All - Operation ID (for customer support): 00000000-0000-0000-0000-000000000000\"\r\n}",
        ),
    });
    let o = site.collect();
    assert_code(&o, 1);
    assert_eq!(collected(&o).2, 2);
    let err = stderr(&o);
    assert!(
        err.contains("`machines` page 1: the app lacks the WindowsDefenderATP application permission `Machine.Read.All` (403 Forbidden from `http://127.0.0.1"),
        "{err}"
    );
    assert!(err.contains("add the WindowsDefenderATP application permission `Machine.Read.All` and grant admin consent"));
    assert!(
        err.contains("the app lacks the Microsoft Graph application permission `DeviceManagementManagedDevices.Read.All`")
            && err.contains("Application must have one of the following scopes: DeviceManagementManagedDevices.Read.All)"),
        "{err}"
    );
    assert!(err.contains("error: the collection is incomplete: 2 failure(s), logged above"));
    let dirs = site.collections();
    let (files, hidden) = Site::files(dirs.last().unwrap());
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(!hidden.contains(&".complete".to_owned()));

    // Granted: the rerun resumes, fetching only the two missing.
    tenant.clear_faults();
    tenant.clear_log();
    let o = site.collect();
    assert_code(&o, 0);
    assert_eq!(collected(&o), (4, 1, 0));
    assert!(stderr(&o).contains("resuming the collection"));
    assert_eq!(site.collections().len(), dirs.len());
    let log = tenant.log();
    let posts: Vec<Value> = log
        .iter()
        .filter(|e| e.method == "POST" && e.target.ends_with("/exportJobs"))
        .map(|e| serde_json::from_str(&e.body).unwrap())
        .collect();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0]["reportName"], "FirewallStatus");

    // A service down for longer than `retry_time`: the URL is named,
    // without its query's values.
    tenant.fault(Fault {
        path: "/blob/",
        nth: 1,
        action: Action::Unavailable,
    });
    tenant.fault(Fault {
        path: "/blob/",
        nth: 2,
        action: Action::TooMany(60),
    });
    let o = site.collect();
    assert_code(&o, 1);
    let err = stderr(&o);
    // (Two downloads run at once: either may meet the 429.)
    assert!(
        err.contains("cannot download the export: gave up after ")
            && err.contains("Too Many Requests from `http://127.0.0.1")
            && err.contains(".zip?sv=…&sr=…&sig=…&se=…&sp=…` (Too many requests; slow down.), and asked to wait 60 s more (Retry-After), past `retry_time`"),
        "{err}"
    );
    site.assert_no_secret(&tenant);
}

/// Starts `posture collect` and kills it once the tenant stalls a download.
fn collect_until_stalled(site: &Site, tenant: &FakeTenant) {
    let mut child = site
        .command(&["collect"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !tenant.stalled() {
        assert!(started.elapsed() < Duration::from_secs(60), "never stalled");
        assert!(
            child.try_wait().unwrap().is_none(),
            "collect ended before the stall"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Let the first half reach the partial file.
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_killed_collection_resumes_with_only_what_is_missing_and_no_partial_file_is_read() {
    let tenant = FakeTenant::start(tenant_data("2026-11-10"));
    tenant.fault(Fault {
        path: "/api/machines?$top=2&$skip=2",
        nth: 1,
        action: Action::Stall,
    });
    let mut site = Site::new(
        &tenant,
        "intune_reports = [\"DeviceStatusesByConfigurationProfile\", \"DefenderAgents\", \"FirewallStatus\"]\n\
         defender = [\"machines\"]\nconcurrency = 3",
    );
    collect_until_stalled(&site, &tenant);

    // Killed mid-page: that page is only a dot file, which ingest skips;
    // what is finished is whole.
    let dir = &site.collections()[0];
    let (before, hidden) = Site::files(dir);
    assert!(
        hidden.contains(&".partial-mde-machines-00002.json".to_owned()),
        "{hidden:?}"
    );
    assert!(!hidden.contains(&".complete".to_owned()));
    assert!(before.contains_key("mde-machines-00001.json"));
    for (name, bytes) in &before {
        assert!(*bytes == expected_bytes(&tenant, name), "{name}");
    }
    let lake = site.root.join("lake");
    let c = ingest(&lake, &[&site.inbox()]);
    assert_eq!(c.quarantined, 0);
    let partial = std::fs::read(dir.join(".partial-mde-machines-00002.json")).unwrap();
    assert!(!partial.is_empty() && serde_json::from_slice::<Value>(&partial).is_err());
    let jobs: Vec<&String> = hidden.iter().filter(|h| h.starts_with(".job-")).collect();

    // The rerun: the same collection; only what is missing is asked for.
    tenant.clear_faults();
    let mark = tenant.log().len();
    let o = site.collect();
    assert_code(&o, 0);
    assert!(stderr(&o).contains("resuming the collection"));
    assert!(stderr(&o).contains("removing"), "{}", stderr(&o));
    let (files, already, failed) = collected(&o);
    assert_eq!(failed, 0);
    // `machines` counts its finished pages; each finished zip counts one.
    assert_eq!(already, before.len() as u64);
    assert_eq!(files + already, 7);
    let log = tenant.log().split_off(mark);
    assert!(!log.iter().any(|e| e.target == "/api/machines?%24top=2"));
    assert_eq!(requests(&log, "/api/machines?$top=2&$skip=2").len(), 1);
    for name in before.keys() {
        if let Some(stem) = name
            .strip_prefix("intune-")
            .and_then(|n| n.strip_suffix(".zip"))
        {
            let report = stem.split('-').next().unwrap();
            let policy = stem.split_once('-').map(|(_, p)| p);
            let asked = log.iter().any(|e| {
                e.method == "POST"
                    && serde_json::from_str::<Value>(&e.body).is_ok_and(|b| {
                        b["reportName"] == report
                            && b["filter"].as_str()
                                == policy.map(|p| format!("(PolicyId eq '{p}')")).as_deref()
                    })
            });
            assert!(!asked, "{name} was exported again");
        }
    }
    // A job a killed run had started is polled, not started again.
    for job in jobs {
        let name = job.trim_start_matches(".job-");
        if before.contains_key(&format!("{name}.zip")) {
            continue;
        }
        let id = std::fs::read_to_string(dir.join(job)).unwrap_or_default();
        if id.is_empty() {
            continue;
        }
        assert!(
            log.iter()
                .any(|e| e.target.contains(&format!("exportJobs('{id}')")))
        );
    }
    assert_byte_identical(
        &tenant,
        dir,
        &[
            "intune-DefenderAgents.zip",
            &format!("intune-DeviceStatusesByConfigurationProfile-{P1}.zip"),
            &format!("intune-DeviceStatusesByConfigurationProfile-{P2}.zip"),
            "intune-FirewallStatus.zip",
            "mde-machines-00001.json",
            "mde-machines-00002.json",
            "mde-machines-00003.json",
        ],
    );
    assert!(dir.join(".complete").is_file());
    assert_eq!(site.collections().len(), 1);
    site.assert_no_secret(&tenant);
}

#[test]
fn posture_run_collects_then_ingests_over_two_nights() {
    let tenant = FakeTenant::start(tenant_data("2026-11-10"));
    let mut site = Site::new(
        &tenant,
        "intune_reports = [\"DeviceStatusesByConfigurationProfile\", \"DefenderAgents\", \"FirewallStatus\"]\n\
         defender = [\"machines\"]",
    );
    let run = |site: &mut Site| {
        let o = site.command(&["run"]).output().unwrap();
        site.keep(&o);
        o
    };
    let lake = site.root.join("lake");
    let reports = site.root.join("reports");

    // --no-collect asks nothing of the tenant (and an empty inbox has no
    // day to report on).
    std::fs::create_dir_all(site.inbox()).unwrap();
    let o = site.command(&["run", "--no-collect"]).output().unwrap();
    site.keep(&o);
    assert_code(&o, 1);
    assert!(stderr(&o).contains("holds no reports yet"));
    assert!(tenant.log().is_empty());

    // Night 1.
    let o = run(&mut site);
    assert_code(&o, 0);
    let err = stderr(&o);
    assert!(err.contains("collected: files=7 bytes="), "{err}");
    assert!(
        err.contains("7 new or changed file(s), 0 already ingested"),
        "{err}"
    );
    assert!(
        err.contains("ingested: read=13 new=13 duplicate=0 quarantined=0"),
        "{err}"
    );
    assert!(reports.join("2026-11-10/index.html").is_file());
    assert_eq!(count(&lake, "device_inventory"), 5);

    // Night 2: the tenant moved on; device 2 now passes policy 1.
    let mut day2 = tenant_data("2026-11-11");
    day2.exports.insert(
        format!("DeviceStatusesByConfigurationProfile/{P1}"),
        policy_csv(P1, "Defender AV baseline", "2026-11-11", &[(1, 2), (2, 2)]),
    );
    tenant.set_data(day2);
    let o = run(&mut site);
    assert_code(&o, 0);
    let err = stderr(&o);
    assert!(err.contains("collected: files=7"), "{err}");
    assert!(
        err.contains("7 new or changed file(s), 7 already ingested"),
        "{err}"
    );
    assert_eq!(site.collections().len(), 2);
    assert_eq!(
        std::fs::read_link(reports.join("latest")).unwrap(),
        Path::new("2026-11-11")
    );
    assert_eq!(count(&lake, "device_inventory"), 10);
    assert_eq!(
        column(
            &lake,
            &format!(
                "SELECT state FROM policy_states WHERE policy_id = '{P1}' AND date = '2026-11-11' ORDER BY device_id"
            )
        ),
        ["Succeeded", "Succeeded"]
    );

    // Night 3: the app lost a permission. The night goes on with what
    // arrived, and exits 4 saying what to grant.
    tenant.set_data(tenant_data("2026-11-12"));
    tenant.fault(Fault {
        path: "/api/machines",
        nth: 1,
        action: Action::Forbidden("The application does not have any of the required application permissions (Machine.ReadWrite.All, Machine.Read.All) to access the resource."),
    });
    let o = run(&mut site);
    assert_code(&o, 4);
    let log = std::fs::read_to_string(reports.join("posture-run.log")).unwrap();
    for line in [
        "the app lacks the WindowsDefenderATP application permission `Machine.Read.All`",
        "collected: files=4 bytes=",
        "failed=1",
        "the collect step could not fetch everything (1 failure(s), logged above)",
        "(exit 4)",
    ] {
        assert!(log.contains(line), "no `{line}` in the log:\n{log}");
    }
    assert!(reports.join("2026-11-12/index.html").is_file());
    site.assert_no_secret(&tenant);
}

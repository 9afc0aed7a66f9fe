//! `posture collect`: the tenant's reports fetched into the inbox, so that
//! a night needs no one to download them. Intune report exports (Graph's
//! `exportJobs`) and Defender for Endpoint API pages are written exactly as
//! the services return them, one file each, into a folder per collection
//! (`INBOX/collect/<UTC start>/`); `posture ingest` then reads them as any
//! other export. Nothing here parses a report's rows.
//!
//! - [`config`]: the `[collect]` keys, the credentials;
//! - [`sources`]: what can be fetched, and the permission each needs;
//! - `auth`: tokens (client secret or certificate), `401` and `403`;
//! - `http`: timeouts, retries, back-off, `Retry-After`;
//! - `intune`, `defender`: the two services' ways of handing out data;
//! - `inbox`: collection folders, files renamed into place when whole.
//!
//! With the cargo feature `collect` only; without it, [`collect`] says so.

pub mod config;
pub mod sources;

#[cfg(feature = "collect")]
mod auth;
#[cfg(feature = "collect")]
mod defender;
#[cfg(feature = "collect")]
mod http;
#[cfg(feature = "collect")]
mod inbox;
#[cfg(feature = "collect")]
mod intune;

use std::path::PathBuf;

use anyhow::Result;

pub use config::{CollectConfig, CollectOptions, CollectStep};

/// What a collection did.
#[derive(Debug, Clone, Default)]
pub struct CollectOutcome {
    /// The collection folder written into.
    pub dir: PathBuf,
    /// True when it resumed a collection that had stopped short.
    pub resumed: bool,
    /// Files downloaded by this run, and their bytes.
    pub files: usize,
    pub bytes: u64,
    /// Files an earlier run of the same collection had finished.
    pub already: usize,
    /// What could not be fetched, each with its reason (logged with its
    /// hint as it happened).
    pub failures: Vec<String>,
}

impl CollectOutcome {
    /// The summary line, as `posture collect` ends with it.
    pub fn line(&self) -> String {
        format!(
            "collected: files={} bytes={} already={} failed={}",
            self.files,
            self.bytes,
            self.already,
            self.failures.len()
        )
    }
}

/// What one download unit (a report export, an API's pages) did.
#[derive(Debug, Default, Clone, Copy)]
#[cfg_attr(not(feature = "collect"), allow(dead_code))]
struct Done {
    files: usize,
    bytes: u64,
    already: usize,
}

#[cfg_attr(not(feature = "collect"), allow(dead_code))]
impl Done {
    fn file(bytes: u64) -> Done {
        Done {
            files: 1,
            bytes,
            already: 0,
        }
    }

    fn already() -> Done {
        Done {
            already: 1,
            ..Done::default()
        }
    }
}

/// Fails unless this build can collect: before any secret is read.
pub fn ensure_built() -> Result<()> {
    if cfg!(feature = "collect") {
        return Ok(());
    }
    anyhow::bail!(crate::Hinted::new(
        "this `posture` was built without collection",
        "build it with `cargo build --release --features collect` (docs/collect.md)",
    ))
}

/// The collect step of `posture run`: resolves the table, collects, logs.
/// A failure is part of the outcome, not an error: the night goes on with
/// what the inbox holds.
pub fn step(step: &CollectStep, inbox: &std::path::Path) -> CollectOutcome {
    let options = ensure_built().and_then(|()| {
        step.config
            .resolve(&step.base, inbox.to_path_buf(), &|name| {
                std::env::var(name).ok()
            })
    });
    match options.and_then(|options| collect(&options)) {
        Ok(outcome) => {
            tracing::info!(
                "{} into `{}`{}",
                outcome.line(),
                outcome.dir.display(),
                if outcome.resumed { " (resumed)" } else { "" }
            );
            outcome
        }
        Err(e) => {
            let mut outcome = CollectOutcome::default();
            fail(&mut outcome, e);
            outcome
        }
    }
}

/// Logs a failure with its hint, as it happens, and counts it.
fn fail(outcome: &mut CollectOutcome, e: anyhow::Error) {
    tracing::error!("{e:#}");
    if let Some(hint) = crate::commands::hint(&e) {
        tracing::error!("hint: {hint}");
    }
    outcome.failures.push(format!("{e:#}"));
}

#[cfg(not(feature = "collect"))]
pub fn collect(_options: &CollectOptions) -> Result<CollectOutcome> {
    ensure_built()?;
    unreachable!("ensure_built fails without the feature")
}

/// Collects every configured report into a collection folder of the inbox:
/// the unfinished one of a run that stopped short, if recent, else a new
/// one. A download that fails (after its retries) is reported in the
/// outcome and the others go on; the folder is marked complete only when
/// none failed.
#[cfg(feature = "collect")]
pub fn collect(options: &CollectOptions) -> Result<CollectOutcome> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(collect_async(options))
}

#[cfg(feature = "collect")]
async fn collect_async(options: &CollectOptions) -> Result<CollectOutcome> {
    use std::time::Duration;

    use futures::StreamExt;
    use tracing::info;

    use auth::{Api, Service, Tokens};
    use http::{Http, RetryPolicy};

    let collection =
        inbox::Collection::open(&options.inbox, chrono::Utc::now(), options.resume_within)?;
    let mut outcome = CollectOutcome {
        dir: collection.dir.clone(),
        resumed: collection.resumed,
        ..CollectOutcome::default()
    };
    let http = Http::new(RetryPolicy {
        first_delay: options.retry_first_delay,
        max_delay: Duration::from_secs(60),
        budget: options.retry_time,
        request_timeout: options.request_timeout,
    })?;
    let tokens = Tokens::new(options)?;
    let api = Api {
        http: &http,
        tokens: &tokens,
    };

    // One token per service first: a credential problem is one clear error
    // per service, not one per download.
    let mut intune_ok = !options.intune_reports.is_empty();
    if intune_ok && let Err(e) = tokens.get(&http, Service::Graph).await {
        fail(&mut outcome, e);
        intune_ok = false;
    }
    let mut defender_ok = !options.defender.is_empty();
    if defender_ok && let Err(e) = tokens.get(&http, Service::Defender).await {
        fail(&mut outcome, e);
        defender_ok = false;
    }

    enum Unit<'a> {
        Intune(&'static sources::IntuneReport, Option<&'a intune::Policy>),
        Defender(&'static sources::DefenderApi),
    }
    let mut policies = Vec::new();
    if intune_ok && options.intune_reports.iter().any(|r| r.per_policy) {
        match &options.policy_ids {
            Some(ids) => {
                policies = ids
                    .iter()
                    .map(|id| intune::Policy {
                        id: id.clone(),
                        name: id.clone(),
                    })
                    .collect();
            }
            None => match intune::policies(&api, options).await {
                Ok(listed) => policies = listed,
                Err(e) => fail(
                    &mut outcome,
                    e.context("the per-policy reports cannot be exported"),
                ),
            },
        }
    }
    let mut units = Vec::new();
    if intune_ok {
        for report in &options.intune_reports {
            if report.per_policy {
                units.extend(policies.iter().map(|p| Unit::Intune(report, Some(p))));
            } else {
                units.push(Unit::Intune(report, None));
            }
        }
    }
    if defender_ok {
        units.extend(options.defender.iter().map(|api| Unit::Defender(api)));
    }
    info!(
        "{} download(s) to do, {} at a time",
        units.len(),
        options.concurrency
    );

    let collection = &collection;
    let api = &api;
    let mut results = futures::stream::iter(units)
        .map(|unit| async move {
            match unit {
                Unit::Intune(report, policy) => {
                    intune::export(api, collection, options, report, policy).await
                }
                Unit::Defender(source) => defender::pages(api, collection, options, source).await,
            }
        })
        .buffer_unordered(options.concurrency);
    while let Some(result) = results.next().await {
        match result {
            Ok(done) => {
                outcome.files += done.files;
                outcome.bytes += done.bytes;
                outcome.already += done.already;
            }
            Err(e) => fail(&mut outcome, e),
        }
    }
    if outcome.failures.is_empty() {
        collection.mark_complete()?;
    }
    Ok(outcome)
}

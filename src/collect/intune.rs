//! Intune report exports through Graph's `deviceManagement/reports/exportJobs`:
//! the policies of per-policy reports listed from Graph, one export job per
//! report (and policy), polled with a growing wait until `completed`, and
//! the zip downloaded from its link as Intune made it. The job's id is kept
//! beside the collection, so a rerun polls the job an earlier run started
//! instead of starting another.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use reqwest::Method;
use serde::Deserialize;
use tracing::info;
use url::Url;

use super::Done;
use super::auth::{Api, ApiError, Call, Service};
use super::config::{CollectOptions, is_safe_origin};
use super::http::{Fetched, Request, Sink, redact};
use super::inbox::Collection;
use super::sources::{CONFIGURATION_READ, IntuneReport};
use crate::Hinted;

/// A policy whose statuses are exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub id: String,
    pub name: String,
}

/// The longest wait between two polls of an export job.
const MAX_POLL: Duration = Duration::from_secs(60);

#[derive(Deserialize)]
struct Page<T> {
    value: Vec<T>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
}

#[derive(Deserialize)]
struct ListedPolicy {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default, rename = "templateReference")]
    template: Option<TemplateReference>,
}

#[derive(Deserialize)]
struct TemplateReference {
    #[serde(default, rename = "templateFamily")]
    family: Option<String>,
}

#[derive(Deserialize)]
struct Job {
    id: String,
    status: String,
    #[serde(default)]
    url: Option<String>,
}

/// The endpoint security policies and security baselines of the tenant
/// (`deviceManagement/configurationPolicies`, every page).
pub async fn policies(api: &Api<'_>, options: &CollectOptions) -> Result<Vec<Policy>> {
    let mut url = graph(options, "deviceManagement/configurationPolicies")?;
    url.query_pairs_mut()
        .append_pair("$select", "id,name,templateReference");
    let mut policies = Vec::new();
    let mut others = 0usize;
    let mut pages = 0usize;
    loop {
        pages += 1;
        let what = format!("the policy list, page {pages}");
        let page: Page<ListedPolicy> = json(
            api.send(
                &Call {
                    service: Service::Graph,
                    method: Method::GET,
                    url: &url,
                    body: None,
                    what: &what,
                    permission: CONFIGURATION_READ,
                },
                Sink::Memory,
            )
            .await,
            &url,
        )?;
        for p in page.value {
            let family = p.template.and_then(|t| t.family).unwrap_or_default();
            if family.starts_with("endpointSecurity") || family == "baseline" {
                policies.push(Policy {
                    name: p.name.unwrap_or_else(|| p.id.clone()),
                    id: p.id,
                });
            } else {
                others += 1;
            }
        }
        match page.next_link {
            Some(next) => url = same_origin(&next, &options.graph_url)?,
            None => break,
        }
    }
    info!(
        "Graph lists {} endpoint security policies and baselines ({others} other policies left out)",
        policies.len()
    );
    Ok(policies)
}

/// Exports `report` (of `policy`, for a per-policy report) into the
/// collection, unless it is there already.
pub async fn export(
    api: &Api<'_>,
    collection: &Collection,
    options: &CollectOptions,
    report: &IntuneReport,
    policy: Option<&Policy>,
) -> Result<Done> {
    let name = match policy {
        Some(p) => format!("intune-{}-{}", report.name, file_safe(&p.id)),
        None => format!("intune-{}", report.name),
    };
    let file = format!("{name}.zip");
    let what = match policy {
        Some(p) => format!("`{}` of policy `{}` ({})", report.name, p.name, p.id),
        None => format!("`{}`", report.name),
    };
    if collection.finished(&file).is_some() {
        return Ok(Done::already());
    }
    let create_url = graph(options, "deviceManagement/reports/exportJobs")?;
    let call = |method: Method, url: &Url, body: Option<Vec<u8>>, what: String| {
        let url = url.clone();
        async move {
            let call = Call {
                service: Service::Graph,
                method,
                url: &url,
                body: body.map(|b| ("application/json", b)),
                what: &what,
                permission: report.permission,
            };
            api.send(&call, Sink::Memory).await
        }
    };

    // The job an earlier run started, if it is still there.
    let mut job = None;
    if let Some(id) = collection.job(&name) {
        let url = job_url(options, &id)?;
        match call(Method::GET, &url, None, what.clone()).await {
            Ok(answer) => {
                let resumed: Job = json(Ok(answer), &url)?;
                if resumed.status == "failed" {
                    collection.forget_job(&name);
                } else {
                    info!(
                        "{what}: resuming the export job `{}` ({})",
                        resumed.id, resumed.status
                    );
                    job = Some(resumed);
                }
            }
            Err(ApiError::NotFound(_)) => collection.forget_job(&name),
            Err(e) => return Err(e.into_error()),
        }
    }
    let mut job = match job {
        Some(job) => job,
        None => {
            let mut body = serde_json::json!({
                "reportName": report.name,
                "format": "csv",
                "localizationType": "LocalizedValuesAsAdditionalColumn",
                "select": report.columns,
            });
            if let Some(p) = policy {
                body["filter"] = format!("(PolicyId eq '{}')", p.id.replace('\'', "''")).into();
            }
            let answer = call(
                Method::POST,
                &create_url,
                Some(body.to_string().into_bytes()),
                what.clone(),
            )
            .await;
            let job: Job = json(answer, &create_url)?;
            check_job_id(&job.id)?;
            collection.save_job(&name, &job.id)?;
            info!("{what}: export job `{}` created", job.id);
            job
        }
    };

    // Poll until Intune has made the file.
    let started = Instant::now();
    let mut wait = options.export_poll;
    let mut last_status = job.status.clone();
    while job.status != "completed" {
        if job.status == "failed" {
            collection.forget_job(&name);
            bail!(Hinted::new(
                format!("{what}: Intune's export job `{}` failed", job.id),
                "the next run starts a new one; if it fails again, try the export in the Intune \
                 admin center",
            ));
        }
        if started.elapsed() + wait > options.export_timeout {
            bail!(Hinted::new(
                format!(
                    "{what}: the export job `{}` is still `{}` after {:.0} s (`export_timeout`)",
                    job.id,
                    job.status,
                    started.elapsed().as_secs_f64()
                ),
                "the next run polls the same job; raise `export_timeout` for a large tenant",
            ));
        }
        tokio::time::sleep(wait).await;
        wait = wait.mul_f64(1.5).min(MAX_POLL);
        let url = job_url(options, &job.id)?;
        job = json(call(Method::GET, &url, None, what.clone()).await, &url)?;
        if job.status != last_status {
            info!(
                "{what}: {} after {:.0} s",
                job.status,
                started.elapsed().as_secs_f64()
            );
            last_status = job.status.clone();
        }
    }

    // The zip, from its signed link: no token goes with it.
    let link = job
        .url
        .as_deref()
        .with_context(|| format!("{what}: the completed export job `{}` has no url", job.id))?;
    let link =
        Url::parse(link).map_err(|e| anyhow!("{what}: the export's url is not a URL: {e}"))?;
    if !is_safe_origin(&link) {
        bail!("{what}: the export's url `{}` is not HTTPS", redact(&link));
    }
    let partial = collection.partial(&file);
    let request = Request {
        method: Method::GET,
        url: &link,
        body: None,
        bearer: None,
        what: &what,
    };
    let bytes = match api.http.send(&request, Sink::File(&partial)).await {
        Ok(Fetched::File(bytes)) => bytes,
        Ok(Fetched::Memory(_)) => unreachable!("asked for a file"),
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            if matches!(e.status().map(|s| s.as_u16()), Some(403 | 404)) {
                // The signed link has expired: a new job gives a new one.
                collection.forget_job(&name);
            }
            return Err(
                anyhow::Error::new(e).context(format!("{what}: cannot download the export"))
            );
        }
    };
    let mut magic = [0u8; 2];
    let is_zip = std::fs::File::open(&partial)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .is_ok()
        && &magic == b"PK";
    if !is_zip {
        let _ = std::fs::remove_file(&partial);
        bail!("{what}: the download from `{}` is not a zip", redact(&link));
    }
    let path = collection.finish(&partial, &file)?;
    collection.forget_job(&name);
    info!("{what}: {bytes} bytes into `{}`", path.display());
    Ok(Done::file(bytes))
}

/// A Graph URL under `graph_url` (which holds the API version).
fn graph(options: &CollectOptions, path: &str) -> Result<Url> {
    let base = options.graph_url.as_str().trim_end_matches('/');
    Url::parse(&format!("{base}/{path}")).map_err(|e| anyhow!("bad Graph URL for `{path}`: {e}"))
}

fn job_url(options: &CollectOptions, id: &str) -> Result<Url> {
    check_job_id(id)?;
    graph(
        options,
        &format!("deviceManagement/reports/exportJobs('{id}')"),
    )
}

/// Job ids go into a URL and a file: only the characters Intune uses.
fn check_job_id(id: &str) -> Result<()> {
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
    {
        bail!("Intune returned an export job id that is not one: `{id}`");
    }
    Ok(())
}

fn file_safe(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A link the service gave (`@odata.nextLink`): followed only on the
/// service's own origin, where its token belongs.
pub fn same_origin(link: &str, base: &Url) -> Result<Url> {
    let url = Url::parse(link).map_err(|e| anyhow!("the service's next link is not a URL: {e}"))?;
    if url.origin() != base.origin() {
        bail!(
            "the service's next link `{}` leaves `{}`; not followed with its token",
            redact(&url),
            redact(base)
        );
    }
    Ok(url)
}

/// An API answer as JSON of type `T`.
fn json<T: serde::de::DeserializeOwned>(answer: Result<Fetched, ApiError>, url: &Url) -> Result<T> {
    match answer {
        Ok(Fetched::Memory(bytes)) => serde_json::from_slice(&bytes).map_err(|e| {
            anyhow!(
                "the answer of `{}` is not what Graph documents: {e}",
                redact(url)
            )
        }),
        Ok(Fetched::File(_)) => unreachable!("asked for memory"),
        Err(e) => Err(e.into_error()),
    }
}

//! One HTTP exchange, with the manners Graph and Defender ask of a client:
//! a timeout on every request; `429` waits as long as `Retry-After` says;
//! `5xx`, timeouts and dropped connections are retried after a jittered,
//! doubling wait; and all of it within a bounded total time. Errors name
//! the URL without its query's values (a download URL carries a signature),
//! and quote the service's message with any secret scrubbed out.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode, header};
use tracing::warn;
use url::Url;

/// How hard one request is tried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// The wait before the first retry; each next one doubles.
    pub first_delay: Duration,
    /// The longest wait between two attempts (unless `Retry-After` says more).
    pub max_delay: Duration,
    /// The most time one request may take, all attempts and waits included.
    pub budget: Duration,
    /// The most one attempt may take (for a download: stay silent).
    pub request_timeout: Duration,
}

/// A request, rebuilt for each attempt.
pub struct Request<'a> {
    pub method: Method,
    pub url: &'a Url,
    /// The body and its content type.
    pub body: Option<(&'static str, Vec<u8>)>,
    pub bearer: Option<&'a str>,
    /// What is being fetched, for progress lines.
    pub what: &'a str,
}

/// Where a response body goes.
pub enum Sink<'a> {
    /// Into memory (API answers: small, at most `MEMORY_LIMIT`).
    Memory,
    /// Into a file, written from its start on every attempt and synced.
    File(&'a Path),
}

pub enum Fetched {
    Memory(Vec<u8>),
    File(u64),
}

/// The most an API answer held in memory may be.
const MEMORY_LIMIT: usize = 64 << 20;

#[derive(Debug)]
pub enum HttpError {
    /// An error status that retrying will not fix.
    Status {
        status: StatusCode,
        url: String,
        message: String,
        /// The identity platform's `error_codes` (AADSTS numbers).
        codes: Vec<u64>,
    },
    /// Retried until the retry time ran out, or told to wait past it.
    GaveUp {
        url: String,
        attempts: u32,
        elapsed: Duration,
        last: String,
    },
    /// A local failure (the disk), not the service's.
    Local(anyhow::Error),
}

impl HttpError {
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            HttpError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpError::Status {
                status,
                url,
                message,
                ..
            } => {
                write!(f, "{status} from `{url}`")?;
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                Ok(())
            }
            HttpError::GaveUp {
                url,
                attempts,
                elapsed,
                last,
            } => {
                write!(
                    f,
                    "gave up after {attempts} attempt(s) in {:.0} s: {last}",
                    elapsed.as_secs_f64()
                )?;
                // The reason names the URL, but for a local one.
                if !last.contains(url.as_str()) {
                    write!(f, " (`{url}`)")?;
                }
                Ok(())
            }
            HttpError::Local(e) => write!(f, "{e:#}"),
        }
    }
}

impl std::error::Error for HttpError {}

/// Texts that must never be printed (the client secret, tokens), replaced
/// by `***` in anything quoted from a service.
#[derive(Debug, Default)]
pub struct Scrub(Mutex<Vec<String>>);

impl Scrub {
    pub fn add(&self, secret: &str) {
        if secret.len() >= 4 {
            self.0.lock().unwrap().push(secret.to_owned());
        }
    }

    pub fn apply(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for secret in self.0.lock().unwrap().iter() {
            text = text.replace(secret.as_str(), "***");
        }
        text
    }
}

pub struct Http {
    client: reqwest::Client,
    policy: RetryPolicy,
    pub scrub: Scrub,
}

impl Http {
    pub fn new(policy: RetryPolicy) -> anyhow::Result<Http> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("posture/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(policy.request_timeout.min(Duration::from_secs(30)))
            .read_timeout(policy.request_timeout)
            // A token must not follow a redirect to another host; the
            // services do not redirect these calls.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| anyhow::anyhow!("cannot set up the HTTP client: {e}"))?;
        Ok(Http {
            client,
            policy,
            scrub: Scrub::default(),
        })
    }

    /// Sends `request` until it succeeds, fails for good, or its retry time
    /// runs out. A `2xx` body goes to `sink`.
    pub async fn send(&self, request: &Request<'_>, sink: Sink<'_>) -> Result<Fetched, HttpError> {
        let started = Instant::now();
        let url = redact(request.url);
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let failure = match self.attempt(request, &sink).await {
                Ok(Attempt::Done(fetched)) => return Ok(fetched),
                Ok(Attempt::Failed(e)) => return Err(e),
                Ok(Attempt::Retry { reason, after }) => (reason, after),
                Err(e) => return Err(HttpError::Local(e)),
            };
            let (reason, retry_after) = failure;
            let backoff = self.backoff(attempts);
            let wait = retry_after.unwrap_or(backoff);
            let elapsed = started.elapsed();
            if elapsed + wait > self.policy.budget {
                let last = match retry_after {
                    Some(after) => format!(
                        "{reason}, and asked to wait {:.0} s more (Retry-After), past `retry_time`",
                        after.as_secs_f64()
                    ),
                    None => reason,
                };
                return Err(HttpError::GaveUp {
                    url,
                    attempts,
                    elapsed,
                    last,
                });
            }
            warn!(
                "{}: {reason}; retrying in {:.1} s{}",
                request.what,
                wait.as_secs_f64(),
                if retry_after.is_some() {
                    " (Retry-After)"
                } else {
                    ""
                }
            );
            tokio::time::sleep(wait).await;
        }
    }

    async fn attempt(&self, request: &Request<'_>, sink: &Sink<'_>) -> anyhow::Result<Attempt> {
        let url = redact(request.url);
        let mut builder = self
            .client
            .request(request.method.clone(), request.url.clone());
        if let Some(token) = request.bearer {
            builder = builder.bearer_auth(token);
        }
        if let Some((content_type, body)) = &request.body {
            builder = builder
                .header(header::CONTENT_TYPE, *content_type)
                .body(body.clone());
        }
        if matches!(sink, Sink::Memory) {
            builder = builder.timeout(self.policy.request_timeout);
        }
        let mut response = match builder.send().await {
            Ok(r) => r,
            Err(e) => {
                return Ok(Attempt::Retry {
                    reason: self.transport(&e, &url),
                    after: None,
                });
            }
        };
        let status = response.status();
        if status.is_success() {
            return match sink {
                Sink::Memory => {
                    let mut body = Vec::new();
                    loop {
                        match response.chunk().await {
                            Ok(Some(chunk)) => {
                                if body.len() + chunk.len() > MEMORY_LIMIT {
                                    return Ok(Attempt::Failed(HttpError::Status {
                                        status,
                                        url,
                                        message: format!(
                                            "the answer is longer than {} MiB",
                                            MEMORY_LIMIT >> 20
                                        ),
                                        codes: vec![],
                                    }));
                                }
                                body.extend_from_slice(&chunk);
                            }
                            Ok(None) => return Ok(Attempt::Done(Fetched::Memory(body))),
                            Err(e) => {
                                return Ok(Attempt::Retry {
                                    reason: self.transport(&e, &url),
                                    after: None,
                                });
                            }
                        }
                    }
                }
                Sink::File(path) => {
                    let mut file = File::create(path)
                        .map_err(|e| anyhow::anyhow!("cannot create `{}`: {e}", path.display()))?;
                    let mut written = 0u64;
                    loop {
                        match response.chunk().await {
                            Ok(Some(chunk)) => {
                                file.write_all(&chunk).map_err(|e| {
                                    anyhow::anyhow!("cannot write `{}`: {e}", path.display())
                                })?;
                                written += chunk.len() as u64;
                            }
                            Ok(None) => break,
                            Err(e) => {
                                return Ok(Attempt::Retry {
                                    reason: self.transport(&e, &url),
                                    after: None,
                                });
                            }
                        }
                    }
                    file.sync_all()
                        .map_err(|e| anyhow::anyhow!("cannot sync `{}`: {e}", path.display()))?;
                    Ok(Attempt::Done(Fetched::File(written)))
                }
            };
        }
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        // The error body says why; read a bounded part of it.
        let mut body = Vec::new();
        while let Ok(Some(chunk)) = response.chunk().await {
            body.extend_from_slice(&chunk);
            if body.len() > 64 << 10 {
                break;
            }
        }
        let (message, codes) = service_message(&body);
        let message = self.scrub.apply(&message);
        let retryable = status == StatusCode::TOO_MANY_REQUESTS
            || matches!(status.as_u16(), 500 | 502 | 503 | 504);
        if retryable {
            let mut reason = format!("{status} from `{url}`");
            if !message.is_empty() {
                reason.push_str(&format!(" ({message})"));
            }
            return Ok(Attempt::Retry {
                reason,
                after: retry_after,
            });
        }
        Ok(Attempt::Failed(HttpError::Status {
            status,
            url,
            message,
            codes,
        }))
    }

    /// Why a request failed before a status came back.
    fn transport(&self, e: &reqwest::Error, url: &str) -> String {
        if e.is_timeout() {
            return format!(
                "no answer from `{url}` within {:.0} s (`request_timeout`)",
                self.policy.request_timeout.as_secs_f64()
            );
        }
        let mut cause = String::new();
        let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
        while let Some(s) = source {
            cause = s.to_string();
            source = s.source();
        }
        let what = if e.is_connect() {
            "cannot connect to"
        } else {
            "the connection failed with"
        };
        if cause.is_empty() {
            format!("{what} `{url}`")
        } else {
            format!("{what} `{url}`: {}", self.scrub.apply(&cause))
        }
    }

    /// The wait before retry `attempt` (1-based): the first delay doubled
    /// each time, capped, with its upper half random so that many clients
    /// do not come back at once.
    fn backoff(&self, attempt: u32) -> Duration {
        let doubled = self
            .policy
            .first_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
        let capped = doubled.min(self.policy.max_delay);
        capped.mul_f64(0.5 + 0.5 * random_unit())
    }
}

enum Attempt {
    Done(Fetched),
    Failed(HttpError),
    Retry {
        reason: String,
        after: Option<Duration>,
    },
}

/// A number in [0, 1).
fn random_unit() -> f64 {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 8];
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        return 0.5;
    }
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

/// `Retry-After`: seconds, or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// A URL fit to print: the query's values are left out (a download URL's
/// signature is a credential), but for the paging and filter parameters.
pub fn redact(url: &Url) -> String {
    const SHOWN: &[&str] = &[
        "$top",
        "$skip",
        "pageSize",
        "$select",
        "$filter",
        "api-version",
    ];
    let mut text = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
    if let Some(port) = url.port() {
        text.push_str(&format!(":{port}"));
    }
    text.push_str(url.path());
    if url.query().is_some() {
        let pairs: Vec<String> = url
            .query_pairs()
            .map(|(k, v)| {
                if SHOWN.contains(&k.as_ref()) {
                    format!("{k}={v}")
                } else {
                    format!("{k}=…")
                }
            })
            .collect();
        text.push('?');
        text.push_str(&pairs.join("&"));
    }
    text
}

/// The message of an error body, from the identity platform
/// (`error_description`), Graph or Defender (`error.message`, which Intune
/// sometimes fills with more JSON), cut to its first sentence that matters.
fn service_message(body: &[u8]) -> (String, Vec<u64>) {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) else {
        return (String::new(), vec![]);
    };
    let codes = json["error_codes"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c.as_u64()).collect())
        .unwrap_or_default();
    let mut message = json["error_description"]
        .as_str()
        .or(json["error"]["message"].as_str())
        .or(json["message"].as_str())
        .or(json["error"].as_str())
        .unwrap_or_default()
        .to_owned();
    if message.trim_start().starts_with('{')
        && let Ok(inner) = serde_json::from_str::<serde_json::Value>(&message)
        && let Some(m) = inner["Message"].as_str().or(inner["message"].as_str())
    {
        message = m.to_owned();
    }
    // Trace ids, timestamps and support ids help no one reading a log.
    for cut in [" - Operation ID", "\r\n", "\n", " Trace ID:"] {
        if let Some(i) = message.find(cut) {
            message.truncate(i);
        }
    }
    let mut message = message.trim().to_owned();
    if message.chars().count() > 400 {
        message = message.chars().take(400).collect::<String>() + "…";
    }
    (message, codes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_query_values_but_paging() {
        let url = Url::parse(
            "https://x.blob.core.windows.net/c/Devices_1.zip?sv=2019-02-02&sig=AbC%2B&se=2020",
        )
        .unwrap();
        assert_eq!(
            redact(&url),
            "https://x.blob.core.windows.net/c/Devices_1.zip?sv=…&sig=…&se=…"
        );
        let url = Url::parse("http://127.0.0.1:8080/api/machines?$top=2&$skip=4").unwrap();
        assert_eq!(
            redact(&url),
            "http://127.0.0.1:8080/api/machines?$top=2&$skip=4"
        );
    }

    #[test]
    fn reads_the_services_error_messages() {
        let aad = br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value.\r\nTrace ID: 1\r\nCorrelation ID: 2","error_codes":[7000215]}"#;
        let (m, codes) = service_message(aad);
        assert_eq!(
            m,
            "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value."
        );
        assert_eq!(codes, [7000215]);
        let intune = br#"{"error":{"code":"Forbidden","message":"{\r\n  \"_version\": 3,\r\n  \"Message\": \"Application is not authorized to perform this operation. Application must have one of the following scopes: DeviceManagementConfiguration.Read.All - Operation ID (for customer support): 0\"}"}}"#;
        assert_eq!(
            service_message(intune).0,
            "Application is not authorized to perform this operation. Application must have one of the following scopes: DeviceManagementConfiguration.Read.All"
        );
        assert_eq!(service_message(b"<html>busy</html>").0, "");
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn backoff_doubles_within_its_cap_and_jitter() {
        let http = Http::new(RetryPolicy {
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            budget: Duration::from_secs(600),
            request_timeout: Duration::from_secs(60),
        })
        .unwrap();
        for (attempt, full) in [(1, 1.0), (2, 2.0), (3, 4.0), (7, 60.0), (30, 60.0)] {
            let wait = http.backoff(attempt).as_secs_f64();
            assert!(wait >= full / 2.0 && wait <= full, "{attempt}: {wait}");
        }
    }

    #[test]
    fn scrubs_secrets_from_quoted_text() {
        let scrub = Scrub::default();
        scrub.add("hunter2-secret");
        assert_eq!(scrub.apply("echo: hunter2-secret!"), "echo: ***!");
    }
}

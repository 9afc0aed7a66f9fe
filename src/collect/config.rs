//! The `[collect]` table of posture.toml, resolved into [`CollectOptions`]:
//! which reports to fetch, from which tenant, how gently, and the app's
//! credentials, read from the environment or from the files the table names
//! (never from the command line, never from posture.toml itself).

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use url::Url;

use super::sources::{self, DefenderApi, IntuneReport};
use crate::Hinted;

pub const ENV_TENANT_ID: &str = "POSTURE_TENANT_ID";
pub const ENV_CLIENT_ID: &str = "POSTURE_CLIENT_ID";
pub const ENV_CLIENT_SECRET: &str = "POSTURE_CLIENT_SECRET";

/// The keys of `[collect]`, as written in the file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectConfig {
    /// The Entra tenant (directory) id; `POSTURE_TENANT_ID` wins.
    pub tenant_id: Option<String>,
    /// The app registration's application (client) id; `POSTURE_CLIENT_ID` wins.
    pub client_id: Option<String>,
    /// A file holding the client secret (`POSTURE_CLIENT_SECRET` instead).
    pub client_secret_file: Option<PathBuf>,
    /// The app's certificate (PEM), with `private_key_file`, instead of a secret.
    pub certificate_file: Option<PathBuf>,
    /// The certificate's private key (PEM, PKCS#8 or PKCS#1, unencrypted).
    pub private_key_file: Option<PathBuf>,
    /// Intune reports to export (default: `sources::DEFAULT_INTUNE_REPORTS`).
    pub intune_reports: Option<Vec<String>>,
    /// Defender for Endpoint APIs to read (default: all of `sources::DEFENDER_APIS`).
    pub defender: Option<Vec<String>>,
    /// The policies of per-policy reports (default: the endpoint security
    /// policies and security baselines listed from Graph).
    pub policy_ids: Option<Vec<String>>,
    /// Downloads in flight at once.
    pub concurrency: Option<usize>,
    /// Seconds one request may take (for a download: may stay silent).
    pub request_timeout: Option<f64>,
    /// Seconds one request may take with all its retries.
    pub retry_time: Option<f64>,
    /// Seconds before the first retry; each next wait doubles, up to 60.
    pub retry_first_delay: Option<f64>,
    /// Seconds an export job may take to complete.
    pub export_timeout: Option<f64>,
    /// Seconds before an export job is first polled; each next wait grows
    /// by half, up to 60.
    pub export_poll: Option<f64>,
    /// Rows per page of the Defender APIs (default: each API's largest).
    pub page_size: Option<u32>,
    /// A collection that stopped short is resumed by a run started within
    /// this many hours of it; later, a new one starts.
    pub resume_within_hours: Option<f64>,
    pub login_url: Option<String>,
    pub graph_url: Option<String>,
    pub graph_scope: Option<String>,
    pub defender_url: Option<String>,
    pub defender_scope: Option<String>,
    /// Refused: a secret does not belong in posture.toml.
    client_secret: Option<serde::de::IgnoredAny>,
}

/// A credential, held so that it prints as `***` (in `Debug` too).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[derive(Debug, Clone)]
pub enum Credential {
    Secret(Secret),
    Certificate {
        /// The certificate, DER-encoded (its SHA-256 names it to Entra).
        certificate_der: Vec<u8>,
        /// The private key's PEM text.
        private_key: Secret,
    },
}

/// Everything a collection needs, checked.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    pub inbox: PathBuf,
    pub tenant_id: String,
    pub client_id: String,
    pub credential: Credential,
    pub intune_reports: Vec<&'static IntuneReport>,
    pub defender: Vec<&'static DefenderApi>,
    pub policy_ids: Option<Vec<String>>,
    pub concurrency: usize,
    pub request_timeout: Duration,
    pub retry_time: Duration,
    pub retry_first_delay: Duration,
    pub export_timeout: Duration,
    pub export_poll: Duration,
    pub page_size: Option<u32>,
    pub resume_within: Duration,
    pub login_url: Url,
    pub graph_url: Url,
    pub graph_scope: String,
    pub defender_url: Url,
    pub defender_scope: String,
}

/// The collect step of `posture run`: the table and the folder its
/// relative paths start from, resolved when the step runs.
#[derive(Debug, Clone)]
pub struct CollectStep {
    pub config: CollectConfig,
    pub base: PathBuf,
}

const DEFAULT_LOGIN_URL: &str = "https://login.microsoftonline.com";
const DEFAULT_GRAPH_URL: &str = "https://graph.microsoft.com/v1.0";
const DEFAULT_GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
const DEFAULT_DEFENDER_URL: &str = "https://api.security.microsoft.com";
const DEFAULT_DEFENDER_SCOPE: &str = "https://api.securitycenter.microsoft.com/.default";
/// The most downloads in flight: Intune allows an app 48 export requests a
/// minute, and the Defender APIs 30 to 100.
const MAX_CONCURRENCY: usize = 8;

impl CollectConfig {
    /// Resolves the table: defaults, checks, and the credentials from
    /// `env` (the process environment, or a test's) or the files named.
    /// Relative paths start from `base`, the config file's folder.
    pub fn resolve(
        &self,
        base: &Path,
        inbox: PathBuf,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<CollectOptions> {
        if self.client_secret.is_some() {
            bail!(Hinted::new(
                "`client_secret` in posture.toml is refused: the config file is no place for a secret",
                format!(
                    "put the secret in a file readable only by posture's user and name it with \
                     `client_secret_file`, or set `{ENV_CLIENT_SECRET}` in the job's environment; \
                     then remove the key and replace the secret, which may have been copied with \
                     the file"
                ),
            ));
        }
        let from_env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let required = |value: Option<String>, key: &str, var: &str| {
            value.with_context(|| {
                Hinted::new(
                    format!("`posture collect` needs `{key}`"),
                    format!("set `{key}` in the `[collect]` table of posture.toml, or `{var}`"),
                )
            })
        };
        let tenant_id = required(
            from_env(ENV_TENANT_ID).or(self.tenant_id.clone()),
            "tenant_id",
            ENV_TENANT_ID,
        )?;
        let client_id = required(
            from_env(ENV_CLIENT_ID).or(self.client_id.clone()),
            "client_id",
            ENV_CLIENT_ID,
        )?;
        for (key, value) in [("tenant_id", &tenant_id), ("client_id", &client_id)] {
            if !value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
            {
                bail!(Hinted::new(
                    format!("`{key}` `{value}` is not an id"),
                    "use the GUID of the app registration's overview page (the tenant may also \
                     be its primary domain, e.g. `contoso.onmicrosoft.com`)",
                ));
            }
        }
        let credential = self.credential(base, &from_env)?;

        let intune_reports = match &self.intune_reports {
            Some(names) => names
                .iter()
                .map(|name| {
                    sources::intune_report(name).with_context(|| {
                        Hinted::new(
                            format!("unknown Intune report `{name}` in `intune_reports`"),
                            format!(
                                "known reports: {}",
                                sources::INTUNE_REPORTS
                                    .iter()
                                    .map(|r| r.name)
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        )
                    })
                })
                .collect::<Result<Vec<_>>>()?,
            None => sources::DEFAULT_INTUNE_REPORTS
                .iter()
                .filter_map(|name| sources::intune_report(name))
                .collect(),
        };
        let defender = match &self.defender {
            Some(names) => names
                .iter()
                .map(|name| {
                    sources::defender_api(name).with_context(|| {
                        Hinted::new(
                            format!("unknown Defender for Endpoint API `{name}` in `defender`"),
                            format!(
                                "known APIs: {}",
                                sources::DEFENDER_APIS
                                    .iter()
                                    .map(|a| a.name)
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        )
                    })
                })
                .collect::<Result<Vec<_>>>()?,
            None => sources::DEFENDER_APIS.iter().collect(),
        };
        if let Some(ids) = &self.policy_ids
            && let Some(bad) = ids.iter().find(|id| !is_policy_id(id))
        {
            bail!(Hinted::new(
                format!("`policy_ids` holds `{bad}`, which is not a policy id"),
                "a policy id is the GUID at the end of the policy's address in the Intune admin center",
            ));
        }

        let concurrency = self.concurrency.unwrap_or(2);
        if !(1..=MAX_CONCURRENCY).contains(&concurrency) {
            bail!(Hinted::new(
                format!("`concurrency` must be from 1 to {MAX_CONCURRENCY}, not {concurrency}"),
                "the services throttle an app that asks too much at once; 2 is gentle",
            ));
        }
        let login_url = base_url(self.login_url.as_deref(), DEFAULT_LOGIN_URL, "login_url")?;
        let graph_url = base_url(self.graph_url.as_deref(), DEFAULT_GRAPH_URL, "graph_url")?;
        let defender_url = base_url(
            self.defender_url.as_deref(),
            DEFAULT_DEFENDER_URL,
            "defender_url",
        )?;
        Ok(CollectOptions {
            inbox,
            tenant_id,
            client_id,
            credential,
            intune_reports,
            defender,
            policy_ids: self.policy_ids.clone(),
            concurrency,
            request_timeout: seconds(self.request_timeout, 60.0, "request_timeout")?,
            retry_time: seconds(self.retry_time, 600.0, "retry_time")?,
            retry_first_delay: seconds(self.retry_first_delay, 1.0, "retry_first_delay")?,
            export_timeout: seconds(self.export_timeout, 3600.0, "export_timeout")?,
            export_poll: seconds(self.export_poll, 10.0, "export_poll")?,
            page_size: self.page_size,
            resume_within: seconds(
                self.resume_within_hours.map(|h| h * 3600.0),
                12.0 * 3600.0,
                "resume_within_hours",
            )?,
            login_url,
            graph_url,
            graph_scope: self
                .graph_scope
                .clone()
                .unwrap_or_else(|| DEFAULT_GRAPH_SCOPE.into()),
            defender_url,
            defender_scope: self
                .defender_scope
                .clone()
                .unwrap_or_else(|| DEFAULT_DEFENDER_SCOPE.into()),
        })
    }

    fn credential(
        &self,
        base: &Path,
        from_env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Credential> {
        let secret_env = from_env(ENV_CLIENT_SECRET);
        let certificate = match (&self.certificate_file, &self.private_key_file) {
            (Some(cert), Some(key)) => Some((base.join(cert), base.join(key))),
            (None, None) => None,
            _ => bail!(Hinted::new(
                "`certificate_file` and `private_key_file` go together",
                "name both the certificate (PEM) and its private key (PEM), or neither",
            )),
        };
        let choices = usize::from(secret_env.is_some())
            + usize::from(self.client_secret_file.is_some())
            + usize::from(certificate.is_some());
        if choices > 1 {
            bail!(Hinted::new(
                "more than one credential is configured",
                format!(
                    "use one of `{ENV_CLIENT_SECRET}`, `client_secret_file`, or \
                     `certificate_file` with `private_key_file`"
                ),
            ));
        }
        if let Some(secret) = secret_env {
            return Ok(Credential::Secret(Secret::new(secret.trim().to_owned())));
        }
        if let Some(file) = &self.client_secret_file {
            let file = base.join(file);
            let text = read_private(&file, "the client secret file")?;
            let secret = text.trim();
            if secret.is_empty() {
                bail!(Hinted::new(
                    format!("the client secret file `{}` is empty", file.display()),
                    "write the secret's value (not its id) into it",
                ));
            }
            return Ok(Credential::Secret(Secret::new(secret.to_owned())));
        }
        if let Some((cert, key)) = certificate {
            let cert_text = std::fs::read_to_string(&cert)
                .with_context(|| format!("cannot read the certificate `{}`", cert.display()))?;
            let certificate_der = pem_block(&cert_text, &["CERTIFICATE"]).with_context(|| {
                Hinted::new(
                    format!("`{}` holds no PEM certificate", cert.display()),
                    "give the certificate uploaded to the app registration, as PEM \
                     (`-----BEGIN CERTIFICATE-----`)",
                )
            })?;
            let private_key = Secret::new(read_private(&key, "the private key file")?);
            return Ok(Credential::Certificate {
                certificate_der,
                private_key,
            });
        }
        bail!(Hinted::new(
            "`posture collect` needs the app's credential",
            format!(
                "set `{ENV_CLIENT_SECRET}` in the job's environment, or name a file with \
                 `client_secret_file`, or `certificate_file` and `private_key_file`, in the \
                 `[collect]` table (docs/collect.md)"
            ),
        ))
    }
}

/// Reads a file holding a secret; warns when other users may read it. The
/// error never holds the file's content.
fn read_private(file: &Path, what: &str) -> Result<String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| anyhow::anyhow!("cannot read {what} `{}`: {}", file.display(), e.kind()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(file)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                "{what} `{}` may be read by other users (mode {:o}); `chmod 600` it",
                file.display(),
                meta.permissions().mode() & 0o777
            );
        }
    }
    Ok(text)
}

/// The DER bytes of the first PEM block with one of `labels`.
pub fn pem_block(text: &str, labels: &[&str]) -> Option<Vec<u8>> {
    use base64::Engine;
    let mut lines = text.lines().map(str::trim);
    let label = loop {
        let line = lines.next()?;
        if let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
            && labels.contains(&label)
        {
            break label;
        }
    };
    let end = format!("-----END {label}-----");
    let mut body = String::new();
    for line in lines {
        if line == end {
            return base64::engine::general_purpose::STANDARD.decode(body).ok();
        }
        body.push_str(line);
    }
    None
}

fn is_policy_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A positive number of seconds, with its default.
fn seconds(value: Option<f64>, default: f64, key: &str) -> Result<Duration> {
    let value = value.unwrap_or(default);
    if !value.is_finite() || value <= 0.0 || value > 7.0 * 24.0 * 3600.0 {
        bail!(Hinted::new(
            format!("`{key}` must be a positive number of seconds, not {value}"),
            format!("e.g. `{key} = {default}`"),
        ));
    }
    Ok(Duration::from_secs_f64(value))
}

/// A service's base URL: HTTPS, or plain HTTP to this machine only (a test
/// server), so that a token never crosses a network in clear text.
fn base_url(value: Option<&str>, default: &str, key: &str) -> Result<Url> {
    let text = value.unwrap_or(default).trim_end_matches('/');
    let url = Url::parse(text).map_err(|e| {
        Hinted::new(
            format!("`{key}` `{text}` is not a URL: {e}"),
            format!("e.g. `{key} = \"{default}\"`"),
        )
    })?;
    if !is_safe_origin(&url) {
        bail!(Hinted::new(
            format!("`{key}` `{text}` is not HTTPS"),
            "tokens and reports travel over HTTPS only (plain HTTP is allowed to this machine, for tests)",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        bail!(Hinted::new(
            format!("`{key}` `{text}` has a query or fragment"),
            format!("give the base URL only, e.g. `{default}`"),
        ));
    }
    Ok(url)
}

/// HTTPS anywhere, or HTTP to a loopback address.
pub fn is_safe_origin(url: &Url) -> bool {
    match url.scheme() {
        "https" => url.host().is_some(),
        "http" => match url.host() {
            Some(url::Host::Domain(d)) => d == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    fn config(text: &str) -> CollectConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn resolves_defaults_with_the_secret_from_the_environment() {
        let env = env_of(&[
            (ENV_TENANT_ID, "tenant-1"),
            (ENV_CLIENT_ID, "client-1"),
            (ENV_CLIENT_SECRET, "s3cr3t\n"),
        ]);
        let o = config("")
            .resolve(Path::new("."), "inbox".into(), &env)
            .unwrap();
        assert_eq!(o.tenant_id, "tenant-1");
        assert!(matches!(&o.credential, Credential::Secret(s) if s.expose() == "s3cr3t"));
        assert_eq!(
            o.intune_reports.len(),
            sources::DEFAULT_INTUNE_REPORTS.len()
        );
        assert_eq!(o.defender.len(), 3);
        assert_eq!(o.concurrency, 2);
        assert_eq!(o.graph_url.as_str(), "https://graph.microsoft.com/v1.0");
        assert_eq!(o.defender_scope, DEFAULT_DEFENDER_SCOPE);
        // Neither form of the options prints the secret.
        assert!(!format!("{o:?}").contains("s3cr3t"));
    }

    #[test]
    fn refuses_a_secret_in_the_file_plain_http_and_unknown_reports() {
        let env = env_of(&[(ENV_TENANT_ID, "t"), (ENV_CLIENT_ID, "c")]);
        let base = Path::new(".");
        let err = |text: &str| {
            let e = config(text).resolve(base, "i".into(), &env).unwrap_err();
            assert!(!format!("{e:#}").contains("hunter2"), "{e:#}");
            format!("{e:#}")
        };
        assert!(
            err("client_secret = \"hunter2\"")
                .contains("`client_secret` in posture.toml is refused")
        );
        assert!(err("").contains("needs the app's credential"));
        let with_secret = env_of(&[
            (ENV_TENANT_ID, "t"),
            (ENV_CLIENT_ID, "c"),
            (ENV_CLIENT_SECRET, "x"),
        ]);
        let e = config("graph_url = \"http://graph.example.com/v1.0\"")
            .resolve(base, "i".into(), &with_secret)
            .unwrap_err();
        assert!(format!("{e:#}").contains("is not HTTPS"), "{e:#}");
        let o = config("graph_url = \"http://127.0.0.1:8080/v1.0/\"")
            .resolve(base, "i".into(), &with_secret)
            .unwrap();
        assert_eq!(o.graph_url.as_str(), "http://127.0.0.1:8080/v1.0");
        let e = config("intune_reports = [\"Nope\"]")
            .resolve(base, "i".into(), &with_secret)
            .unwrap_err();
        assert!(format!("{e:#}").contains("unknown Intune report `Nope`"));
        let e = config("concurrency = 0")
            .resolve(base, "i".into(), &with_secret)
            .unwrap_err();
        assert!(format!("{e:#}").contains("`concurrency` must be from 1 to 8"));
    }

    #[test]
    fn reads_the_first_pem_block_of_a_label() {
        let text = "junk\n-----BEGIN CERTIFICATE-----\nAAEC\nAw==\n-----END CERTIFICATE-----\n";
        assert_eq!(pem_block(text, &["CERTIFICATE"]), Some(vec![0, 1, 2, 3]));
        assert_eq!(pem_block(text, &["PRIVATE KEY"]), None);
    }
}

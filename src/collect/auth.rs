//! Access tokens from the Microsoft identity platform by the OAuth 2.0
//! client credentials grant: with the client secret, or with a client
//! assertion (a JWT signed by the app's certificate key, RSA-PSS SHA-256,
//! named by the certificate's SHA-256 thumbprint). One token per service,
//! cached until shortly before it expires, renewed at once when a service
//! refuses it. The identity platform's refusals become errors that say what
//! to fix; no error, log line or file ever holds a secret or a token.

use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use base64::Engine;
use futures::lock::Mutex;
use reqwest::Method;
use serde::Deserialize;
use url::Url;

use super::config::{CollectOptions, Credential, Secret, pem_block};
use super::http::{Fetched, Http, HttpError, Request, Sink};
use crate::Hinted;

/// The services a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Graph,
    Defender,
}

impl Service {
    pub fn label(self) -> &'static str {
        match self {
            Service::Graph => "Microsoft Graph",
            Service::Defender => "Defender for Endpoint",
        }
    }

    fn index(self) -> usize {
        match self {
            Service::Graph => 0,
            Service::Defender => 1,
        }
    }
}

/// A token is renewed this long before it expires.
const RENEW_BEFORE: Duration = Duration::from_secs(300);

#[derive(Clone)]
pub struct Token {
    pub value: Secret,
    expires: Instant,
    /// Which issue of the service's token this is, so that a refusal
    /// drops only the token that was refused.
    pub generation: u64,
}

pub struct Tokens {
    token_url: Url,
    tenant_id: String,
    client_id: String,
    credential: Credential,
    scopes: [String; 2],
    cache: Mutex<[Option<Token>; 2]>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

impl Tokens {
    pub fn new(options: &CollectOptions) -> Result<Tokens> {
        let mut token_url = options.login_url.clone();
        token_url
            .path_segments_mut()
            .map_err(|()| anyhow!("`login_url` cannot be a base URL"))?
            .pop_if_empty()
            .extend([options.tenant_id.as_str(), "oauth2", "v2.0", "token"]);
        Ok(Tokens {
            token_url,
            tenant_id: options.tenant_id.clone(),
            client_id: options.client_id.clone(),
            credential: options.credential.clone(),
            scopes: [options.graph_scope.clone(), options.defender_scope.clone()],
            cache: Mutex::new([None, None]),
        })
    }

    /// A valid token for `service`, from the cache or freshly issued.
    pub async fn get(&self, http: &Http, service: Service) -> Result<Token> {
        let mut cache = self.cache.lock().await;
        let slot = &mut cache[service.index()];
        if let Some(token) = slot
            && token.expires > Instant::now() + RENEW_BEFORE
        {
            return Ok(token.clone());
        }
        let generation = slot.as_ref().map_or(1, |t| t.generation + 1);
        let token = self.request(http, service, generation).await?;
        *slot = Some(token.clone());
        Ok(token)
    }

    /// Drops `refused` (a service answered `401` to it), unless a newer
    /// token has replaced it already.
    pub async fn refused(&self, service: Service, refused: &Token) {
        let mut cache = self.cache.lock().await;
        let slot = &mut cache[service.index()];
        if slot
            .as_ref()
            .is_some_and(|t| t.generation == refused.generation)
        {
            *slot = None;
        }
    }

    async fn request(&self, http: &Http, service: Service, generation: u64) -> Result<Token> {
        let scope = &self.scopes[service.index()];
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "client_credentials")
            .append_pair("client_id", &self.client_id)
            .append_pair("scope", scope);
        match &self.credential {
            Credential::Secret(secret) => {
                http.scrub.add(secret.expose());
                form.append_pair("client_secret", secret.expose());
            }
            Credential::Certificate {
                certificate_der,
                private_key,
            } => {
                let assertion = client_assertion(
                    &self.client_id,
                    self.token_url.as_str(),
                    certificate_der,
                    private_key,
                )?;
                http.scrub.add(&assertion);
                form.append_pair(
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                )
                .append_pair("client_assertion", &assertion);
            }
        }
        let body = Secret::new(form.finish());
        let what = format!("the {} token", service.label());
        let request = Request {
            method: Method::POST,
            url: &self.token_url,
            body: Some((
                "application/x-www-form-urlencoded",
                body.expose().as_bytes().to_vec(),
            )),
            bearer: None,
            what: &what,
        };
        let started = Instant::now();
        let answer = match http.send(&request, Sink::Memory).await {
            Ok(Fetched::Memory(bytes)) => bytes,
            Ok(Fetched::File(_)) => unreachable!("asked for memory"),
            Err(e) => return Err(self.refusal(e, service, scope)),
        };
        let parsed: TokenResponse = serde_json::from_slice(&answer).map_err(|_| {
            anyhow!(
                "the identity platform's answer at `{}` is not a token",
                super::http::redact(&self.token_url)
            )
        })?;
        http.scrub.add(&parsed.access_token);
        // `expires_in` is a number of seconds (some clouds send it as text).
        let lifetime = parsed
            .expires_in
            .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
            .unwrap_or(3599);
        Ok(Token {
            value: Secret::new(parsed.access_token),
            expires: started + Duration::from_secs(lifetime),
            generation,
        })
    }

    /// What a refused token request means, and what to do about it.
    fn refusal(&self, e: HttpError, service: Service, scope: &str) -> anyhow::Error {
        let HttpError::Status {
            status,
            message,
            codes,
            ..
        } = &e
        else {
            return anyhow!("cannot get a {} token: {e}", service.label());
        };
        let tenant = &self.tenant_id;
        let client = &self.client_id;
        let code = codes.first().copied().unwrap_or(0);
        let (what, hint) = match code {
            90002 | 900023 | 90013 => (
                format!("the tenant `{tenant}` does not exist"),
                "check `tenant_id` (or POSTURE_TENANT_ID): the Directory (tenant) ID of the app \
                 registration's overview page"
                    .to_owned(),
            ),
            700016 => (
                format!("there is no app `{client}` in the tenant `{tenant}`"),
                "check `client_id` (or POSTURE_CLIENT_ID): the Application (client) ID of the app \
                 registration, in the tenant it was registered in"
                    .to_owned(),
            ),
            7000215 => (
                "the client secret was refused".to_owned(),
                "give the secret's Value (not its Secret ID), as shown once when it was created; \
                 if it is lost, create a new one (docs/collect.md)"
                    .to_owned(),
            ),
            7000222 => (
                "the client secret has expired".to_owned(),
                "create a new client secret for the app registration and replace the old one"
                    .to_owned(),
            ),
            700027 | 700024 | 700023 | 5002223 => (
                "the certificate assertion was refused".to_owned(),
                "upload this certificate to the app registration (Certificates & secrets), and \
                 check that it has not expired and that the private key is its own"
                    .to_owned(),
            ),
            70011 | 1002012 => (
                format!("the scope `{scope}` was refused"),
                format!(
                    "check `{}` for this cloud (docs/collect.md)",
                    match service {
                        Service::Graph => "graph_scope",
                        Service::Defender => "defender_scope",
                    }
                ),
            ),
            7000229 | 500011 => (
                format!(
                    "the tenant `{tenant}` has no service principal for {}",
                    service.label()
                ),
                "grant admin consent to the app's API permissions in this tenant (docs/collect.md)"
                    .to_owned(),
            ),
            _ => (
                format!("the identity platform refused the token request ({status})"),
                "see docs/collect.md, \"Registering the app\"".to_owned(),
            ),
        };
        let detail = if message.is_empty() {
            String::new()
        } else {
            format!(": {message}")
        };
        anyhow::Error::new(Hinted::new(
            format!("cannot get a {} token: {what}{detail}", service.label()),
            hint,
        ))
    }
}

/// The JWT that proves the app holds its certificate's private key
/// (Microsoft identity platform "certificate credentials").
fn client_assertion(
    client_id: &str,
    audience: &str,
    certificate_der: &[u8],
    private_key: &Secret,
) -> Result<String> {
    use ring::rand::SecureRandom;
    use ring::signature::{RSA_PSS_SHA256, RsaKeyPair};

    let key_pem = private_key.expose();
    let key = if let Some(der) = pem_block(key_pem, &["PRIVATE KEY"]) {
        RsaKeyPair::from_pkcs8(&der)
    } else if let Some(der) = pem_block(key_pem, &["RSA PRIVATE KEY"]) {
        RsaKeyPair::from_der(&der)
    } else if key_pem.contains("ENCRYPTED PRIVATE KEY") {
        return Err(Hinted::new(
            "the private key file holds an encrypted key",
            "give it unencrypted (`openssl pkey -in key.pem -out plain.pem`), readable only by \
             posture's user",
        )
        .into());
    } else {
        return Err(Hinted::new(
            "the private key file holds no RSA private key in PEM",
            "give the key of the certificate uploaded to the app registration, as PEM \
             (`-----BEGIN PRIVATE KEY-----`)",
        )
        .into());
    }
    .map_err(|e| {
        Hinted::new(
            format!("the private key cannot sign: {e}"),
            "give an RSA key of at least 2048 bits, the certificate's own",
        )
    })?;

    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let thumbprint = ring::digest::digest(&ring::digest::SHA256, certificate_der);
    let header = serde_json::json!({
        "alg": "PS256",
        "typ": "JWT",
        "x5t#S256": b64.encode(thumbprint.as_ref()),
    });
    let rng = ring::rand::SystemRandom::new();
    let mut jti = [0u8; 16];
    rng.fill(&mut jti)
        .map_err(|_| anyhow!("no randomness for the client assertion"))?;
    let now = chrono::Utc::now().timestamp();
    let claims = serde_json::json!({
        "aud": audience,
        "iss": client_id,
        "sub": client_id,
        "jti": jti.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    });
    let signing_input = format!(
        "{}.{}",
        b64.encode(header.to_string()),
        b64.encode(claims.to_string())
    );
    let mut signature = vec![0u8; key.public().modulus_len()];
    key.sign(
        &RSA_PSS_SHA256,
        &rng,
        signing_input.as_bytes(),
        &mut signature,
    )
    .map_err(|_| anyhow!("the private key could not sign the client assertion"))?;
    Ok(format!("{signing_input}.{}", b64.encode(signature)))
}

/// Requests to a service with its token: a `401` (the token expired, or
/// was revoked) gets a fresh token and one more try; a `403` names the
/// permission the app lacks.
pub struct Api<'a> {
    pub http: &'a Http,
    pub tokens: &'a Tokens,
}

/// What an authorized request is, for its messages.
pub struct Call<'a> {
    pub service: Service,
    pub method: Method,
    pub url: &'a Url,
    pub body: Option<(&'static str, Vec<u8>)>,
    pub what: &'a str,
    /// The application permission the call needs.
    pub permission: &'a str,
}

impl Api<'_> {
    pub async fn send(&self, call: &Call<'_>, sink: Sink<'_>) -> Result<Fetched, ApiError> {
        let mut refreshed = false;
        loop {
            let token = self
                .tokens
                .get(self.http, call.service)
                .await
                .map_err(ApiError::Auth)?;
            let request = Request {
                method: call.method.clone(),
                url: call.url,
                body: call.body.clone(),
                bearer: Some(token.value.expose()),
                what: call.what,
            };
            let sink = match &sink {
                Sink::Memory => Sink::Memory,
                Sink::File(path) => Sink::File(path),
            };
            match self.http.send(&request, sink).await {
                Err(e) if e.status() == Some(reqwest::StatusCode::UNAUTHORIZED) && !refreshed => {
                    tracing::info!(
                        "{}: the {} token was refused ({e}); getting a new one",
                        call.what,
                        call.service.label()
                    );
                    self.tokens.refused(call.service, &token).await;
                    refreshed = true;
                }
                Err(e) if e.status() == Some(reqwest::StatusCode::FORBIDDEN) => {
                    return Err(ApiError::Forbidden {
                        what: call.what.to_owned(),
                        service: call.service,
                        permission: call.permission.to_owned(),
                        error: e,
                    });
                }
                Err(e) if e.status() == Some(reqwest::StatusCode::NOT_FOUND) => {
                    return Err(ApiError::NotFound(e));
                }
                other => return other.map_err(ApiError::Http),
            }
        }
    }
}

#[derive(Debug)]
pub enum ApiError {
    Auth(anyhow::Error),
    Forbidden {
        what: String,
        service: Service,
        permission: String,
        error: HttpError,
    },
    NotFound(HttpError),
    Http(HttpError),
}

impl ApiError {
    /// As an error for the user, with its hint.
    pub fn into_error(self) -> anyhow::Error {
        match self {
            ApiError::Auth(e) => e,
            ApiError::Forbidden {
                what,
                service,
                permission,
                error,
            } => {
                let api = match service {
                    Service::Graph => "Microsoft Graph",
                    Service::Defender => "WindowsDefenderATP",
                };
                anyhow::Error::new(Hinted::new(
                    format!(
                        "{what}: the app lacks the {api} application permission `{permission}` ({error})"
                    ),
                    format!(
                        "in the app registration, add the {api} application permission \
                         `{permission}` and grant admin consent (docs/collect.md); the next run \
                         resumes"
                    ),
                ))
            }
            ApiError::NotFound(e) | ApiError::Http(e) => anyhow::Error::new(e),
        }
    }
}

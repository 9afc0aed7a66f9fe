//! A Microsoft tenant on loopback, for the collect tests: the identity
//! platform's token endpoint (client secret, or a certificate's signed
//! assertion, checked), Graph's `configurationPolicies` and `exportJobs`
//! (create, then a few `inProgress` polls, then `completed` with a signed
//! link), the export download, and the Defender for Endpoint `machines`,
//! `SecureConfigurationsAssessmentByMachine` and `deviceavinfo` pages with
//! `@odata.nextLink`, answering as Microsoft documents them. Faults are
//! injected by rule (a `429` with `Retry-After`, a `503`, a slow answer, a
//! token that expires, a `403`, a download that stalls). Every request is
//! logged and every body of a page or download kept, so that a test can
//! compare the inbox with what was served, byte for byte.
//!
//! Plain `std` threads and HTTP/1.1 with `Connection: close`: small,
//! deterministic, and no dependency to build.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

pub const TENANT: &str = "contoso-0001";
pub const CLIENT: &str = "posture-app-0001";
/// The client secret: distinctive, so that a test can look for it anywhere.
pub const SECRET: &str = "Zq8~secret.VALUE_posture-test-7f3c";
/// The signature of the export's download link: a credential too.
pub const SAS_SIG: &str = "SASsig-posture-test-91d2";
/// Every access token issued starts with this.
pub const TOKEN_PREFIX: &str = "eyTOKEN-posture-test-";
pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
pub const DEFENDER_SCOPE: &str = "https://api.securitycenter.microsoft.com/.default";

/// A fault: the `nth` request (1-based) whose path and query, or body,
/// contain `path` gets `action` instead of its answer.
#[derive(Debug, Clone)]
pub struct Fault {
    pub path: &'static str,
    pub nth: usize,
    pub action: Action,
}

#[derive(Debug, Clone)]
pub enum Action {
    /// `429` with `Retry-After: seconds`.
    TooMany(u64),
    /// `503`.
    Unavailable,
    /// The answer, after this long (past the client's timeout).
    Slow(Duration),
    /// `403`, with the service's message.
    Forbidden(&'static str),
    /// `401`: the token has expired (and stays refused).
    Expired,
    /// The headers and half the body, then nothing until the test ends.
    Stall,
}

/// What the tenant holds; a test changes it between nights.
#[derive(Debug, Clone)]
pub struct Data {
    /// (id, name, templateFamily)
    pub policies: Vec<(String, String, String)>,
    pub machines: Vec<Value>,
    pub assessments: Vec<Value>,
    pub avinfo: Vec<Value>,
    /// The CSV of each report (per policy: keyed `Report/policy`).
    pub exports: HashMap<String, String>,
    /// `inProgress` answers before `completed`.
    pub polls_before_complete: usize,
    /// Whether `machines` pages carry `@odata.nextLink` (else the client
    /// must page on with `$skip`).
    pub machines_next_link: bool,
}

#[derive(Debug, Clone)]
pub struct Logged {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub authorization: Option<String>,
    pub status: u16,
    /// The request body (not kept for the token endpoint: it holds the
    /// credential).
    pub body: String,
    pub at: std::time::Instant,
}

struct Job {
    report: String,
    policy: Option<String>,
    polls: usize,
    zip: Vec<u8>,
}

struct State {
    addr: SocketAddr,
    data: Data,
    faults: Vec<(Fault, usize)>,
    log: Vec<Logged>,
    served: HashMap<String, Vec<u8>>,
    jobs: HashMap<String, Job>,
    job_seq: usize,
    /// token -> (scope, refused)
    tokens: HashMap<String, (String, bool)>,
    token_seq: usize,
    stalled: bool,
    public_key: Vec<u8>,
    cert_thumbprint: String,
}

pub struct FakeTenant {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    delay: Option<Duration>,
    stall: bool,
}

impl Reply {
    fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
            delay: None,
            stall: false,
        }
    }

    fn bytes(content_type: &str, body: Vec<u8>) -> Reply {
        Reply {
            status: 200,
            headers: vec![("Content-Type".into(), content_type.into())],
            body,
            delay: None,
            stall: false,
        }
    }

    fn error(status: u16, code: &str, message: &str) -> Reply {
        Reply::json(status, json!({"error": {"code": code, "message": message}}))
    }
}

impl FakeTenant {
    pub fn start(data: Data) -> FakeTenant {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let key_pem = std::fs::read_to_string(fixture("test-key.pem")).unwrap();
        let key_der = pem(&key_pem, "PRIVATE KEY");
        let key = ring::signature::RsaKeyPair::from_pkcs8(&key_der).unwrap();
        let cert_der = pem(
            &std::fs::read_to_string(fixture("test-cert.pem")).unwrap(),
            "CERTIFICATE",
        );
        let thumb = ring::digest::digest(&ring::digest::SHA256, &cert_der);
        let state = Arc::new(Mutex::new(State {
            addr,
            data,
            faults: Vec::new(),
            log: Vec::new(),
            served: HashMap::new(),
            jobs: HashMap::new(),
            job_seq: 0,
            tokens: HashMap::new(),
            token_seq: 0,
            stalled: false,
            public_key: key.public().as_ref().to_vec(),
            cert_thumbprint: b64url(thumb.as_ref()),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (Arc::clone(&state), Arc::clone(&stop));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if sp.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (st, sp) = (Arc::clone(&st), Arc::clone(&sp));
                std::thread::spawn(move || serve(stream, &st, &sp));
            }
        });
        FakeTenant { addr, state, stop }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn fault(&self, fault: Fault) {
        self.state.lock().unwrap().faults.push((fault, 0));
    }

    pub fn clear_faults(&self) {
        self.state.lock().unwrap().faults.clear();
    }

    pub fn set_data(&self, data: Data) {
        self.state.lock().unwrap().data = data;
    }

    pub fn data(&self) -> Data {
        self.state.lock().unwrap().data.clone()
    }

    pub fn log(&self) -> Vec<Logged> {
        self.state.lock().unwrap().log.clone()
    }

    pub fn clear_log(&self) {
        self.state.lock().unwrap().log.clear();
    }

    /// The bodies of the pages and downloads served, by path and query.
    pub fn served(&self) -> HashMap<String, Vec<u8>> {
        self.state.lock().unwrap().served.clone()
    }

    pub fn stalled(&self) -> bool {
        self.state.lock().unwrap().stalled
    }

    /// Every access token issued.
    pub fn tokens(&self) -> Vec<String> {
        self.state.lock().unwrap().tokens.keys().cloned().collect()
    }
}

impl Drop for FakeTenant {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(mut stream: TcpStream, state: &Mutex<State>, stop: &AtomicBool) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let authorization = headers.get("authorization").cloned();
    let reply = {
        let mut state = state.lock().unwrap();
        let reply = handle(
            &mut state,
            &method,
            &target,
            authorization.as_deref(),
            &body,
        );
        let kept = if target.contains("/oauth2/") {
            String::new()
        } else {
            String::from_utf8_lossy(&body).into_owned()
        };
        state.log.push(Logged {
            method: method.clone(),
            target: target.clone(),
            authorization,
            status: reply.status,
            body: kept,
            at: std::time::Instant::now(),
        });
        if reply.status == 200 && (target.starts_with("/blob/") || target.starts_with("/api/")) {
            state.served.insert(target.clone(), reply.body.clone());
        }
        if reply.stall {
            state.stalled = true;
        }
        reply
    };
    if let Some(delay) = reply.delay {
        std::thread::sleep(delay);
    }
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reason(reply.status),
        reply.body.len()
    );
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    if reply.stall {
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(&reply.body[..reply.body.len() / 2]);
        let _ = stream.flush();
        // Nothing more, until the test is over.
        for _ in 0..600 {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        return;
    }
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&reply.body);
    let _ = stream.flush();
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        503 => "Service Unavailable",
        _ => "Other",
    }
}

fn handle(
    state: &mut State,
    method: &str,
    target: &str,
    authorization: Option<&str>,
    body: &[u8],
) -> Reply {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();

    // An injected fault first.
    let mut action = None;
    let text = String::from_utf8_lossy(body);
    for (fault, seen) in &mut state.faults {
        if target.contains(fault.path)
            || (!target.contains("/oauth2/") && text.contains(fault.path))
        {
            *seen += 1;
            if *seen == fault.nth {
                action = Some(fault.action.clone());
            }
        }
    }
    let mut delay = None;
    match action {
        Some(Action::TooMany(seconds)) => {
            let mut r = Reply::error(429, "TooManyRequests", "Too many requests; slow down.");
            r.headers.push(("Retry-After".into(), seconds.to_string()));
            return r;
        }
        Some(Action::Unavailable) => {
            return Reply::error(503, "ServiceUnavailable", "The service is busy.");
        }
        Some(Action::Forbidden(message)) => return Reply::error(403, "Forbidden", message),
        Some(Action::Expired) => {
            if let Some(token) = bearer(authorization)
                && let Some(t) = state.tokens.get_mut(token)
            {
                t.1 = true;
            }
            let mut r = Reply::error(
                401,
                "InvalidAuthenticationToken",
                "Access token has expired.",
            );
            r.headers.push((
                "WWW-Authenticate".into(),
                "Bearer error=\"invalid_token\", error_description=\"The access token has expired\""
                    .into(),
            ));
            return r;
        }
        Some(Action::Slow(d)) => delay = Some(d),
        Some(Action::Stall) | None => {}
    }
    let stall = matches!(action, Some(Action::Stall));

    let mut reply = route(state, method, path, &params, authorization, body);
    reply.delay = delay;
    reply.stall = stall && reply.status == 200;
    reply
}

fn route(
    state: &mut State,
    method: &str,
    path: &str,
    params: &HashMap<String, String>,
    authorization: Option<&str>,
    body: &[u8],
) -> Reply {
    if method == "POST" && path.ends_with("/oauth2/v2.0/token") {
        return token(state, path, body);
    }
    if let Some(rest) = path.strip_prefix("/blob/") {
        if authorization.is_some() {
            return Reply::error(
                400,
                "BadRequest",
                "a signed link takes no Authorization header",
            );
        }
        if params.get("sig").map(String::as_str) != Some(SAS_SIG) {
            return Reply::error(403, "AuthenticationFailed", "Signature did not match.");
        }
        let id = rest.trim_end_matches(".zip");
        return match state.jobs.get(id) {
            Some(job) => Reply::bytes("application/octet-stream", job.zip.clone()),
            None => Reply::error(404, "BlobNotFound", "The specified blob does not exist."),
        };
    }
    if let Some(rest) = path.strip_prefix("/v1.0/") {
        if let Err(r) = authorized(state, authorization, GRAPH_SCOPE) {
            return r;
        }
        return graph(state, method, rest, params, body);
    }
    if path.starts_with("/api/") {
        if let Err(r) = authorized(state, authorization, DEFENDER_SCOPE) {
            return r;
        }
        return defender(state, path, params);
    }
    Reply::error(404, "NotFound", "No such route.")
}

/// The bearer token, checked: issued here, for this service, not refused.
fn authorized(state: &State, authorization: Option<&str>, scope: &str) -> Result<(), Reply> {
    let unauthorized = |m: &str| Reply::error(401, "InvalidAuthenticationToken", m);
    let Some(token) = bearer(authorization) else {
        return Err(unauthorized("Access token is empty."));
    };
    match state.tokens.get(token) {
        Some((s, false)) if s == scope => Ok(()),
        Some((_, true)) => Err(unauthorized("Access token has expired.")),
        Some(_) => Err(unauthorized("Invalid audience.")),
        None => Err(unauthorized("Invalid token.")),
    }
}

fn bearer(authorization: Option<&str>) -> Option<&str> {
    authorization?.strip_prefix("Bearer ")
}

fn aad_error(status: u16, error: &str, code: u64, description: &str) -> Reply {
    Reply::json(
        status,
        json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {description} Trace ID: 0000 Correlation ID: 1111 Timestamp: 2026-11-30 02:30:00Z"),
            "error_codes": [code],
            "timestamp": "2026-11-30 02:30:00Z",
            "trace_id": "0000",
            "correlation_id": "1111"
        }),
    )
}

fn token(state: &mut State, path: &str, body: &[u8]) -> Reply {
    let tenant = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    if tenant != TENANT {
        return aad_error(
            400,
            "invalid_request",
            90002,
            &format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID."
            ),
        );
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return aad_error(
            400,
            "unsupported_grant_type",
            70003,
            "The grant type is not supported.",
        );
    }
    let client = form.get("client_id").cloned().unwrap_or_default();
    if client != CLIENT {
        return aad_error(
            400,
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{client}' was not found in the directory '{TENANT}'."
            ),
        );
    }
    if let Some(secret) = form.get("client_secret") {
        if secret != SECRET {
            return aad_error(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
            );
        }
    } else if let Some(assertion) = form.get("client_assertion") {
        let audience = format!("http://{}/{TENANT}/oauth2/v2.0/token", state.addr);
        if form.get("client_assertion_type").map(String::as_str)
            != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
            || !assertion_is_valid(state, assertion, &audience)
        {
            return aad_error(
                401,
                "invalid_client",
                700027,
                "Client assertion failed signature validation.",
            );
        }
    } else {
        return aad_error(
            401,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        );
    }
    let scope = form.get("scope").cloned().unwrap_or_default();
    if scope != GRAPH_SCOPE && scope != DEFENDER_SCOPE {
        return aad_error(
            400,
            "invalid_scope",
            70011,
            &format!("The provided value for the input parameter 'scope' is not valid: {scope}."),
        );
    }
    state.token_seq += 1;
    let token = format!(
        "{TOKEN_PREFIX}{}-{:x}",
        state.token_seq,
        state.token_seq * 7919
    );
    state.tokens.insert(token.clone(), (scope, false));
    Reply::json(
        200,
        json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}),
    )
}

/// Checks a client assertion as Entra does: PS256, the certificate's
/// SHA-256 thumbprint, the audience, issuer, subject, times and signature.
fn assertion_is_valid(state: &State, assertion: &str, audience: &str) -> bool {
    let parts: Vec<&str> = assertion.split('.').collect();
    if parts.len() != 3 {
        return false;
    }
    let decode = |s: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .ok()
    };
    let (Some(header), Some(claims), Some(signature)) =
        (decode(parts[0]), decode(parts[1]), decode(parts[2]))
    else {
        return false;
    };
    let (Ok(header), Ok(claims)) = (
        serde_json::from_slice::<Value>(&header),
        serde_json::from_slice::<Value>(&claims),
    ) else {
        return false;
    };
    let now = chrono::Utc::now().timestamp();
    let key = ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PSS_2048_8192_SHA256,
        &state.public_key,
    );
    header["alg"] == "PS256"
        && header["typ"] == "JWT"
        && header["x5t#S256"] == state.cert_thumbprint.as_str()
        && claims["aud"] == audience
        && claims["iss"] == CLIENT
        && claims["sub"] == CLIENT
        && claims["jti"].as_str().is_some_and(|j| !j.is_empty())
        && claims["exp"].as_i64().is_some_and(|e| e > now)
        && claims["nbf"].as_i64().is_some_and(|n| n <= now + 60)
        && key
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
            .is_ok()
}

fn graph(
    state: &mut State,
    method: &str,
    path: &str,
    params: &HashMap<String, String>,
    body: &[u8],
) -> Reply {
    let base = format!("http://{}/v1.0", state.addr);
    if method == "GET" && path == "deviceManagement/configurationPolicies" {
        let skip: usize = params
            .get("$skiptoken")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let all = &state.data.policies;
        let page: Vec<Value> = all
            .iter()
            .skip(skip)
            .take(2)
            .map(|(id, name, family)| {
                json!({"id": id, "name": name, "platforms": "windows10",
                       "templateReference": {"templateFamily": family, "templateId": ""}})
            })
            .collect();
        let mut answer = json!({
            "@odata.context": format!("{base}/$metadata#deviceManagement/configurationPolicies"),
            "value": page,
        });
        if skip + 2 < all.len() {
            answer["@odata.nextLink"] = format!(
                "{base}/deviceManagement/configurationPolicies?$select=id,name,templateReference&$skiptoken={}",
                skip + 2
            )
            .into();
        }
        return Reply::json(200, answer);
    }
    if method == "POST" && path == "deviceManagement/reports/exportJobs" {
        let Ok(request) = serde_json::from_slice::<Value>(body) else {
            return Reply::error(400, "BadRequest", "The body is not JSON.");
        };
        let report = request["reportName"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let policy = request["filter"].as_str().and_then(|f| {
            f.strip_prefix("(PolicyId eq '")
                .and_then(|r| r.strip_suffix("')"))
                .map(str::to_owned)
        });
        let key = match &policy {
            Some(p) => format!("{report}/{p}"),
            None => report.clone(),
        };
        let Some(csv) = state.data.exports.get(&key).cloned() else {
            return Reply::error(
                400,
                "BadRequest",
                &format!("Unknown report or filter: {key}."),
            );
        };
        if request["format"] != "csv" || request["select"].as_array().is_none_or(|s| s.is_empty()) {
            return Reply::error(400, "BadRequest", "Expected format csv and a select list.");
        }
        state.job_seq += 1;
        let id = format!(
            "{report}_{:08x}-0000-4000-8000-{:012x}",
            state.job_seq, state.job_seq
        );
        state.jobs.insert(
            id.clone(),
            Job {
                report: report.clone(),
                policy: policy.clone(),
                polls: 0,
                zip: zip_of(&format!("{id}.csv"), &csv),
            },
        );
        return Reply::json(201, job_entity(state, &id));
    }
    if method == "GET"
        && let Some(id) = path
            .strip_prefix("deviceManagement/reports/exportJobs('")
            .and_then(|r| r.strip_suffix("')"))
    {
        let Some(job) = state.jobs.get_mut(id) else {
            return Reply::error(404, "ResourceNotFound", "The export job does not exist.");
        };
        job.polls += 1;
        return Reply::json(200, job_entity(state, id));
    }
    Reply::error(404, "ResourceNotFound", "No such Graph resource.")
}

fn job_entity(state: &State, id: &str) -> Value {
    let job = &state.jobs[id];
    let done = job.polls > state.data.polls_before_complete;
    json!({
        "@odata.context": format!("http://{}/v1.0/$metadata#deviceManagement/reports/exportJobs/$entity", state.addr),
        "id": id,
        "reportName": job.report,
        "filter": job.policy.as_ref().map(|p| format!("(PolicyId eq '{p}')")),
        "format": "csv",
        "snapshotId": null,
        "localizationType": "LocalizedValuesAsAdditionalColumn",
        "status": if job.polls == 0 { "notStarted" } else if done { "completed" } else { "inProgress" },
        "url": if done { Value::from(format!("http://{}/blob/{id}.zip?sv=2019-02-02&sr=b&sig={SAS_SIG}&se=2026-12-01T00%3A00%3A00Z&sp=r", state.addr)) } else { Value::Null },
        "requestDateTime": "2026-11-30T02:30:00.0000000Z",
        "expirationDateTime": if done { "2026-12-01T00:00:00Z" } else { "0001-01-01T00:00:00Z" },
    })
}

fn defender(state: &State, path: &str, params: &HashMap<String, String>) -> Reply {
    let base = format!("http://{}", state.addr);
    let number = |key: &str| params.get(key).and_then(|v| v.parse::<usize>().ok());
    let (rows, context, size, skip, next) = match path {
        "/api/machines" => {
            let (top, skip) = (
                number("$top").unwrap_or(10_000),
                number("$skip").unwrap_or(0),
            );
            let next = (state.data.machines_next_link && skip + top < state.data.machines.len())
                .then(|| format!("{base}/api/machines?$top={top}&$skip={}", skip + top));
            (&state.data.machines, "Machines", top, skip, next)
        }
        "/api/deviceavinfo" => {
            let (top, skip) = (number("$top").unwrap_or(20), number("$skip").unwrap_or(0));
            let next = (skip + top < state.data.avinfo.len())
                .then(|| format!("{base}/api/deviceavinfo?$top={top}&$skip={}", skip + top));
            (&state.data.avinfo, "DeviceAvInfo", top, skip, next)
        }
        "/api/machines/SecureConfigurationsAssessmentByMachine" => {
            let size = number("pageSize").unwrap_or(50_000);
            let skip = params
                .get("$skiptoken")
                .and_then(|t| t.strip_prefix("tok-"))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            let next = (skip + size < state.data.assessments.len()).then(|| {
                format!(
                    "{base}/api/machines/SecureConfigurationsAssessmentByMachine?pagesize={size}&$skiptoken=tok-{}",
                    skip + size
                )
            });
            (
                &state.data.assessments,
                "Collection(microsoft.windowsDefenderATP.api.AssetConfiguration)",
                size,
                skip,
                next,
            )
        }
        _ => return Reply::error(404, "NotFound", "No such API."),
    };
    if path == "/api/machines" && rows.is_empty() {
        return Reply::error(404, "NotFound", "No machines.");
    }
    let page: Vec<Value> = rows.iter().skip(skip).take(size).cloned().collect();
    let mut answer = json!({
        "@odata.context": format!("{base}/api/$metadata#{context}"),
        "value": page,
    });
    if let Some(next) = next {
        answer["@odata.nextLink"] = next.into();
    }
    // Pretty, as the service's pages are not always one line.
    Reply::bytes(
        "application/json; odata.metadata=minimal",
        serde_json::to_vec_pretty(&answer).unwrap(),
    )
}

/// A zip holding one CSV, as Intune's export download is.
fn zip_of(name: &str, csv: &str) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file(name, zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(csv.as_bytes()).unwrap();
    zip.finish().unwrap().into_inner()
}

pub fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/collect")
        .join(name)
}

fn pem(text: &str, label: &str) -> Vec<u8> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin).unwrap() + begin.len();
    let stop = text.find(&end).unwrap();
    let body: String = text[start..stop].split_whitespace().collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

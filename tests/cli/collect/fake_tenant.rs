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

use super::services::{bearer, route};

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

pub(super) struct Job {
    pub(super) report: String,
    pub(super) policy: Option<String>,
    pub(super) polls: usize,
    pub(super) zip: Vec<u8>,
}

pub(super) struct State {
    pub(super) addr: SocketAddr,
    pub(super) data: Data,
    pub(super) faults: Vec<(Fault, usize)>,
    pub(super) log: Vec<Logged>,
    pub(super) served: HashMap<String, Vec<u8>>,
    pub(super) jobs: HashMap<String, Job>,
    pub(super) job_seq: usize,
    /// token -> (scope, refused)
    pub(super) tokens: HashMap<String, (String, bool)>,
    pub(super) token_seq: usize,
    pub(super) stalled: bool,
    pub(super) public_key: Vec<u8>,
    pub(super) cert_thumbprint: String,
}

pub struct FakeTenant {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
    pub(super) delay: Option<Duration>,
    pub(super) stall: bool,
}

impl Reply {
    pub(super) fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
            delay: None,
            stall: false,
        }
    }

    pub(super) fn bytes(content_type: &str, body: Vec<u8>) -> Reply {
        Reply {
            status: 200,
            headers: vec![("Content-Type".into(), content_type.into())],
            body,
            delay: None,
            stall: false,
        }
    }

    pub(super) fn error(status: u16, code: &str, message: &str) -> Reply {
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

/// A zip holding one CSV, as Intune's export download is.
pub(super) fn zip_of(name: &str, csv: &str) -> Vec<u8> {
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

//! What the fake tenant answers, route by route, as Microsoft documents
//! it: the token endpoint, Graph's policy list and export jobs, the signed
//! download, and the Defender for Endpoint pages.

use std::collections::HashMap;

use base64::Engine;
use serde_json::{Value, json};

use super::fake_tenant::{
    CLIENT, DEFENDER_SCOPE, GRAPH_SCOPE, Job, Reply, SAS_SIG, SECRET, State, TENANT, TOKEN_PREFIX,
    zip_of,
};

pub(super) fn route(
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

pub(super) fn bearer(authorization: Option<&str>) -> Option<&str> {
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

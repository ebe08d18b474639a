//! Huawei authentication (spec §5): AK/SK `SDK-HMAC-SHA256` or `X-Auth-Token`, and the tenant
//! (project id) each credential acts for per auth mode (§5.4). Failures are 401 `APIGW.0301`
//! with the detail of §5.5.

use super::sign::{self, RawRequest};
use crate::auth::{AuthMode, Tenant};
use crate::credentials::Credential;
use crate::vendor::{Ctx, Request};

/// Largest `X-Sdk-Date` skew accepted in strict mode.
pub(crate) const MAX_SKEW_S: i64 = 15 * 60;

/// The tenant of requests without credentials or project when auth is off.
const DEFAULT_TENANT: &str = "default";

/// Why a request was refused: the detail completing APIGW.0301's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal(pub String);

fn refuse(detail: impl Into<String>) -> Refusal {
    Refusal(detail.into())
}

const BAD_SIGNATURE: &str = "verify aksk signature fail";

/// Authenticates a request; `path_project` is ShowJob's project, which stands in for a missing
/// `X-Project-Id` when auth is off.
pub(crate) fn authenticate(
    req: &Request,
    ctx: &Ctx<'_>,
    path_project: Option<&str>,
) -> Result<Tenant, Refusal> {
    let mode = ctx.auth_mode();
    let project = req.header("x-project-id").filter(|p| !p.is_empty());
    if req.header_count("authorization") > 0 {
        // Authorization wins over a token, even when it is not text or is repeated.
        let header = req
            .header("authorization")
            .filter(|_| req.header_count("authorization") == 1);
        return match header {
            Some(header) => access_key(req, header, mode, ctx, project, path_project),
            None if mode == AuthMode::Off => Ok(fallback(project, path_project)),
            None => Err(refuse(BAD_SIGNATURE)),
        };
    }
    if req.header_count("x-auth-token") > 1 && mode != AuthMode::Off {
        return Err(refuse("decrypt token fail"));
    }
    if let Some(token) = req.header("x-auth-token") {
        if let Some(bound) = ctx
            .credentials
            .token("huawei", token)
            .and_then(|c| c.project_id)
        {
            return Ok(bound);
        }
        return match mode {
            AuthMode::Off => Ok(fallback(project, path_project)),
            _ => Err(refuse("decrypt token fail")),
        };
    }
    match mode {
        AuthMode::Off => Ok(fallback(project, path_project)),
        _ => Err(refuse("x-auth-token not found")),
    }
}

fn fallback(project: Option<&str>, path_project: Option<&str>) -> Tenant {
    project
        .or(path_project)
        .unwrap_or(DEFAULT_TENANT)
        .to_string()
}

fn access_key(
    req: &Request,
    header: &str,
    mode: AuthMode,
    ctx: &Ctx<'_>,
    project: Option<&str>,
    path_project: Option<&str>,
) -> Result<Tenant, Refusal> {
    let parsed = sign::parse_authorization(header);
    let entries: Vec<Credential> = match &parsed {
        Ok(auth) => ctx.credentials.all("huawei", |c| {
            c.access_key.as_deref() == Some(auth.access_key.as_str())
        }),
        Err(_) => Vec::new(),
    };
    let projects: Vec<String> = entries
        .iter()
        .filter_map(|c| c.project_id.clone())
        .collect();
    if mode == AuthMode::Off {
        return Ok(match (&parsed, projects.first()) {
            (_, Some(default)) => project.unwrap_or(default).to_string(),
            (Ok(auth), None) => project.unwrap_or(&auth.access_key).to_string(),
            (Err(_), None) => fallback(project, path_project),
        });
    }
    let auth = parsed.map_err(|_| refuse(BAD_SIGNATURE))?;
    let secret = entries.iter().find_map(|c| c.secret_key.clone());
    if mode == AuthMode::Strict && secret.is_none() {
        return Err(refuse(format!(
            "Get secretKey failed,ak:{},err:ak not exist",
            auth.access_key
        )));
    }
    let date = req.header("x-sdk-date").filter(|d| sign::is_sdk_date(d));
    let date = date.ok_or_else(|| refuse("x-sdk-date not found or invalid"))?;
    if mode == AuthMode::Strict {
        let at =
            sign::parse_sdk_date(date).ok_or_else(|| refuse("x-sdk-date not found or invalid"))?;
        if (ctx.clock.now() - at).whole_seconds().abs() > MAX_SKEW_S {
            return Err(refuse(
                "request expired, x-sdk-date out of the 15 minute window",
            ));
        }
    }
    let Some(secret) = secret else {
        // Lenient and unregistered: accepted unverified.
        return Ok(project.unwrap_or(&auth.access_key).to_string());
    };
    let raw = RawRequest {
        method: req.method.as_str(),
        path: &req.path,
        query: req.query.as_deref(),
        headers: &req.headers,
        body: &req.body,
    };
    sign::verify(&raw, &auth, &secret).map_err(|_| refuse(BAD_SIGNATURE))?;
    match project {
        Some(p) if projects.iter().any(|q| q == p) => Ok(p.to_string()),
        Some(_) => Err(refuse("x-project-id is not a project of this ak")),
        None => projects
            .first()
            .cloned()
            .ok_or_else(|| refuse("x-project-id is not a project of this ak")),
    }
}

//! Aries v1 image API (`/aries/api/v1/image…`): routing, request ids, and the [`Vendor`]
//! implementation. The behaviour contract is `shared/spec/aries.md`; the user guide, with every
//! decision taken, is `docs/aries.md`.

mod auth;
mod error;
mod handlers;
mod model;
mod validate;

use http::header::HeaderName;
use http::{HeaderMap, Method, StatusCode};
use parking_lot::{Mutex, RwLock};
use rand::rngs::StdRng;
use rand::SeedableRng;

pub use error::AriesError;

use crate::auth::Tenant;
use crate::credentials::Credential;
use crate::reply::Reply;
use crate::state::StateError;
use crate::vendor::{Answer, Ctx, PreparedState, Request, Vendor};
use model::Store;

/// Operation names (journal, fault rules).
pub const OPERATIONS: &[&str] = &[
    "UpdateImage",
    "CreateImage",
    "ListImage",
    "DescribeImage",
    "DeleteImage",
];

const ERROR_CODES: &[&str] = &[
    "InvalidParameter",
    "InvalidSourcePath",
    "ImageExists",
    "ImageNameExists",
    "ImageInUse",
    "ImageNotFound",
    "Unauthorized",
    "InternalError",
];

const BASE: &str = "/aries/api/v1/image";

/// Seed offset so the Aries RNG differs from other vendors' for the same `--seed`.
const RNG_STREAM: u64 = 0xA71E_5000;

/// The Aries vendor and its state.
pub struct Aries {
    store: RwLock<Store>,
    rng: Mutex<StdRng>,
    seed: u64,
}

impl Aries {
    /// An Aries vendor with empty state; refs are drawn from an RNG seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Aries {
            store: RwLock::new(Store::default()),
            rng: Mutex::new(StdRng::seed_from_u64(seed ^ RNG_STREAM)),
            seed,
        }
    }
}

/// Whether `id` may be echoed as the request id (`^[A-Za-z0-9._-]{1,64}$`).
fn echoable_request_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

impl Vendor for Aries {
    fn name(&self) -> &'static str {
        "aries"
    }

    fn owns_path(&self, path: &str) -> bool {
        path == "/aries" || path.starts_with("/aries/")
    }

    fn request_id(&self, headers: &HeaderMap) -> (HeaderName, String) {
        let sent = headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| echoable_request_id(v));
        let id = match sent {
            Some(id) => id.to_string(),
            None => crate::ids::uuid_v4().to_string(),
        };
        (HeaderName::from_static("x-request-id"), id)
    }

    fn body_limit(&self) -> usize {
        validate::BODY_LIMIT
    }

    fn classify(&self, req: &Request, _ctx: &Ctx<'_>) -> Result<&'static str, Reply> {
        let Some(rest) = req.path.strip_prefix(BASE) else {
            return Err(error::page_not_found());
        };
        let op = match (&req.method, rest) {
            (&Method::PUT, "") => "UpdateImage",
            (&Method::POST, "/create") => "CreateImage",
            (&Method::GET, "/list") => "ListImage",
            (&Method::DELETE, "/delete") => "DeleteImage",
            (&Method::GET, id) if id.len() > 1 && id.starts_with('/') && !id[1..].contains('/') => {
                "DescribeImage"
            }
            _ => return Err(error::page_not_found()),
        };
        Ok(op)
    }

    fn authenticate(
        &self,
        _operation: &'static str,
        req: &Request,
        ctx: &Ctx<'_>,
    ) -> Result<Tenant, Answer> {
        auth::authenticate(req, ctx.auth_mode(), ctx.credentials)
    }

    fn handle(
        &self,
        operation: &'static str,
        tenant: &Tenant,
        req: &Request,
        ctx: &Ctx<'_>,
    ) -> Answer {
        let result = match operation {
            "UpdateImage" => handlers::update_image(self, tenant, req, ctx),
            "CreateImage" => handlers::create_image(self, tenant, req, ctx),
            "ListImage" => handlers::list_images(self, tenant, req),
            "DescribeImage" => {
                let id = req
                    .path
                    .strip_prefix(BASE)
                    .unwrap_or("")
                    .trim_start_matches('/');
                handlers::describe_image(self, tenant, id)
            }
            "DeleteImage" => handlers::delete_image(self, tenant, req),
            other => Err(error::Failure::new(
                AriesError::InternalError,
                format!("operation {other} has no handler"),
            )),
        };
        match result {
            Ok(reply) => Answer::plain(reply),
            Err(failure) => failure.answer(&req.request_id),
        }
    }

    fn operations(&self) -> &'static [&'static str] {
        OPERATIONS
    }

    fn error_codes(&self) -> &'static [&'static str] {
        ERROR_CODES
    }

    fn render_error(
        &self,
        code: &str,
        _status: Option<StatusCode>,
        req: &Request,
        _ctx: &Ctx<'_>,
    ) -> Option<Reply> {
        AriesError::from_code(code).map(|e| e.reply(&req.request_id))
    }

    fn builtin_credentials(&self) -> Vec<Credential> {
        vec![
            Credential {
                vendor: "aries".into(),
                token: Some("imgemu-dev-token".into()),
                user: Some("admin".into()),
                ..Credential::default()
            },
            Credential {
                vendor: "aries".into(),
                user: Some("admin".into()),
                password: Some("password".into()),
                ..Credential::default()
            },
        ]
    }

    fn check_credential(&self, cred: &Credential) -> Result<(), String> {
        let shape = "an aries credential is {\"vendor\":\"aries\",\"token\":..,\"user\":..} or {\"vendor\":\"aries\",\"user\":..,\"password\":..}";
        if cred.access_key.is_some() || cred.secret_key.is_some() || cred.project_id.is_some() {
            return Err(shape.into());
        }
        let user = cred.user.as_deref().ok_or(shape)?;
        if user.is_empty() || user.contains(':') {
            return Err(
                "user must be non-empty and contain no ':' (Basic credentials could not carry it)"
                    .into(),
            );
        }
        match (&cred.token, &cred.password) {
            (Some(token), None)
                if token.len() <= auth::MAX_TOKEN_LEN && auth::is_token68(token) =>
            {
                Ok(())
            }
            (Some(_), None) => {
                Err("token must match ^[A-Za-z0-9._~+/-]+=*$ and be at most 512 characters".into())
            }
            (None, Some(_)) => Ok(()),
            _ => Err(shape.into()),
        }
    }

    fn export_state(&self) -> serde_json::Value {
        self.store.read().to_document()
    }

    fn prepare_state(
        &self,
        member: Option<&serde_json::Value>,
    ) -> Result<PreparedState, StateError> {
        let mut rng = StdRng::seed_from_u64(self.seed ^ RNG_STREAM);
        let store = Store::from_document(member, &mut rng)?;
        Ok(Box::new((store, rng)))
    }

    fn mutates(&self, operation: &str) -> bool {
        matches!(operation, "CreateImage" | "UpdateImage" | "DeleteImage")
    }

    fn export_tenant(&self, tenant: &str) -> serde_json::Value {
        self.store.read().tenant_document(tenant)
    }

    fn internal_error_code(&self) -> &'static str {
        "InternalError"
    }

    fn install_state(&self, prepared: PreparedState) {
        if let Ok(prepared) = prepared.downcast::<(Store, StdRng)>() {
            let (store, rng) = *prepared;
            *self.store.write() = store;
            *self.rng.lock() = rng;
        }
    }
}

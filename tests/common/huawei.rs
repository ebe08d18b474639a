//! A Huawei client for tests: requests signed with SDK-HMAC-SHA256 the way huaweicloudsdkcore
//! signs them (SignedHeaders `content-type;host;x-project-id;x-sdk-date`), or sent with a token.
#![allow(dead_code)]

use http::{HeaderMap, HeaderValue};
use imgemu::vendors::huawei::sign::{self, RawRequest};
use imgemu::Emulator;
use reqwest::Client;
use serde_json::Value;

use super::Got;

/// The dev project.
pub const DEV_PROJECT: &str = "0b1e494e2660441a957313163095fe5c";
/// The seed's image.
pub const SEED_IMAGE: &str = "33ad552d-1149-471c-8190-ff6776174a00";
/// A gold image.
pub const GOLD_IMAGE: &str = "5e5f2d1a-2f0c-4c52-9a7e-0c1b9d1e6a01";

/// How a request proves who it is.
#[derive(Debug, Clone)]
pub enum Cred {
    /// AK/SK and the project sent as X-Project-Id (None: no header).
    Key {
        ak: String,
        sk: String,
        project: Option<String>,
    },
    /// X-Auth-Token.
    Token(String),
    /// Nothing.
    None,
}

/// A Huawei client for one emulator.
pub struct HwClient<'a> {
    pub emu: &'a Emulator,
    pub http: Client,
    pub cred: Cred,
}

/// `YYYYMMDDTHHMMSSZ`.
pub fn sdk_date(at: time::OffsetDateTime) -> String {
    imgemu::clock::format_compact(at)
}

/// Asserts an IMS error.
pub fn assert_ims(got: &Got, status: u16, code: &str) {
    assert_eq!(got.status, status, "{}", got.text);
    let body = got.json();
    assert_eq!(body["error"]["code"], code, "{}", got.text);
    assert!(body["error"]["message"].is_string());
    assert_eq!(body.as_object().unwrap().len(), 1, "{}", got.text);
    assert_request_id(got);
}

/// Asserts a gateway error.
pub fn assert_gateway(got: &Got, status: u16, code: &str) -> String {
    assert_eq!(got.status, status, "{}", got.text);
    let body = got.json();
    assert_eq!(body["error_code"], code, "{}", got.text);
    assert_eq!(
        Some(body["request_id"].as_str().unwrap()),
        got.header("x-request-id")
    );
    body["error_msg"].as_str().unwrap().to_string()
}

/// Every response carries a 32-hex X-Request-Id.
pub fn assert_request_id(got: &Got) {
    let rid = got.header("x-request-id").expect("X-Request-Id");
    assert!(
        rid.len() == 32
            && rid
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{rid}"
    );
}

impl<'a> HwClient<'a> {
    /// The dev AK/SK with the dev project.
    pub fn dev(emu: &'a Emulator) -> Self {
        HwClient::new(
            emu,
            Cred::Key {
                ak: "imgemu-dev-ak".into(),
                sk: "imgemu-dev-sk".into(),
                project: Some(DEV_PROJECT.into()),
            },
        )
    }

    /// A client with these credentials.
    pub fn new(emu: &'a Emulator, cred: Cred) -> Self {
        HwClient {
            emu,
            http: Client::new(),
            cred,
        }
    }

    /// The headers of a request, signed when the credentials are a key.
    pub fn headers(&self, method: &str, path: &str, query: Option<&str>, body: &[u8]) -> HeaderMap {
        let mut h = HeaderMap::new();
        let ct = if body.is_empty() {
            "application/json"
        } else {
            "application/json;charset=utf-8"
        };
        h.insert("content-type", HeaderValue::from_static(ct));
        h.insert(
            "host",
            HeaderValue::from_str(&self.emu.addr().to_string()).unwrap(),
        );
        match &self.cred {
            Cred::Key { ak, sk, project } => {
                let mut signed = vec!["content-type", "host"];
                if let Some(p) = project {
                    h.insert("x-project-id", HeaderValue::from_str(p).unwrap());
                    signed.push("x-project-id");
                }
                h.insert(
                    "x-sdk-date",
                    HeaderValue::from_str(&sdk_date(self.emu.clock().now())).unwrap(),
                );
                signed.push("x-sdk-date");
                let signed = signed.join(";");
                let raw = RawRequest {
                    method,
                    path,
                    query,
                    headers: &h,
                    body,
                };
                let signature = sign::sign(&raw, &signed, sk);
                let auth = format!(
                    "SDK-HMAC-SHA256 Access={ak}, SignedHeaders={signed}, Signature={signature}"
                );
                h.insert("authorization", HeaderValue::from_str(&auth).unwrap());
            }
            Cred::Token(t) => {
                h.insert("x-auth-token", HeaderValue::from_str(t).unwrap());
            }
            Cred::None => {}
        }
        h
    }

    /// Sends a request with exactly these headers.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        query: Option<&str>,
        body: &[u8],
        headers: &HeaderMap,
    ) -> Got {
        let url = match query {
            Some(q) => format!("{}{path}?{q}", self.emu.url()),
            None => format!("{}{path}", self.emu.url()),
        };
        let mut req = self
            .http
            .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url)
            .body(body.to_vec());
        for (name, value) in headers {
            if name != "host" {
                req = req.header(name, value);
            }
        }
        Got::from(req.send().await.expect("sent")).await
    }

    /// A request built and sent in one go.
    pub async fn call(&self, method: &str, path: &str, query: Option<&str>, body: &[u8]) -> Got {
        let h = self.headers(method, path, query, body);
        self.send(method, path, query, body, &h).await
    }

    /// PATCH /v2/cloudimages/{id}.
    pub async fn update(&self, id: &str, ops: &Value) -> Got {
        self.call(
            "PATCH",
            &format!("/v2/cloudimages/{id}"),
            None,
            ops.to_string().as_bytes(),
        )
        .await
    }

    /// GET /v2/images/{id}.
    pub async fn show(&self, id: &str) -> Got {
        self.call("GET", &format!("/v2/images/{id}"), None, b"")
            .await
    }

    /// GET /v2/cloudimages?query.
    pub async fn list(&self, query: &str) -> Got {
        let q = (!query.is_empty()).then_some(query);
        self.call("GET", "/v2/cloudimages", q, b"").await
    }

    /// POST /v2/cloudimages/action.
    pub async fn create(&self, body: &Value) -> Got {
        self.call(
            "POST",
            "/v2/cloudimages/action",
            None,
            body.to_string().as_bytes(),
        )
        .await
    }

    /// GET /v1/{project}/jobs/{job}.
    pub async fn job(&self, project: &str, job: &str) -> Got {
        self.call("GET", &format!("/v1/{project}/jobs/{job}"), None, b"")
            .await
    }
}

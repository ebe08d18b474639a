//! An Alibaba client for tests: V3 (ACS3-HMAC-SHA256) requests signed the way tea-openapi signs
//! them, and legacy V2 (HMAC-SHA1) requests, with the reference signers.
#![allow(dead_code)]

use http::{HeaderMap, HeaderValue};
use imgemu::vendors::aliyun::sign::{self, V3Request};
use imgemu::Emulator;
use reqwest::Client;
use serde_json::Value;
use sha2::Digest;

use super::Got;

/// The headers tea-openapi signs for a form POST.
pub const SIGNED: &str = "content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version";

/// A signing Alibaba client for one emulator.
pub struct AliClient<'a> {
    pub emu: &'a Emulator,
    pub http: Client,
    pub ak: String,
    pub sk: String,
}

/// `YYYY-MM-DDThh:mm:ssZ`.
pub fn acs_date(at: time::OffsetDateTime) -> String {
    imgemu::clock::format_seconds(at)
}

/// Asserts an Alibaba error: status, Code, and the body's shape.
pub fn assert_error(got: &Got, status: u16, code: &str) {
    assert_eq!(got.status, status, "{}", got.text);
    let body = got.json();
    assert_eq!(body["Code"], code, "{}", got.text);
    let rid = got.header("x-acs-request-id").expect("x-acs-request-id");
    assert_eq!(body["RequestId"], rid);
    assert!(
        body["Message"].is_string() && body["HostId"].is_string(),
        "{}",
        got.text
    );
    assert!(body["Recommend"]
        .as_str()
        .unwrap()
        .contains(&format!("q={code}&product=ImageSearch")));
    assert_eq!(body.as_object().unwrap().len(), 5, "{}", got.text);
}

/// A form body.
pub fn form(params: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        s.append_pair(k, v);
    }
    s.finish()
}

impl<'a> AliClient<'a> {
    /// The dev credentials.
    pub fn dev(emu: &'a Emulator) -> Self {
        AliClient::with_key(emu, "imgemu-dev-ak", "imgemu-dev-sk")
    }

    /// Another key pair.
    pub fn with_key(emu: &'a Emulator, ak: &str, sk: &str) -> Self {
        AliClient {
            emu,
            http: Client::new(),
            ak: ak.into(),
            sk: sk.into(),
        }
    }

    /// V3-signed headers for a form POST of `body` with `query`.
    pub fn v3_headers(&self, action: &str, query: Option<&str>, body: &[u8]) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            "content-type",
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        h.insert(
            "host",
            HeaderValue::from_str(&self.emu.addr().to_string()).unwrap(),
        );
        h.insert("x-acs-action", HeaderValue::from_str(action).unwrap());
        h.insert("x-acs-version", HeaderValue::from_static("2020-12-14"));
        h.insert(
            "x-acs-date",
            HeaderValue::from_str(&acs_date(self.emu.clock().now())).unwrap(),
        );
        h.insert(
            "x-acs-signature-nonce",
            HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()).unwrap(),
        );
        h.insert(
            "x-acs-content-sha256",
            HeaderValue::from_str(&hex::encode(sha2::Sha256::digest(body))).unwrap(),
        );
        self.sign_v3(&mut h, query, body, SIGNED);
        h
    }

    /// (Re)computes the Authorization header over `signed` headers.
    pub fn sign_v3(&self, h: &mut HeaderMap, query: Option<&str>, body: &[u8], signed: &str) {
        let req = V3Request {
            method: "POST",
            query,
            headers: h,
            body,
        };
        let signature = sign::sign_v3(&req, signed, &self.sk);
        let auth = format!(
            "ACS3-HMAC-SHA256 Credential={},SignedHeaders={signed},Signature={signature}",
            self.ak
        );
        h.insert("authorization", HeaderValue::from_str(&auth).unwrap());
    }

    /// Sends a POST with these headers.
    pub async fn send(&self, query: Option<&str>, body: &[u8], headers: &HeaderMap) -> Got {
        let url = match query {
            Some(q) => format!("{}/?{q}", self.emu.url()),
            None => format!("{}/", self.emu.url()),
        };
        let mut req = self.http.post(url).body(body.to_vec());
        for (name, value) in headers {
            if name != "host" {
                req = req.header(name, value);
            }
        }
        Got::from(req.send().await.expect("sent")).await
    }

    /// A V3-signed call with every parameter in the form body.
    pub async fn call(&self, action: &str, params: &[(&str, &str)]) -> Got {
        let body = form(params);
        let h = self.v3_headers(action, None, body.as_bytes());
        self.send(None, body.as_bytes(), &h).await
    }

    /// A V3-signed call on demoinstance1.
    pub async fn on_demo(&self, action: &str, params: &[(&str, &str)]) -> Got {
        let mut all = vec![("InstanceName", "demoinstance1")];
        all.extend_from_slice(params);
        self.call(action, &all).await
    }

    /// A legacy V2-signed call (all parameters in the form body).
    pub async fn v2(&self, action: &str, params: &[(&str, &str)]) -> Got {
        let mut all: Vec<(String, String)> = vec![
            ("Action".into(), action.into()),
            ("Version".into(), "2020-12-14".into()),
            ("Format".into(), "JSON".into()),
            ("AccessKeyId".into(), self.ak.clone()),
            ("SignatureMethod".into(), "HMAC-SHA1".into()),
            ("SignatureVersion".into(), "1.0".into()),
            ("SignatureNonce".into(), uuid::Uuid::new_v4().to_string()),
            ("Timestamp".into(), acs_date(self.emu.clock().now())),
        ];
        all.extend(params.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let signature = sign::sign_v2("POST", &all, &self.sk);
        all.push(("Signature".into(), signature));
        let pairs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let body = form(&pairs);
        let mut h = HeaderMap::new();
        h.insert(
            "content-type",
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        self.send(None, body.as_bytes(), &h).await
    }
}

/// The success body's fields, asserting the common ones.
pub fn ok(got: &Got) -> Value {
    assert_eq!(got.status, 200, "{}", got.text);
    let body = got.json();
    assert_eq!(body["Success"], true, "{}", got.text);
    assert_eq!(
        Some(body["RequestId"].as_str().unwrap()),
        got.header("x-acs-request-id")
    );
    body
}

//! A JD client for tests: signs every request with the reference JDCLOUD2 signer, the way the
//! official client does (scope `jdcloud-api/simpleclient`, SignedHeaders
//! `content-type;host;x-jdcloud-date;x-jdcloud-nonce`), and PNG builders for image content.
#![allow(dead_code)]

use base64::Engine;
use http::{HeaderMap, HeaderValue};
use imgemu::vendors::jd::sign::{self, RawRequest};
use imgemu::Emulator;
use reqwest::Client;
use serde_json::Value;

use super::Got;

/// The official client's signed headers.
pub const SIGNED: &str = "content-type;host;x-jdcloud-date;x-jdcloud-nonce";

/// A signing JD client for one emulator.
pub struct JdClient<'a> {
    pub emu: &'a Emulator,
    pub http: Client,
    pub ak: String,
    pub sk: String,
}

/// The envelope's `result` (panics with the body when absent).
pub fn result(got: &Got) -> Value {
    let body = got.json();
    assert_eq!(body["code"], "10000", "not a 10000 envelope: {}", got.text);
    body["result"].clone()
}

/// Asserts a business error of the general family (`status_code`) or product family (`code`).
pub fn assert_business(got: &Got, code: u32, name: &str) {
    let r = result(got);
    let key = if r.get("status_code").is_some() {
        "status_code"
    } else {
        "code"
    };
    assert_eq!(
        (r[key].as_u64(), r["message"].as_str()),
        (Some(u64::from(code)), Some(name)),
        "{}",
        got.text
    );
    assert_eq!(
        r.as_object().map(|o| o.len()),
        Some(2),
        "only code and message: {}",
        got.text
    );
}

/// Asserts a system-level envelope error (no `result`).
pub fn assert_system(got: &Got, code: &str) {
    let body = got.json();
    assert_eq!(body["code"], code, "{}", got.text);
    assert!(body.get("result").is_none(), "{}", got.text);
    assert_eq!(body["charge"], false);
    assert_eq!(body["remainSeconds"], -1);
    assert!(body["msg"].is_string());
}

impl<'a> JdClient<'a> {
    /// A client with the dev credentials.
    pub fn dev(emu: &'a Emulator) -> Self {
        JdClient::with_key(emu, "imgemu-dev-ak", "imgemu-dev-sk")
    }

    /// A client with another key pair.
    pub fn with_key(emu: &'a Emulator, ak: &str, sk: &str) -> Self {
        JdClient {
            emu,
            http: Client::new(),
            ak: ak.into(),
            sk: sk.into(),
        }
    }

    /// The signed headers of a request, dated by the emulator clock (or `date`).
    pub fn headers(
        &self,
        method: &str,
        path: &str,
        query: Option<&str>,
        body: &[u8],
        date: Option<&str>,
    ) -> HeaderMap {
        let date = date
            .map(str::to_string)
            .unwrap_or_else(|| jd_date(self.emu.clock().now()));
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        headers.insert(
            "host",
            HeaderValue::from_str(&self.emu.addr().to_string()).unwrap(),
        );
        headers.insert("x-jdcloud-date", HeaderValue::from_str(&date).unwrap());
        let nonce = uuid::Uuid::new_v4().to_string();
        headers.insert("x-jdcloud-nonce", HeaderValue::from_str(&nonce).unwrap());
        let raw = RawRequest {
            method,
            path,
            query,
            headers: &headers,
            body,
        };
        let signature = sign::sign(
            &raw,
            (&date[..8], "jdcloud-api", "simpleclient"),
            SIGNED,
            &self.sk,
        );
        let auth = format!(
            "JDCLOUD2-HMAC-SHA256 Credential={}/{}/jdcloud-api/simpleclient/jdcloud2_request, SignedHeaders={SIGNED}, Signature={signature}",
            self.ak,
            &date[..8]
        );
        headers.insert("authorization", HeaderValue::from_str(&auth).unwrap());
        headers
    }

    /// Sends a request with exactly these headers.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        query: Option<&str>,
        body: &[u8],
        headers: HeaderMap,
    ) -> Got {
        let url = match query {
            Some(q) => format!("{}{path}?{q}", self.emu.url()),
            None => format!("{}{path}", self.emu.url()),
        };
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, url).body(body.to_vec());
        for (name, value) in headers.iter() {
            if name != "host" {
                req = req.header(name, value);
            }
        }
        Got::from(req.send().await.expect("sent")).await
    }

    /// A signed POST of a JSON body to `/jdai/<op>`.
    pub async fn post(&self, op: &str, body: &Value) -> Got {
        self.post_raw(op, body.to_string().as_bytes()).await
    }

    /// A signed POST of raw bytes.
    pub async fn post_raw(&self, op: &str, body: &[u8]) -> Got {
        let path = format!("/jdai/{op}");
        let headers = self.headers("POST", &path, None, body, None);
        self.send("POST", &path, None, body, headers).await
    }

    /// A signed GET of `/jdai/<op>?<query>`.
    pub async fn get(&self, op: &str, query: Option<&str>) -> Got {
        let path = format!("/jdai/{op}");
        let headers = self.headers("GET", &path, query, b"", None);
        self.send("GET", &path, query, b"", headers).await
    }

    /// Reads a general task: GET /jdai/task?task_id=… (the id's `/` left raw, as the SDK does).
    pub async fn task(&self, task_id: &str) -> Got {
        let encoded: String = task_id
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        self.get("task", Some(&format!("task_id={encoded}"))).await
    }
}

/// `YYYYMMDDTHHMMSSZ`.
pub fn jd_date(at: time::OffsetDateTime) -> String {
    imgemu::clock::format_compact(at)
}

/// A gray PNG of `width` × `height` whose pixel (x, y) is `f(x, y)`.
pub fn png(width: u32, height: u32, f: impl Fn(u32, u32) -> u8) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        let data: Vec<u8> = (0..height)
            .flat_map(|y| (0..width).map(move |x| (x, y)))
            .map(|(x, y)| f(x, y))
            .collect();
        writer.write_image_data(&data).unwrap();
    }
    out
}

/// Standard Base64.
pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A 256 × 256 left→right ramp.
pub fn ramp() -> Vec<u8> {
    png(256, 256, |x, _| x as u8)
}

/// A 256 × 256 checkerboard of `cell` px.
pub fn checker(cell: u32) -> Vec<u8> {
    png(256, 256, move |x, y| {
        if (x / cell + y / cell).is_multiple_of(2) {
            0
        } else {
            255
        }
    })
}

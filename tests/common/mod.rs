//! Helpers shared by the integration tests: an in-process emulator on port 0 and a real HTTP client.
#![allow(dead_code)]

pub mod aliyun;
pub mod binary;
pub mod huawei;
pub mod jd;

use imgemu::{AuthMode, Emulator};
use reqwest::{Client, Method, Response};
use serde_json::Value;

/// The Aries dev token.
pub const TOKEN: &str = "imgemu-dev-token";

/// An emulator with a manual clock (2026-01-01T00:00:00Z) and the default fixtures.
pub async fn emulator(mode: AuthMode) -> Emulator {
    Emulator::builder()
        .auth_mode(mode)
        .manual_clock()
        .start()
        .await
        .expect("emulator starts")
}

/// A response read to the end.
pub struct Got {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Got {
    pub async fn from(resp: Response) -> Got {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        Got {
            status,
            headers,
            text,
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an Aries error: status, code, exact message, request_id = X-Request-Id.
    pub fn assert_aries_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "status of {}", self.text);
        let body = self.json();
        assert_eq!(body["code"], code, "code in {}", self.text);
        let message = match code {
            "InvalidParameter" => "参数无效",
            "InvalidSourcePath" => "源文件路径无效",
            "ImageExists" => "镜像已存在",
            "ImageNameExists" => "镜像名称已存在",
            "ImageInUse" => "镜像使用中",
            "ImageNotFound" => "镜像不存在",
            "Unauthorized" => "未认证",
            _ => "内部错误",
        };
        assert_eq!(body["message"], message);
        let rid = self.header("x-request-id").expect("X-Request-Id");
        assert_eq!(body["request_id"], rid);
        assert_eq!(
            body.as_object().map(|o| o.len()),
            Some(3),
            "only code/message/request_id: {}",
            self.text
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/json; charset=utf-8")
        );
    }
}

/// A client bound to one emulator, sending the Aries dev token unless told otherwise.
pub struct Aries {
    pub base: String,
    pub http: Client,
}

impl Aries {
    pub fn new(emu: &Emulator) -> Aries {
        Aries {
            base: emu.url(),
            http: Client::new(),
        }
    }

    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        auth: Option<&str>,
        body: Option<&str>,
    ) -> Got {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        if let Some(b) = body {
            req = req.body(b.to_string());
        }
        Got::from(req.send().await.expect("request sent")).await
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<&str>) -> Got {
        self.raw(method, path, Some(&format!("Bearer {TOKEN}")), body)
            .await
    }

    pub async fn describe(&self, id: u64) -> Got {
        self.call(Method::GET, &format!("/aries/api/v1/image/{id}"), None)
            .await
    }

    pub async fn update(&self, body: &str) -> Got {
        self.call(Method::PUT, "/aries/api/v1/image", Some(body))
            .await
    }

    pub async fn create(&self, body: &str) -> Got {
        self.call(Method::POST, "/aries/api/v1/image/create", Some(body))
            .await
    }

    pub async fn list(&self, query: &str) -> Got {
        self.call(
            Method::GET,
            &format!("/aries/api/v1/image/list{query}"),
            None,
        )
        .await
    }

    pub async fn delete(&self, image_ref: &str) -> Got {
        self.call(
            Method::DELETE,
            &format!("/aries/api/v1/image/delete?image_ref={image_ref}"),
            None,
        )
        .await
    }

    /// A control-plane call.
    pub async fn control(&self, method: Method, path: &str, body: Option<&str>) -> Got {
        self.raw(method, &format!("/_imgemu{path}"), None, body)
            .await
    }
}

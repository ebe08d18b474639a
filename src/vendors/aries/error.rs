//! Aries error codes, their HTTP statuses and exact Chinese messages (spec §4), and rendering.

use http::header::{HeaderName, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::StatusCode;
use serde::Serialize;

use crate::reply::Reply;
use crate::vendor::Answer;

/// `Content-Type` of every Aries JSON body.
pub(crate) const JSON: &str = "application/json; charset=utf-8";

/// The Aries error vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AriesError {
    /// 400 参数无效.
    InvalidParameter,
    /// 400 源文件路径无效.
    InvalidSourcePath,
    /// 400 镜像已存在 (CreateImage name conflict).
    ImageExists,
    /// 400 镜像名称已存在 (UpdateImage name conflict).
    ImageNameExists,
    /// 400 镜像使用中.
    ImageInUse,
    /// 404 镜像不存在.
    ImageNotFound,
    /// 401 未认证.
    Unauthorized,
    /// 500 内部错误.
    InternalError,
}

impl AriesError {
    /// Every code, for fault rules.
    pub const ALL: [AriesError; 8] = [
        AriesError::InvalidParameter,
        AriesError::InvalidSourcePath,
        AriesError::ImageExists,
        AriesError::ImageNameExists,
        AriesError::ImageInUse,
        AriesError::ImageNotFound,
        AriesError::Unauthorized,
        AriesError::InternalError,
    ];

    /// The code name on the wire.
    pub fn code(self) -> &'static str {
        match self {
            AriesError::InvalidParameter => "InvalidParameter",
            AriesError::InvalidSourcePath => "InvalidSourcePath",
            AriesError::ImageExists => "ImageExists",
            AriesError::ImageNameExists => "ImageNameExists",
            AriesError::ImageInUse => "ImageInUse",
            AriesError::ImageNotFound => "ImageNotFound",
            AriesError::Unauthorized => "Unauthorized",
            AriesError::InternalError => "InternalError",
        }
    }

    /// The exact message for this code.
    pub fn message(self) -> &'static str {
        match self {
            AriesError::InvalidParameter => "参数无效",
            AriesError::InvalidSourcePath => "源文件路径无效",
            AriesError::ImageExists => "镜像已存在",
            AriesError::ImageNameExists => "镜像名称已存在",
            AriesError::ImageInUse => "镜像使用中",
            AriesError::ImageNotFound => "镜像不存在",
            AriesError::Unauthorized => "未认证",
            AriesError::InternalError => "内部错误",
        }
    }

    /// The HTTP status for this code.
    pub fn status(self) -> StatusCode {
        match self {
            AriesError::ImageNotFound => StatusCode::NOT_FOUND,
            AriesError::Unauthorized => StatusCode::UNAUTHORIZED,
            AriesError::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// Looks a code up by name.
    pub fn from_code(code: &str) -> Option<AriesError> {
        AriesError::ALL.into_iter().find(|e| e.code() == code)
    }

    /// The error body and headers for a request with this id.
    pub fn reply(self, request_id: &str) -> Reply {
        #[derive(Serialize)]
        struct Body<'a> {
            code: &'static str,
            message: &'static str,
            request_id: &'a str,
        }
        let reply = Reply::json_as(
            self.status(),
            JSON,
            &Body {
                code: self.code(),
                message: self.message(),
                request_id,
            },
        );
        if self == AriesError::Unauthorized {
            reply.with_static_header(WWW_AUTHENTICATE, "Bearer realm=\"aries\"")
        } else {
            reply
        }
    }
}

/// An error with its specific cause, which goes to the journal and never to the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The code answered.
    pub error: AriesError,
    /// Why, for the journal.
    pub cause: String,
}

impl Failure {
    /// A failure with a cause.
    pub fn new(error: AriesError, cause: impl Into<String>) -> Self {
        Failure {
            error,
            cause: cause.into(),
        }
    }

    /// Shorthand for InvalidParameter.
    pub fn invalid(cause: impl Into<String>) -> Self {
        Failure::new(AriesError::InvalidParameter, cause)
    }

    /// The answer for a request with this id.
    pub fn answer(&self, request_id: &str) -> Answer {
        Answer::noted(
            self.error.reply(request_id),
            format!("{}: {}", self.error.code(), self.cause),
        )
    }
}

/// The unrouted answer: Gin's plain-text 404 (spec §2.1).
pub(crate) fn page_not_found() -> Reply {
    Reply::text(
        StatusCode::NOT_FOUND,
        "text/plain; charset=utf-8",
        "404 page not found",
    )
    .with_static_header(CONTENT_TYPE, "text/plain; charset=utf-8")
}

/// The header that carries an image's ref on success responses.
pub(crate) fn ref_header() -> HeaderName {
    HeaderName::from_static("x-imgemu-image-ref")
}

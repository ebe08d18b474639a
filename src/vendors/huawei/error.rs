//! Huawei error vocabulary (spec §4): IMS errors `{"error":{"code","message"}}` and API-gateway
//! errors `{"error_msg","error_code","request_id"}`, with their HTTP statuses and exact messages.

use http::StatusCode;
use serde_json::json;

use crate::reply::Reply;
use crate::vendor::Answer;

/// `Content-Type` of Huawei JSON bodies.
pub(crate) const JSON: &str = "application/json;charset=UTF-8";

/// (code, HTTP status, message) of the IMS codes. Job-only codes have status 0.
const IMS: &[(&str, u16, &str)] = &[
    ("IMG.0001", 400, "The request message format is invalid."),
    ("IMG.0002", 400, "The image name contains more than 128 characters."),
    ("IMG.0003", 400, "The image name format is invalid."),
    ("IMG.0004", 400, "The description contains more than 1024 characters."),
    ("IMG.0005", 400, "The ECS does not exist."),
    ("IMG.0007", 400, "The request body is empty."),
    ("IMG.0013", 400, "The image name is not specified."),
    ("IMG.0014", 0, "An exception occurred when IaaS OpenStack was executing the task."),
    ("IMG.0015", 400, "The number of private images has reached the maximum allowed."),
    ("IMG.0017", 400, "The URL format is incorrect."),
    ("IMG.0024", 400, "The image type in the request is incorrect."),
    ("IMG.0027", 400, "The image ID in the request does not exist."),
    ("IMG.0028", 403, "The image in the request is protected."),
    ("IMG.0035", 400, "An attribute conflict occurred during the modification."),
    ("IMG.0046", 400, "The image is unavailable."),
    ("IMG.0054", 400, "The image description format is invalid."),
    ("IMG.0055", 400, "The memory or disk size is invalid."),
    ("IMG.0056", 400, "Invalid OS version."),
    (
        "IMG.0057",
        0,
        "The image file is empty, not found, or in incorrect format, or you do not have enough permission to access the file.",
    ),
    ("IMG.0060", 400, "The number of tasks exceeds the flow control limit."),
    ("IMG.0061", 500, "Unknown system error."),
    ("IMG.0066", 400, "The image ID is incorrect."),
    ("IMG.0067", 400, "The project ID is incorrect."),
    ("IMG.0083", 403, "The image is a public image."),
    ("IMG.0090", 400, "The image being created cannot be deleted."),
    ("IMG.0094", 403, "The public image cannot be deleted."),
    ("IMG.0105", 400, "The operation is not supported."),
    ("IMG.0115", 400, "The image tag is invalid."),
    ("IMG.0116", 400, "The number of image tags exceeds the quota."),
    ("IMG.0120", 400, "The specified data disk ID is unavailable."),
    ("IMG.0121", 404, "The object cannot be found."),
    ("IMG.0141", 400, "The value of hw_firmware_type is not uefi or bios."),
    ("IMG.0144", 404, "The image does not exist."),
    ("IMG.0155", 400, "Failed to check the enterprise project ID validity."),
    ("IMG.0161", 403, "You do not have permission."),
    ("IMG.0212", 400, "The value of Architecture must be x86 or Arm."),
];

/// (code, HTTP status, error_msg) of the gateway codes.
const GATEWAY: &[(&str, u16, &str)] = &[
    ("APIG.0101", 404, "The API does not exist or has not been published in the environment."),
    ("APIGW.0201", 413, "Request entity too large."),
    ("APIGW.0301", 401, "Incorrect IAM authentication information: "),
    ("APIGW.0307", 401, "The token must be updated."),
    ("APIGW.0308", 429, "The throttling threshold has been reached: policy user over ratelimit,limit:10,time:1 second"),
    ("APIGW.0601", 500, "Internal server error."),
    ("APIGW.0613", 503, "The IAM service is currently unavailable."),
];

/// An IMS error with the cause kept for the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImsError {
    /// An `IMG.*` code of the table.
    pub code: &'static str,
    /// Why, for the journal (never on the wire).
    pub cause: String,
}

impl ImsError {
    /// An error with a cause.
    pub fn new(code: &'static str, cause: impl Into<String>) -> Self {
        ImsError {
            code,
            cause: cause.into(),
        }
    }

    /// The answer (IMS shape).
    pub fn answer(&self) -> Answer {
        Answer::noted(
            ims_reply(self.code),
            format!("{}: {}", self.code, self.cause),
        )
    }
}

/// The message of an IMS code (job `fail_reason` uses it too).
pub(crate) fn ims_message(code: &str) -> Option<&'static str> {
    IMS.iter().find(|(c, _, _)| *c == code).map(|(_, _, m)| *m)
}

/// The IMS error body for `code` (unknown codes render as IMG.0061, 500).
pub(crate) fn ims_reply(code: &str) -> Reply {
    let (code, status, message) = IMS.iter().find(|(c, _, _)| *c == code).copied().unwrap_or((
        "IMG.0061",
        500,
        "Unknown system error.",
    ));
    let status = StatusCode::from_u16(status)
        .ok()
        .filter(|_| status != 0)
        .unwrap_or(StatusCode::BAD_REQUEST);
    Reply::json_as(
        status,
        JSON,
        &json!({"error": {"code": code, "message": message}}),
    )
}

/// The gateway error body; `detail` completes APIGW.0301's message.
pub(crate) fn gateway_reply(code: &str, detail: &str, request_id: &str) -> Option<Reply> {
    let (code, status, message) = GATEWAY.iter().find(|(c, _, _)| *c == code).copied()?;
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let message = if code == "APIGW.0301" {
        format!("{message}{detail}")
    } else {
        message.to_string()
    };
    Some(Reply::json_as(
        status,
        JSON,
        &json!({"error_msg": message, "error_code": code, "request_id": request_id}),
    ))
}

/// A gateway error a fault rule injects, `status` being the rule's override.
///
/// Every code renders as [`gateway_reply`] does, except `APIGW.0201`: the gateway gives it for an
/// oversized body (413) and for an unreachable backend, and an injected one stands for the
/// backend: 502 "Backend unavailable." by default, "Backend timeout." with a 504 override, and
/// "Request entity too large." only if the rule asks for 413.
pub(crate) fn injected_gateway_reply(
    code: &str,
    status: Option<StatusCode>,
    request_id: &str,
) -> Option<Reply> {
    if code != "APIGW.0201" {
        return gateway_reply(code, "", request_id);
    }
    let (status, message) = match status {
        Some(StatusCode::PAYLOAD_TOO_LARGE) => {
            (StatusCode::PAYLOAD_TOO_LARGE, "Request entity too large.")
        }
        Some(StatusCode::GATEWAY_TIMEOUT) => (StatusCode::GATEWAY_TIMEOUT, "Backend timeout."),
        Some(other) => (other, "Backend unavailable."),
        None => (StatusCode::BAD_GATEWAY, "Backend unavailable."),
    };
    Some(Reply::json_as(
        status,
        JSON,
        &json!({"error_msg": message, "error_code": code, "request_id": request_id}),
    ))
}

/// Every code a fault rule may name.
pub(crate) fn code_names() -> &'static [&'static str] {
    static NAMES: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| IMS.iter().chain(GATEWAY).map(|(c, _, _)| *c).collect())
}

//! Alibaba error codes with their HTTP statuses and messages (spec §4), and the error body
//! `{"RequestId","HostId","Code","Message","Recommend"}` (§2.3).

use http::header::HeaderName;
use http::StatusCode;
use serde_json::json;

use crate::reply::Reply;
use crate::vendor::{Answer, Request};

/// `Content-Type` of every Alibaba response.
pub(crate) const JSON: &str = "application/json;charset=utf-8";

/// The request-id header (equal to the body's `RequestId`).
pub(crate) fn request_id_header() -> HeaderName {
    HeaderName::from_static("x-acs-request-id")
}

/// (code, HTTP status, message) for every code of spec §4.
const TABLE: &[(&str, u16, &str)] = &[
    (
        "IncompleteSignature",
        400,
        "The request signature does not conform to Aliyun standards.",
    ),
    (
        "InvalidSignatureMethod",
        400,
        "Specified signature method is not valid.",
    ),
    (
        "InvalidAccessKeyId.NotFound",
        404,
        "Specified access key is not found.",
    ),
    (
        "InvalidAccessKeyId.Inactive",
        400,
        "Specified access key is disabled.",
    ),
    (
        "InvalidTimeStamp.Format",
        400,
        "Specified time stamp or date value is not well formatted.",
    ),
    (
        "InvalidTimeStamp.Expired",
        400,
        "Specified time stamp or date value is expired.",
    ),
    (
        "SignatureDoesNotMatch",
        400,
        "Specified signature does not match our calculation.",
    ),
    (
        "SignatureNonceUsed",
        400,
        "Specified signature nonce was used already.",
    ),
    (
        "InvalidAction.NotFound",
        404,
        "Specified api is not found, please check your url and method.",
    ),
    (
        "InvalidVersion",
        400,
        "Specified parameter Version is not valid.",
    ),
    (
        "MissingInstanceName",
        400,
        "InstanceName is mandatory for this action.",
    ),
    (
        "Throttling.User",
        400,
        "Request was denied due to user flow control.",
    ),
    (
        "Throttling.Api",
        400,
        "Request was denied due to api flow control.",
    ),
    (
        "Forbidden.RAM",
        403,
        "User not authorized to operate on the specified resource.",
    ),
    (
        "ServiceUnavailable",
        503,
        "The request has failed due to a temporary failure of the server.",
    ),
    ("BadRequest", 400, "The request has invalid parameters."),
    (
        "InvalidInstance",
        400,
        "The specified instance name is invalid.",
    ),
    (
        "NoCaretSeperator",
        400,
        "The body content is missing the ^ separator.",
    ),
    (
        "EmptyMeta",
        400,
        "The body content has an empty meta field.",
    ),
    ("InvalidMetaItem", 400, "The meta field is invalid."),
    (
        "NoPicList",
        400,
        "The body content is missing the pic_list parameter.",
    ),
    (
        "InvalidPicList",
        400,
        "The specified pic_list parameter is invalid.",
    ),
    (
        "NoSpecifiedPic",
        400,
        "The content of an image is not specified in the HTTP POST body.",
    ),
    ("InstanceStatusError", 409, "Your instance is unavailable."),
    (
        "DeniedRequest",
        403,
        "Your request was denied due to instance flow control.",
    ),
    (
        "NoPermission",
        403,
        "You are not authorized to perform this operation.",
    ),
    (
        "NoSpecifiedProductId",
        400,
        "The parameter ProductId no specified.",
    ),
    (
        "InvalidProductId",
        400,
        "The specified parameter ProductId is not valid.",
    ),
    (
        "NoSpecifiedPicName",
        400,
        "The parameter PicName no specified.",
    ),
    (
        "InvalidPicName",
        400,
        "The specified parameter PicName is not valid.",
    ),
    (
        "InvalidStrAttr",
        400,
        "The specified parameter StrAttr is not valid.",
    ),
    (
        "InvalidStrAttr2",
        400,
        "The specified parameter StrAttr2 is not valid.",
    ),
    (
        "InvalidStrAttr3",
        400,
        "The specified parameter StrAttr3 is not valid.",
    ),
    (
        "InvalidStrAttr4",
        400,
        "The specified parameter StrAttr4 is not valid.",
    ),
    (
        "InvalidIntAttr",
        400,
        "The specified parameter IntAttr is not valid.",
    ),
    (
        "InvalidIntAttr2",
        400,
        "The specified parameter IntAttr2 is not valid.",
    ),
    (
        "InvalidIntAttr3",
        400,
        "The specified parameter IntAttr3 is not valid.",
    ),
    (
        "InvalidIntAttr4",
        400,
        "The specified parameter IntAttr4 is not valid.",
    ),
    (
        "InvalidCustomContent",
        400,
        "The specified parameter CustomContent is not valid.",
    ),
    ("PicNotExist", 400, "The search picture does not exist."),
    (
        "NoSpecifiedPicContent",
        400,
        "The parameter PicContent no specified.",
    ),
    (
        "NoSpecifiedSearchPic",
        400,
        "The search image is not specified.",
    ),
    (
        "InvalidPicUrl",
        400,
        "The search picture does not exist at the specific url.",
    ),
    (
        "InvalidPicContent",
        400,
        "The specified parameter PicContent length greater than 4 * 1024 * 1024.",
    ),
    (
        "UnsupportedPicFormat",
        400,
        "The specified image format is invalid.",
    ),
    (
        "UnsupportedPicPixels",
        400,
        "The specified pixels is not supported.",
    ),
    (
        "IncorrectOrientation",
        400,
        "The image contains incorrect rotation flags in the meta data.",
    ),
    ("InvalidRegion", 400, "The specific region is illegal."),
    ("InvalidCategory", 400, "The specified category is invalid."),
    (
        "InvalidFilterClause",
        400,
        "The specified filtering condition is invalid.",
    ),
    (
        "OverflowMaxReturnNum",
        400,
        "The specified number of results for each request exceeds the maximum of 100.",
    ),
    (
        "OverflowMaxResultNum",
        400,
        "The specified number of total results exceeds the maximum of 500.",
    ),
    (
        "InvalidStartParameter",
        400,
        "The specified parameter s is inavlid.",
    ),
    (
        "InvalidNumParameter",
        400,
        "The specified parameter n is invalid.",
    ),
    (
        "InstanceOverQuota",
        400,
        "The number of items exceeds the limit.",
    ),
    (
        "UnsupportedOperationType",
        500,
        "The specified action is not supported.",
    ),
    ("SearchTimeout", 400, "The request is timed out."),
    (
        "TimeoutForTransferImage",
        400,
        "Timeout after 5 seconds waiting for images transfer to complete.",
    ),
    ("InternalError", 500, "An internal server error occurred."),
    (
        "UnknownException",
        500,
        "An internal server error occurred.",
    ),
    ("NetworkException", 500, "A network error occurred."),
    ("RequestTimeout", 500, "The request is timeout."),
    (
        "UnsupportedInstanceType",
        500,
        "The instance type is not supported.",
    ),
    (
        "ExtractFeatureTimeout",
        500,
        "The request was timed out while extracting features.",
    ),
    (
        "AccessEngineFailed",
        500,
        "An error occurred while accessing the search engine.",
    ),
    ("InternalOssError", 500, "An internal OAS error occurred."),
    (
        "InternalSwiftError",
        500,
        "An internal SWIFT error occurred.",
    ),
    (
        "InternalTableStoreError",
        500,
        "An internal Table Store error occurred.",
    ),
    (
        "Console.BadRequest",
        400,
        "The request has invalid parameters.",
    ),
    (
        "Console.InstanceNotFound",
        400,
        "The specified ImageSearch instance is not found.",
    ),
    ("Console.LoginError", 401, "Check login failed."),
    (
        "Console.NoPermission",
        403,
        "You are not authorized to this operation.",
    ),
    (
        "Console.InstanceStatusError",
        409,
        "Current Instance status not supported this opreate.",
    ),
    (
        "Console.InternalError",
        500,
        "The request processing has failed due to some unknown error.",
    ),
];

/// Every code name, for fault rules.
pub(crate) fn code_names() -> &'static [&'static str] {
    static NAMES: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| TABLE.iter().map(|(code, _, _)| *code).collect())
}

/// An error answer: a code from the table, with an optional message override (V2's signature
/// mismatch) and the cause for the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AliError {
    pub code: &'static str,
    pub message: Option<String>,
    pub cause: String,
}

impl AliError {
    /// An error with the table's message.
    pub fn new(code: &'static str, cause: impl Into<String>) -> Self {
        AliError {
            code,
            message: None,
            cause: cause.into(),
        }
    }

    /// An error with a specific message.
    pub fn with_message(code: &'static str, message: String, cause: impl Into<String>) -> Self {
        AliError {
            code,
            message: Some(message),
            cause: cause.into(),
        }
    }

    /// The answer to `req`.
    pub fn answer(&self, req: &Request) -> Answer {
        let reply = render(self.code, self.message.as_deref(), req).unwrap_or_else(|| {
            render("InternalError", None, req)
                .unwrap_or_else(|| Reply::empty(StatusCode::INTERNAL_SERVER_ERROR))
        });
        Answer::noted(reply, format!("{}: {}", self.code, self.cause))
    }
}

/// The error body for `code` (None for an unknown code).
pub(crate) fn render(code: &str, message: Option<&str>, req: &Request) -> Option<Reply> {
    let (code, status, default_message) = TABLE.iter().find(|(c, _, _)| *c == code)?;
    let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_REQUEST);
    let host = req.header("host").unwrap_or("");
    let id = &req.request_id;
    let body = json!({
        "RequestId": id,
        "HostId": host,
        "Code": code,
        "Message": message.unwrap_or(default_message),
        "Recommend": format!("https://api.aliyun.com/troubleshoot?q={code}&product=ImageSearch&requestId={id}"),
    });
    Some(Reply::json_as(status, JSON, &body))
}

/// A fresh RequestId: an upper-case UUID.
pub(crate) fn new_request_id() -> String {
    crate::ids::uuid_v4().to_string().to_ascii_uppercase()
}

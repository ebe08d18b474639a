//! `POST /_imgemu/credentials`: register an access key, token or password for a tenant.

use http::StatusCode;

use super::{error, json_body};
use crate::credentials::Credential;
use crate::instance::Instance;
use crate::reply::Reply;

pub(super) fn register(instance: &Instance, body: &[u8]) -> Reply {
    let doc = match json_body(body) {
        Ok(doc) => doc,
        Err(reply) => return reply,
    };
    let cred: Credential = match crate::state::from_value(&doc) {
        Ok(c) => c,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.under("$").to_string()),
    };
    match instance.register_credential(cred.clone()) {
        Ok(()) => Reply::json(StatusCode::CREATED, &cred),
        Err(message) => error(StatusCode::BAD_REQUEST, message),
    }
}

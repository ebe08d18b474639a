//! Auth modes shared by every vendor, and the tenant a request acts for.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How strictly vendor credentials are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// No checks at all; the tenant is derived from whatever credential is present.
    Off,
    /// Credentials must be present and well-formed; signatures and passwords are verified
    /// only for registered keys and users.
    #[default]
    Lenient,
    /// Registered credentials only, signatures verified, clock skew and replay checked.
    Strict,
}

/// An auth mode string other than `off`, `lenient` or `strict`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid auth mode {0:?}: expected off, lenient or strict")]
pub struct AuthModeError(pub String);

impl FromStr for AuthMode {
    type Err = AuthModeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "off" => Ok(AuthMode::Off),
            "lenient" => Ok(AuthMode::Lenient),
            "strict" => Ok(AuthMode::Strict),
            _ => Err(AuthModeError(s.to_string())),
        }
    }
}

impl fmt::Display for AuthMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuthMode::Off => "off",
            AuthMode::Lenient => "lenient",
            AuthMode::Strict => "strict",
        })
    }
}

/// The tenant a request acts for: access key (JD, Alibaba), project id (Huawei) or user (Aries).
/// One tenant never sees another's data.
pub type Tenant = String;

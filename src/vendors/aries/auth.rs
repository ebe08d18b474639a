//! Aries authentication (spec §5): `Bearer <token>` or HTTP `Basic`, decided per auth mode.
//! There is no signature, so no skew or replay checks exist in any mode.

use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use http::header::WWW_AUTHENTICATE;

use super::error::AriesError;
use crate::auth::{AuthMode, Tenant};
use crate::credentials::Credentials;
use crate::vendor::{Answer, Request};

/// Longest Bearer token accepted.
pub(crate) const MAX_TOKEN_LEN: usize = 512;

/// The tenant of requests without usable credentials when auth is off.
const DEFAULT_TENANT: &str = "default";

/// Standard base64, padding optional.
const BASIC: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// What the `Authorization` header presents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Presented {
    /// No header.
    Missing,
    /// Present but unusable; `basic` when the scheme was Basic.
    Malformed { basic: bool, why: &'static str },
    /// A well-formed Bearer token.
    Bearer(String),
    /// Well-formed Basic credentials.
    Basic { user: String, password: String },
}

/// Whether `token` has the RFC 6750 token68 form `^[A-Za-z0-9._~+/-]+=*$`.
pub(crate) fn is_token68(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'+' | b'/' | b'-')
        })
}

/// Parses the `Authorization` header(s) of a request (spec §5.2).
pub(crate) fn parse(req: &Request) -> Presented {
    let mut values = req.headers.get_all(http::header::AUTHORIZATION).iter();
    let Some(first) = values.next() else {
        return Presented::Missing;
    };
    let malformed = |basic, why| Presented::Malformed { basic, why };
    if values.next().is_some() {
        return malformed(false, "more than one Authorization header");
    }
    let Ok(value) = first.to_str() else {
        return malformed(false, "Authorization is not text");
    };
    let Some((scheme, rest)) = value.split_once(' ') else {
        return malformed(
            value.eq_ignore_ascii_case("basic"),
            "no credentials after the scheme",
        );
    };
    let credentials = rest.trim_start_matches(' ');
    if credentials.is_empty() {
        return malformed(
            scheme.eq_ignore_ascii_case("basic"),
            "no credentials after the scheme",
        );
    }
    if scheme.eq_ignore_ascii_case("bearer") {
        let token = credentials.trim_matches(' ');
        if token.chars().count() > MAX_TOKEN_LEN {
            return malformed(false, "token longer than 512 characters");
        }
        if !is_token68(token) {
            return malformed(false, "token is not in token68 form");
        }
        Presented::Bearer(token.to_string())
    } else if scheme.eq_ignore_ascii_case("basic") {
        let Ok(decoded) = BASIC.decode(credentials.trim_matches(' ')) else {
            return malformed(true, "Basic credentials are not base64");
        };
        let Ok(text) = String::from_utf8(decoded) else {
            return malformed(true, "Basic credentials are not UTF-8");
        };
        let Some((user, password)) = text.split_once(':') else {
            return malformed(true, "Basic credentials have no ':'");
        };
        if user.is_empty() {
            return malformed(true, "Basic user name is empty");
        }
        Presented::Basic {
            user: user.to_string(),
            password: password.to_string(),
        }
    } else {
        malformed(false, "scheme is neither Bearer nor Basic")
    }
}

/// Decides the tenant per the table of spec §5.3.
pub(crate) fn decide(
    presented: &Presented,
    mode: AuthMode,
    creds: &Credentials,
) -> Result<Tenant, (bool, String)> {
    match presented {
        Presented::Missing => match mode {
            AuthMode::Off => Ok(DEFAULT_TENANT.into()),
            _ => Err((false, "missing Authorization".into())),
        },
        Presented::Malformed { basic, why } => match mode {
            AuthMode::Off => Ok(DEFAULT_TENANT.into()),
            _ => Err((*basic, format!("malformed Authorization: {why}"))),
        },
        Presented::Bearer(token) => match creds.token("aries", token).and_then(|c| c.user) {
            Some(user) => Ok(user),
            None if mode == AuthMode::Strict => Err((false, "unknown token".into())),
            None => Ok(token.clone()),
        },
        Presented::Basic { user, password } => match creds.user_password("aries", user) {
            Some(cred) if cred.password.as_deref() == Some(password.as_str()) => Ok(user.clone()),
            Some(_) if mode == AuthMode::Off => Ok(user.clone()),
            Some(_) => Err((true, "wrong password".into())),
            None if mode == AuthMode::Strict => Err((true, "unknown user".into())),
            None => Ok(user.clone()),
        },
    }
}

/// Authenticates a routed request, or renders the 401.
pub(crate) fn authenticate(
    req: &Request,
    mode: AuthMode,
    creds: &Credentials,
) -> Result<Tenant, Answer> {
    decide(&parse(req), mode, creds).map_err(|(basic, cause)| {
        let mut reply = AriesError::Unauthorized.reply(&req.request_id);
        if basic {
            reply = reply.with_static_header(WWW_AUTHENTICATE, "Basic realm=\"aries\"");
        }
        Answer::noted(reply, format!("Unauthorized: {cause}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::Credential;

    fn request(values: &[&str]) -> Request {
        let mut headers = http::HeaderMap::new();
        for v in values {
            headers.append(http::header::AUTHORIZATION, v.parse().unwrap());
        }
        Request {
            method: http::Method::GET,
            path: "/".into(),
            query: None,
            headers,
            body: bytes::Bytes::new(),
            body_too_large: false,
            request_id: "r".into(),
            derived: Default::default(),
        }
    }

    fn store() -> Credentials {
        Credentials::new(vec![
            Credential {
                vendor: "aries".into(),
                token: Some("imgemu-dev-token".into()),
                user: Some("admin".into()),
                ..Default::default()
            },
            Credential {
                vendor: "aries".into(),
                user: Some("admin".into()),
                password: Some("password".into()),
                ..Default::default()
            },
        ])
    }

    #[test]
    fn parses_schemes_in_any_case() {
        assert_eq!(
            parse(&request(&["bearer  abc"])),
            Presented::Bearer("abc".into())
        );
        assert_eq!(
            parse(&request(&["BASIC YWRtaW46cGFzc3dvcmQ"])),
            Presented::Basic {
                user: "admin".into(),
                password: "password".into()
            }
        );
        assert_eq!(parse(&request(&[])), Presented::Missing);
        for bad in [
            "Bearer",
            "Bearer a b",
            "Token abc",
            "Basic !!!",
            "Basic OnB3",
            "Bearer =abc",
        ] {
            assert!(
                matches!(parse(&request(&[bad])), Presented::Malformed { .. }),
                "{bad}"
            );
        }
        assert!(matches!(
            parse(&request(&["Bearer a", "Bearer b"])),
            Presented::Malformed { .. }
        ));
        for bare_basic in ["Basic", "basic   "] {
            assert!(
                matches!(
                    parse(&request(&[bare_basic])),
                    Presented::Malformed { basic: true, .. }
                ),
                "{bare_basic:?} is a malformed Basic credential"
            );
        }
        let long = format!("Bearer {}", "a".repeat(513));
        assert!(matches!(
            parse(&request(&[&long])),
            Presented::Malformed { .. }
        ));
    }

    #[test]
    fn decision_table() {
        let creds = store();
        let bearer = |t: &str| Presented::Bearer(t.into());
        let basic = |u: &str, p: &str| Presented::Basic {
            user: u.into(),
            password: p.into(),
        };
        use AuthMode::*;
        assert_eq!(
            decide(&Presented::Missing, Off, &creds),
            Ok("default".into())
        );
        assert!(decide(&Presented::Missing, Lenient, &creds).is_err());
        assert_eq!(
            decide(&bearer("imgemu-dev-token"), Strict, &creds),
            Ok("admin".into())
        );
        assert_eq!(
            decide(&bearer("other"), Lenient, &creds),
            Ok("other".into())
        );
        assert!(decide(&bearer("other"), Strict, &creds).is_err());
        assert_eq!(
            decide(&basic("admin", "password"), Strict, &creds),
            Ok("admin".into())
        );
        assert_eq!(
            decide(&basic("admin", "nope"), Off, &creds),
            Ok("admin".into())
        );
        assert_eq!(
            decide(&basic("admin", "nope"), Lenient, &creds),
            Err((true, "wrong password".into()))
        );
        assert_eq!(
            decide(&basic("bob", "x"), Lenient, &creds),
            Ok("bob".into())
        );
        assert!(decide(&basic("bob", "x"), Strict, &creds).is_err());
    }
}

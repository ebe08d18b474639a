//! Credentials: the built-in development credentials (configuration, never in snapshots) and the
//! ones registered at run time through the control plane or a state document (state).

use parking_lot::RwLock;
use serde::{Deserialize, Serialize};

/// One credential, in the body shape of `POST /_imgemu/credentials`.
///
/// The fields used depend on the vendor: an access key pair (`access_key` + `secret_key`, Huawei also
/// `project_id`), a token (`token`, with `user` for Aries or `project_id` for Huawei), or a user and
/// password (Aries).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Credential {
    /// `jd`, `aliyun`, `huawei` or `aries`.
    pub vendor: String,
    /// Access key id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key: Option<String>,
    /// Secret paired with `access_key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<String>,
    /// Huawei project id bound to the key or token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    /// Bearer or auth token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// User name (Aries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Password of `user` (Aries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

impl Credential {
    /// The identity this credential is registered under: a later registration with the same
    /// vendor and identity replaces an earlier one.
    /// An access key registered for another project gains that project (Huawei), so the project
    /// is part of an access key's identity; a token is bound to one project, so it is not.
    fn identity(&self) -> (&str, Option<&str>, Option<&str>, Option<&str>, Option<&str>) {
        let user_if_password = self.password.as_ref().and(self.user.as_deref());
        let project_if_key = self.access_key.as_ref().and(self.project_id.as_deref());
        (
            &self.vendor,
            self.access_key.as_deref(),
            project_if_key,
            self.token.as_deref(),
            user_if_password,
        )
    }
}

/// The credential store of one emulator instance.
#[derive(Debug, Default)]
pub struct Credentials {
    builtin: Vec<Credential>,
    registered: RwLock<Vec<Credential>>,
}

impl Credentials {
    /// A store with these built-in credentials and nothing registered.
    pub fn new(builtin: Vec<Credential>) -> Self {
        Credentials {
            builtin,
            registered: RwLock::new(Vec::new()),
        }
    }

    /// Registers (or replaces) a credential. Validation is the caller's (the vendor's) job.
    pub fn register(&self, cred: Credential) {
        let mut registered = self.registered.write();
        match registered
            .iter_mut()
            .find(|c| c.identity() == cred.identity())
        {
            Some(existing) => *existing = cred,
            None => registered.push(cred),
        }
    }

    /// The credentials registered at run time, in registration order (the snapshot's `credentials`).
    pub fn registered(&self) -> Vec<Credential> {
        self.registered.read().clone()
    }

    /// Replaces every registered credential (state load); built-ins stay.
    pub fn replace_registered(&self, creds: Vec<Credential>) {
        *self.registered.write() = creds;
    }

    /// The built-in development credentials.
    pub fn builtin(&self) -> &[Credential] {
        &self.builtin
    }

    /// Finds the first credential of `vendor` satisfying `pred`, registered ones first.
    pub fn find(&self, vendor: &str, pred: impl Fn(&Credential) -> bool) -> Option<Credential> {
        let registered = self.registered.read();
        registered
            .iter()
            .rev()
            .chain(self.builtin.iter())
            .find(|c| c.vendor == vendor && pred(c))
            .cloned()
    }

    /// Every credential of `vendor` satisfying `pred`: built-ins first, then registered ones in
    /// registration order.
    pub fn all(&self, vendor: &str, pred: impl Fn(&Credential) -> bool) -> Vec<Credential> {
        let registered = self.registered.read();
        self.builtin
            .iter()
            .chain(registered.iter())
            .filter(|c| c.vendor == vendor && pred(c))
            .cloned()
            .collect()
    }

    /// The credential holding access key `ak` for `vendor`.
    pub fn access_key(&self, vendor: &str, ak: &str) -> Option<Credential> {
        self.find(vendor, |c| c.access_key.as_deref() == Some(ak))
    }

    /// The credential holding token `token` for `vendor`.
    pub fn token(&self, vendor: &str, token: &str) -> Option<Credential> {
        self.find(vendor, |c| c.token.as_deref() == Some(token))
    }

    /// The password credential of `user` for `vendor`.
    pub fn user_password(&self, vendor: &str, user: &str) -> Option<Credential> {
        self.find(vendor, |c| {
            c.password.is_some() && c.user.as_deref() == Some(user)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(t: &str, user: &str) -> Credential {
        Credential {
            vendor: "aries".into(),
            token: Some(t.into()),
            user: Some(user.into()),
            ..Default::default()
        }
    }

    #[test]
    fn registered_replace_and_shadow_builtins() {
        let store = Credentials::new(vec![token("t1", "admin")]);
        assert_eq!(
            store.token("aries", "t1").unwrap().user.as_deref(),
            Some("admin")
        );
        store.register(token("t1", "bob"));
        assert_eq!(
            store.token("aries", "t1").unwrap().user.as_deref(),
            Some("bob")
        );
        store.register(token("t1", "carol"));
        assert_eq!(store.registered().len(), 1);
        assert!(store.token("jd", "t1").is_none());
        store.replace_registered(Vec::new());
        assert_eq!(
            store.token("aries", "t1").unwrap().user.as_deref(),
            Some("admin")
        );
    }
}

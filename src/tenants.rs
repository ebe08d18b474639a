//! [`TenantMap`]: a vendor's state sharded by tenant. Each tenant's state sits behind its own
//! mutex, so one tenant's requests apply atomically while other tenants proceed in parallel; the
//! map itself is only write-locked to add a tenant or to replace everything.

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

/// Per-tenant state of type `T`.
#[derive(Debug)]
pub struct TenantMap<T> {
    tenants: RwLock<BTreeMap<String, Arc<Mutex<T>>>>,
}

impl<T> Default for TenantMap<T> {
    fn default() -> Self {
        TenantMap {
            tenants: RwLock::new(BTreeMap::new()),
        }
    }
}

impl<T: Default + Clone> TenantMap<T> {
    /// The tenant's state, created empty on first use.
    pub fn get_or_create(&self, tenant: &str) -> Arc<Mutex<T>> {
        if let Some(state) = self.tenants.read().get(tenant) {
            return state.clone();
        }
        self.tenants
            .write()
            .entry(tenant.to_string())
            .or_default()
            .clone()
    }

    /// The tenant's state, if it has any.
    pub fn get(&self, tenant: &str) -> Option<Arc<Mutex<T>>> {
        self.tenants.read().get(tenant).cloned()
    }

    /// A copy of one tenant's state (empty if it has none).
    pub fn copy_of(&self, tenant: &str) -> T {
        self.get(tenant)
            .map(|state| state.lock().clone())
            .unwrap_or_default()
    }

    /// A copy of every tenant's state, by tenant name (each copied under its own lock).
    pub fn snapshot(&self) -> Vec<(String, T)> {
        self.tenants
            .read()
            .iter()
            .map(|(name, state)| (name.clone(), state.lock().clone()))
            .collect()
    }

    /// Replaces every tenant's state.
    pub fn replace(&self, tenants: BTreeMap<String, T>) {
        *self.tenants.write() = tenants
            .into_iter()
            .map(|(k, v)| (k, Arc::new(Mutex::new(v))))
            .collect();
    }

    /// Runs `f` on each tenant's state under its lock, by tenant name.
    pub fn for_each(&self, mut f: impl FnMut(&str, &mut T)) {
        for (name, state) in self.tenants.read().iter() {
            f(name, &mut state.lock());
        }
    }

    /// Runs `f` on each tenant's state under its lock, by tenant name, until it returns `Some`.
    pub fn find_map<R>(&self, mut f: impl FnMut(&str, &mut T) -> Option<R>) -> Option<R> {
        let tenants = self.tenants.read();
        tenants
            .iter()
            .find_map(|(name, state)| f(name, &mut state.lock()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenants_are_created_once_and_replaced_whole() {
        let map: TenantMap<Vec<u32>> = TenantMap::default();
        map.get_or_create("a").lock().push(1);
        map.get_or_create("a").lock().push(2);
        assert!(map.get("b").is_none());
        assert_eq!(map.snapshot(), vec![("a".to_string(), vec![1, 2])]);
        map.replace(BTreeMap::from([("b".to_string(), vec![9])]));
        assert!(map.get("a").is_none());
        assert_eq!(
            map.find_map(|name, v| (name == "b").then_some(v.len())),
            Some(1)
        );
    }
}

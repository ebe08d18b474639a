//! Aries state: image records per tenant, the instance-wide id counter, and the snapshot form
//! (spec §2.7, §2.8, §8.2).

use std::collections::{BTreeMap, HashMap, HashSet};

use rand::rngs::StdRng;
use rand::Rng;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::validate;
use crate::clock::{format_seconds, parse_rfc3339};
use crate::state::{from_value, StateError};

/// Largest id (2^63 − 1).
pub(crate) const MAX_ID: u64 = i64::MAX as u64;

/// One image record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Image {
    pub id: u64,
    pub image_ref: String,
    pub name: String,
    pub os_type: String,
    pub os_name: String,
    pub description: String,
    pub source_path: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub in_use: bool,
}

/// One tenant's images, indexed by id, name and ref.
#[derive(Debug, Clone, Default)]
pub(crate) struct TenantImages {
    by_id: BTreeMap<u64, Image>,
    id_by_name: HashMap<String, u64>,
    id_by_ref: HashMap<String, u64>,
}

impl TenantImages {
    pub fn get(&self, id: u64) -> Option<&Image> {
        self.by_id.get(&id)
    }

    pub fn get_mut(&mut self, id: u64) -> Option<&mut Image> {
        self.by_id.get_mut(&id)
    }

    pub fn id_of_ref(&self, image_ref: &str) -> Option<u64> {
        self.id_by_ref.get(image_ref).copied()
    }

    pub fn id_of_name(&self, name: &str) -> Option<u64> {
        self.id_by_name.get(name).copied()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Image> {
        self.by_id.values()
    }

    pub fn insert(&mut self, image: Image) {
        self.id_by_name.insert(image.name.clone(), image.id);
        self.id_by_ref.insert(image.image_ref.clone(), image.id);
        self.by_id.insert(image.id, image);
    }

    /// Renames image `id` (keeps the name index right).
    pub fn rename(&mut self, id: u64, name: &str) {
        if let Some(image) = self.by_id.get_mut(&id) {
            self.id_by_name.remove(&image.name);
            image.name = name.to_string();
            self.id_by_name.insert(image.name.clone(), id);
        }
    }

    pub fn remove(&mut self, id: u64) -> Option<Image> {
        let image = self.by_id.remove(&id)?;
        self.id_by_name.remove(&image.name);
        self.id_by_ref.remove(&image.image_ref);
        Some(image)
    }
}

/// The whole Aries state of one emulator.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    /// The id the next CreateImage gets.
    pub next_id: u64,
    pub tenants: BTreeMap<String, TenantImages>,
    /// Every ref issued in this state history, deleted ones included, so none is reused.
    pub issued_refs: HashSet<String>,
}

impl Default for Store {
    fn default() -> Self {
        Store {
            next_id: 1,
            tenants: BTreeMap::new(),
            issued_refs: HashSet::new(),
        }
    }
}

/// Whether `s` matches `^img-[0-9a-z]{12}$`.
pub(crate) fn is_ref(s: &str) -> bool {
    s.strip_prefix("img-").is_some_and(|rest| {
        rest.len() == 12
            && rest
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
    })
}

/// A fresh ref not in `issued`.
pub(crate) fn new_ref(rng: &mut StdRng, issued: &HashSet<String>) -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    loop {
        let suffix: String = (0..12)
            .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
            .collect();
        let candidate = format!("img-{suffix}");
        if !issued.contains(&candidate) {
            return candidate;
        }
    }
}

/// An image as stored in the state document.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImageDoc {
    id: u64,
    #[serde(rename = "ref", default)]
    image_ref: Option<String>,
    name: String,
    os_type: String,
    os_name: String,
    #[serde(default)]
    description: String,
    source_path: String,
    created_at: String,
    updated_at: String,
    #[serde(default)]
    in_use: bool,
}

#[derive(Debug, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TenantDoc {
    #[serde(default)]
    images: Vec<ImageDoc>,
}

#[derive(Debug, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct StoreDoc {
    #[serde(default)]
    next_id: Option<u64>,
    #[serde(default)]
    tenants: BTreeMap<String, TenantDoc>,
}

/// Parses `YYYY-MM-DDThh:mm:ssZ` exactly (so a document round-trips byte for byte).
fn parse_stamp(text: &str) -> Option<OffsetDateTime> {
    parse_rfc3339(text).filter(|t| format_seconds(*t) == text)
}

impl Store {
    /// The snapshot member: every field, tenants by name, images by id.
    pub fn to_document(&self) -> serde_json::Value {
        self.document_of(self.tenants.iter())
    }

    /// The member restricted to `tenant` (present even when it holds nothing) and `next_id`: what
    /// a request of that tenant can change.
    pub fn tenant_document(&self, tenant: &str) -> serde_json::Value {
        let empty = TenantImages::default();
        let name = tenant.to_string();
        let images = self.tenants.get(tenant).unwrap_or(&empty);
        self.document_of(std::iter::once((&name, images)))
    }

    fn document_of<'a>(
        &self,
        tenants: impl Iterator<Item = (&'a String, &'a TenantImages)>,
    ) -> serde_json::Value {
        let doc = StoreDoc {
            next_id: Some(self.next_id),
            tenants: tenants
                .map(|(name, t)| {
                    let images = t
                        .iter()
                        .map(|i| ImageDoc {
                            id: i.id,
                            image_ref: Some(i.image_ref.clone()),
                            name: i.name.clone(),
                            os_type: i.os_type.clone(),
                            os_name: i.os_name.clone(),
                            description: i.description.clone(),
                            source_path: i.source_path.clone(),
                            created_at: format_seconds(i.created_at),
                            updated_at: format_seconds(i.updated_at),
                            in_use: i.in_use,
                        })
                        .collect();
                    (name.clone(), TenantDoc { images })
                })
                .collect(),
        };
        serde_json::to_value(doc).unwrap_or(serde_json::Value::Null)
    }

    /// Validates a snapshot member and builds the store it describes (absent refs are drawn from
    /// `rng`). Paths in errors are relative to the member.
    pub fn from_document(
        member: Option<&serde_json::Value>,
        rng: &mut StdRng,
    ) -> Result<Store, StateError> {
        let doc: StoreDoc = match member {
            None | Some(serde_json::Value::Null) => StoreDoc::default(),
            Some(v) => from_value(v)?,
        };
        let mut store = Store::default();
        let mut ids = HashSet::new();
        let mut max_id = 0;
        for (tenant, tdoc) in doc.tenants {
            let mut images = TenantImages::default();
            for (i, d) in tdoc.images.into_iter().enumerate() {
                let at = |field: &str| format!("tenants.{tenant}.images[{i}].{field}");
                if d.id == 0 || d.id > MAX_ID {
                    return Err(StateError::new(
                        at("id"),
                        "expected an integer in 1..=9223372036854775807",
                    ));
                }
                if !ids.insert(d.id) {
                    return Err(StateError::new(at("id"), format!("duplicate id {}", d.id)));
                }
                max_id = max_id.max(d.id);
                let image_ref = match d.image_ref {
                    Some(r) if !is_ref(&r) => {
                        return Err(StateError::new(
                            at("ref"),
                            format!("{r:?} does not match ^img-[0-9a-z]{{12}}$"),
                        ))
                    }
                    Some(r) => r,
                    None => new_ref(rng, &store.issued_refs),
                };
                if !store.issued_refs.insert(image_ref.clone()) {
                    return Err(StateError::new(
                        at("ref"),
                        format!("duplicate ref {image_ref:?}"),
                    ));
                }
                // The API's own field rules, so no document holds a record the API would refuse.
                let rules = [
                    ("name", validate::check_name(&d.name)),
                    ("os_type", validate::check_os_type(&d.os_type)),
                    ("os_name", validate::check_os_name(&d.os_name)),
                    ("description", validate::check_description(&d.description)),
                ];
                for (field, result) in rules {
                    result.map_err(|f| StateError::new(at(field), f.cause))?;
                }
                validate::check_source_path(&d.source_path).map_err(|why| {
                    StateError::new(at("source_path"), format!("source_path {why}"))
                })?;
                if images.id_of_name(&d.name).is_some() {
                    return Err(StateError::new(
                        at("name"),
                        format!("duplicate name {:?} in tenant {tenant:?}", d.name),
                    ));
                }
                let stamp = |field: &str, text: &str| {
                    parse_stamp(text).ok_or_else(|| {
                        StateError::new(
                            at(field),
                            format!("{text:?} is not of the form YYYY-MM-DDThh:mm:ssZ"),
                        )
                    })
                };
                let created_at = stamp("created_at", &d.created_at)?;
                let updated_at = stamp("updated_at", &d.updated_at)?;
                images.insert(Image {
                    id: d.id,
                    image_ref,
                    name: d.name,
                    os_type: d.os_type,
                    os_name: d.os_name,
                    description: d.description,
                    source_path: d.source_path,
                    created_at,
                    updated_at,
                    in_use: d.in_use,
                });
            }
            store.tenants.insert(tenant, images);
        }
        store.next_id = match doc.next_id {
            None => max_id + 1,
            Some(n) if n > max_id && n <= MAX_ID => n,
            Some(n) => {
                return Err(StateError::new(
                    "next_id",
                    format!(
                    "{n} must be above every image id (largest is {max_id}) and at most {MAX_ID}"
                ),
                ))
            }
        };
        Ok(store)
    }
}

//! Alibaba state: per tenant, instances (spec §1.1) holding image records keyed by
//! (ProductId, PicName) (§1.2), and their snapshot form (§8.3).

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::picture::{self, Picture};
use crate::state::{from_value, StateError};

/// The "no prediction" category.
pub(crate) const OTHER_CATEGORY: i64 = 88_888_888;

/// The category table (ServiceType 0).
pub(crate) const CATEGORIES: &[(i64, &str)] = &[
    (0, "Tops"),
    (1, "Dress"),
    (2, "Bottoms"),
    (3, "Bag"),
    (4, "Shoes"),
    (5, "Accessories"),
    (6, "Snack"),
    (7, "Makeup"),
    (8, "Bottle"),
    (9, "Furniture"),
    (20, "Toy"),
    (21, "Underwear"),
    (22, "Digital"),
    (OTHER_CATEGORY, "Other"),
];

/// One stored image.
#[derive(Debug, Clone)]
pub(crate) struct Image {
    pub product_id: String,
    pub pic_name: String,
    pub category_id: i64,
    pub region: String,
    pub custom_content: String,
    pub int_attrs: [i32; 4],
    pub str_attrs: [String; 4],
    pub picture: Arc<Picture>,
}

/// An instance's own fields (spec §1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InstanceInfo {
    pub name: String,
    pub region: String,
    pub service_type: i64,
    pub capacity: i64,
    pub qps: i64,
    pub status: String,
    pub utc_create: i64,
    pub utc_expire: i64,
    pub image_limit: Option<i64>,
}

fn default_region() -> String {
    "ap-southeast-1".into()
}
fn default_capacity() -> i64 {
    100
}
fn default_qps() -> i64 {
    10
}
fn default_status() -> String {
    "available".into()
}

impl InstanceInfo {
    /// The emulator-only image limit: `ImageLimit`, else Capacity × 10,000.
    pub fn limit(&self) -> usize {
        let limit = self
            .image_limit
            .unwrap_or(self.capacity.saturating_mul(10_000));
        usize::try_from(limit).unwrap_or(0)
    }

    /// Checks the fields a control-plane or document writer may get wrong; names the field.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let n = self.name.chars().count();
        if n == 0 || n > 20 {
            return Err(("name", "must be 1-20 characters".into()));
        }
        if !(0..=7).contains(&self.service_type) {
            return Err(("service_type", "expected 0..=7".into()));
        }
        if self.capacity < 1 {
            return Err(("capacity", "expected a positive integer".into()));
        }
        if self.qps < 1 {
            return Err(("qps", "expected a positive integer".into()));
        }
        if self.status != "available" && self.status != "unavailable" {
            return Err(("status", "expected available or unavailable".into()));
        }
        if self.image_limit.is_some_and(|l| l < 0) {
            return Err(("image_limit", "expected a non-negative integer".into()));
        }
        Ok(())
    }
}

/// An instance with its images, keyed by (ProductId, PicName).
#[derive(Debug, Clone)]
pub(crate) struct Instance {
    pub info: InstanceInfo,
    pub images: BTreeMap<(String, String), Image>,
}

/// A tenant's instances, in creation order.
#[derive(Debug, Clone, Default)]
pub(crate) struct TenantState {
    pub instances: Vec<Instance>,
}

impl TenantState {
    pub fn instance(&self, name: &str) -> Option<&Instance> {
        self.instances.iter().find(|i| i.info.name == name)
    }
    pub fn instance_mut(&mut self, name: &str) -> Option<&mut Instance> {
        self.instances.iter_mut().find(|i| i.info.name == name)
    }
}

/// An image in the state document: every attribute under its API name, defaults included.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImageDoc {
    #[serde(rename = "ProductId")]
    product_id: String,
    #[serde(rename = "PicName")]
    pic_name: String,
    #[serde(rename = "CategoryId", default = "other")]
    category_id: i64,
    #[serde(rename = "Region", default, skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    #[serde(rename = "CustomContent", default)]
    custom_content: String,
    #[serde(rename = "IntAttr", default)]
    int_attr: i32,
    #[serde(rename = "IntAttr2", default)]
    int_attr2: i32,
    #[serde(rename = "IntAttr3", default)]
    int_attr3: i32,
    #[serde(rename = "IntAttr4", default)]
    int_attr4: i32,
    #[serde(rename = "StrAttr", default)]
    str_attr: String,
    #[serde(rename = "StrAttr2", default)]
    str_attr2: String,
    #[serde(rename = "StrAttr3", default)]
    str_attr3: String,
    #[serde(rename = "StrAttr4", default)]
    str_attr4: String,
    #[serde(rename = "PicContent")]
    pic_content: String,
}

fn other() -> i64 {
    OTHER_CATEGORY
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct InstanceDoc {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Region", default = "default_region")]
    region: String,
    #[serde(rename = "ServiceType", default)]
    service_type: i64,
    #[serde(rename = "Capacity", default = "default_capacity")]
    capacity: i64,
    #[serde(rename = "Qps", default = "default_qps")]
    qps: i64,
    #[serde(rename = "Status", default = "default_status")]
    status: String,
    #[serde(rename = "UtcCreate", default)]
    utc_create: i64,
    #[serde(rename = "UtcExpireTime", default)]
    utc_expire: i64,
    #[serde(rename = "ImageLimit", default)]
    image_limit: Option<i64>,
    #[serde(rename = "Images", default)]
    images: Vec<ImageDoc>,
}

#[derive(Debug, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TenantDoc {
    #[serde(default)]
    instances: Vec<InstanceDoc>,
}

#[derive(Debug, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct AliyunDoc {
    #[serde(default)]
    tenants: BTreeMap<String, TenantDoc>,
}

fn image_doc(image: &Image) -> ImageDoc {
    let [i1, i2, i3, i4] = image.int_attrs;
    let [s1, s2, s3, s4] = image.str_attrs.clone();
    ImageDoc {
        product_id: image.product_id.clone(),
        pic_name: image.pic_name.clone(),
        category_id: image.category_id,
        region: Some(image.region.clone()),
        custom_content: image.custom_content.clone(),
        int_attr: i1,
        int_attr2: i2,
        int_attr3: i3,
        int_attr4: i4,
        str_attr: s1,
        str_attr2: s2,
        str_attr3: s3,
        str_attr4: s4,
        pic_content: base64::engine::general_purpose::STANDARD.encode(&image.picture.bytes),
    }
}

/// The `aliyun` member for these tenants.
pub(crate) fn export<'a>(tenants: impl Iterator<Item = (&'a String, &'a TenantState)>) -> Value {
    let doc = AliyunDoc {
        tenants: tenants
            .map(|(name, t)| {
                let instances = t
                    .instances
                    .iter()
                    .map(|i| InstanceDoc {
                        name: i.info.name.clone(),
                        region: i.info.region.clone(),
                        service_type: i.info.service_type,
                        capacity: i.info.capacity,
                        qps: i.info.qps,
                        status: i.info.status.clone(),
                        utc_create: i.info.utc_create,
                        utc_expire: i.info.utc_expire,
                        image_limit: Some(i64::try_from(i.info.limit()).unwrap_or(i64::MAX)),
                        images: i.images.values().map(image_doc).collect(),
                    })
                    .collect();
                (name.clone(), TenantDoc { instances })
            })
            .collect(),
    };
    serde_json::to_value(doc).unwrap_or(Value::Null)
}

/// Parses `x1,x2,y1,y2` (non-negative, x1 < x2, y1 < y2).
pub(crate) fn parse_region(text: &str) -> Option<[u32; 4]> {
    let parts: Vec<u32> = text
        .split(',')
        .map(|p| p.trim().parse::<u32>().ok())
        .collect::<Option<_>>()?;
    match parts.as_slice() {
        [x1, x2, y1, y2] if x1 < x2 && y1 < y2 => Some([*x1, *x2, *y1, *y2]),
        _ => None,
    }
}

/// A region clamped to a picture (`x ≤ W−1`, `y ≤ H−1`), as text.
pub(crate) fn clamp_region(region: Option<[u32; 4]>, width: u32, height: u32) -> String {
    let (w, h) = (width.saturating_sub(1), height.saturating_sub(1));
    let [x1, x2, y1, y2] = region.unwrap_or([0, w, 0, h]);
    format!("{},{},{},{}", x1.min(w), x2.min(w), y1.min(h), y2.min(h))
}

fn image_from(doc: ImageDoc, at: &str) -> Result<Image, StateError> {
    let bytes = picture::decode(&doc.pic_content)
        .map_err(|e| StateError::new(format!("{at}.PicContent"), e.cause))?;
    let picture = picture::inspect(bytes).map_err(|e| {
        StateError::new(
            format!("{at}.PicContent"),
            format!("{}: {}", e.code, e.cause),
        )
    })?;
    let region = match &doc.region {
        None => clamp_region(None, picture.width, picture.height),
        Some(text) => {
            let parsed = parse_region(text)
                .ok_or_else(|| StateError::new(format!("{at}.Region"), "expected x1,x2,y1,y2"))?;
            clamp_region(Some(parsed), picture.width, picture.height)
        }
    };
    for (field, len, max) in [
        ("ProductId", doc.product_id.chars().count(), 256),
        ("PicName", doc.pic_name.chars().count(), 256),
        ("StrAttr", doc.str_attr.chars().count(), 128),
        ("StrAttr2", doc.str_attr2.chars().count(), 128),
        ("StrAttr3", doc.str_attr3.chars().count(), 128),
        ("StrAttr4", doc.str_attr4.chars().count(), 128),
        ("CustomContent", doc.custom_content.chars().count(), 4096),
    ] {
        if len > max || (len == 0 && matches!(field, "ProductId" | "PicName")) {
            return Err(StateError::new(
                format!("{at}.{field}"),
                format!("must be 1-{max} characters"),
            ));
        }
    }
    Ok(Image {
        product_id: doc.product_id,
        pic_name: doc.pic_name,
        category_id: doc.category_id,
        region,
        custom_content: doc.custom_content,
        int_attrs: [doc.int_attr, doc.int_attr2, doc.int_attr3, doc.int_attr4],
        str_attrs: [doc.str_attr, doc.str_attr2, doc.str_attr3, doc.str_attr4],
        picture: Arc::new(picture),
    })
}

/// Validates an `aliyun` member and builds the tenants it describes.
pub(crate) fn import(member: Option<&Value>) -> Result<BTreeMap<String, TenantState>, StateError> {
    let doc: AliyunDoc = match member {
        None | Some(Value::Null) => AliyunDoc::default(),
        Some(v) => from_value(v)?,
    };
    let mut tenants = BTreeMap::new();
    for (tenant, tdoc) in doc.tenants {
        let mut state = TenantState::default();
        for (ii, idoc) in tdoc.instances.into_iter().enumerate() {
            let at = format!("tenants.{tenant}.instances[{ii}]");
            let info = InstanceInfo {
                name: idoc.name,
                region: idoc.region,
                service_type: idoc.service_type,
                capacity: idoc.capacity,
                qps: idoc.qps,
                status: idoc.status,
                utc_create: idoc.utc_create,
                utc_expire: idoc.utc_expire,
                image_limit: idoc.image_limit,
            };
            info.validate()
                .map_err(|(field, m)| StateError::new(format!("{at}.{field}"), m))?;
            if state.instance(&info.name).is_some() {
                return Err(StateError::new(
                    format!("{at}.Name"),
                    "duplicate instance name",
                ));
            }
            let mut images = BTreeMap::new();
            for (pi, image) in idoc.images.into_iter().enumerate() {
                let image = image_from(image, &format!("{at}.Images[{pi}]"))?;
                let key = (image.product_id.clone(), image.pic_name.clone());
                if images.insert(key, image).is_some() {
                    return Err(StateError::new(
                        format!("{at}.Images[{pi}]"),
                        "duplicate (ProductId, PicName)",
                    ));
                }
            }
            state.instances.push(Instance { info, images });
        }
        tenants.insert(tenant, state);
    }
    Ok(tenants)
}

//! The actions that change images (spec §3.1–3.3): UpdateImage (full fidelity), AddImage and
//! DeleteImage, each validating in the documented order before changing anything.

use std::sync::Arc;

use serde_json::{json, Value};

use super::errors::AliError;
use super::fields;
use super::model::{clamp_region, Image, Instance, OTHER_CATEGORY};
use super::params::Params;
use super::picture;
use super::read::{all_categories, pic_info};

/// UpdateImage (§3.1 steps 5–10): only the parameters present change.
pub(crate) fn update_image(instance: &mut Instance, params: &Params) -> Result<Value, AliError> {
    let product_id = fields::product_id(params)?;
    let pic_name = fields::pic_name(params, false)?.unwrap_or_default();
    let str_attrs = fields::str_attrs(params)?;
    let int_attrs = fields::int_attrs(params)?;
    let custom_content = fields::custom_content(params)?;
    let image = instance
        .images
        .get_mut(&(product_id.clone(), pic_name.clone()))
        .ok_or_else(|| {
            AliError::new(
                "PicNotExist",
                format!("no image ({product_id}, {pic_name})"),
            )
        })?;
    for (slot, value) in image.str_attrs.iter_mut().zip(str_attrs) {
        if let Some(v) = value {
            *slot = v;
        }
    }
    for (slot, value) in image.int_attrs.iter_mut().zip(int_attrs) {
        if let Some(v) = value {
            *slot = v;
        }
    }
    if let Some(c) = custom_content {
        image.custom_content = c;
    }
    Ok(json!({}))
}

/// AddImage (§3.2): stores a picture; the same key replaces the image entirely.
pub(crate) fn add_image(
    instance: &mut Instance,
    params: &Params,
    quotas: bool,
) -> Result<Value, AliError> {
    let product_id = fields::product_id(params)?;
    let pic_name = fields::pic_name(params, false)?.unwrap_or_default();
    let content = params
        .text("PicContent")
        .ok_or_else(|| AliError::new("NoSpecifiedPicContent", "PicContent missing"))?;
    let bytes = picture::decode(content)?;
    let service_type = instance.info.service_type;
    let category = fields::category(params, service_type)?;
    fields::crop(params)?;
    let region = fields::region(params)?;
    let str_attrs = fields::str_attrs(params)?;
    let int_attrs = fields::int_attrs(params)?;
    let custom_content = fields::custom_content(params)?;
    let picture = picture::inspect(bytes)?;
    let key = (product_id.clone(), pic_name.clone());
    if quotas
        && !instance.images.contains_key(&key)
        && instance.images.len() >= instance.info.limit()
    {
        return Err(AliError::new(
            "InstanceOverQuota",
            format!("{} images stored", instance.images.len()),
        ));
    }
    let region = clamp_region(region, picture.width, picture.height);
    let category_id = category.unwrap_or(OTHER_CATEGORY);
    let image = Image {
        product_id,
        pic_name,
        category_id,
        region: region.clone(),
        custom_content: custom_content.unwrap_or_default(),
        int_attrs: int_attrs.map(Option::unwrap_or_default),
        str_attrs: str_attrs.map(Option::unwrap_or_default),
        picture: Arc::new(picture),
    };
    instance.images.insert(key, image);
    Ok(json!({ "PicInfo": pic_info(category_id, &region, all_categories(service_type)) }))
}

/// DeleteImage (§3.3): one image, all images of a product, or every image matching a filter.
pub(crate) fn delete_image(instance: &mut Instance, params: &Params) -> Result<Value, AliError> {
    let by_filter = params.boolean("IsDeleteByFilter")?.unwrap_or(false);
    let doomed: Vec<(String, String)> = if by_filter {
        let filter = fields::required_filter(params)?;
        instance
            .images
            .iter()
            .filter(|(_, image)| filter.matches(&super::read::attributes(image)))
            .map(|(key, _)| key.clone())
            .collect()
    } else {
        let product_id = fields::product_id(params)?;
        match fields::pic_name(params, true)? {
            Some(name) => {
                let key = (product_id, name);
                instance
                    .images
                    .contains_key(&key)
                    .then_some(key)
                    .into_iter()
                    .collect()
            }
            None => instance
                .images
                .keys()
                .filter(|(p, _)| *p == product_id)
                .cloned()
                .collect(),
        }
    };
    let mut names = Vec::new();
    for key in doomed {
        if instance.images.remove(&key).is_some() {
            names.push(key.1);
        }
    }
    Ok(json!({ "Data": { "PicNames": names } }))
}

//! The five Aries operations (spec §3), each validating in the specified order and changing the
//! store atomically under one write lock.

use http::StatusCode;
use serde::Serialize;
use serde_json::json;

use super::error::{ref_header, AriesError, Failure, JSON};
use super::model::{new_ref, Image, Store};
use super::validate::{self, ImageKey};
use super::Aries;
use crate::auth::Tenant;
use crate::clock::format_seconds;
use crate::reply::Reply;
use crate::vendor::{Ctx, Request};

/// The full image object (UpdateImage, DescribeImage).
#[derive(Serialize)]
struct FullImage<'a> {
    id: u64,
    name: &'a str,
    os_type: &'a str,
    os_name: &'a str,
    description: &'a str,
    source_path: &'a str,
    created_at: String,
    updated_at: String,
}

/// CreateImage's image: no `updated_at`.
#[derive(Serialize)]
struct CreatedImage<'a> {
    id: u64,
    name: &'a str,
    os_type: &'a str,
    os_name: &'a str,
    description: &'a str,
    source_path: &'a str,
    created_at: String,
}

/// CreateImage's body: `{"image": …}`.
#[derive(Serialize)]
struct Created<'a> {
    image: CreatedImage<'a>,
}

/// ListImage's element: no `source_path`.
#[derive(Serialize)]
struct ListedImage<'a> {
    id: u64,
    name: &'a str,
    os_type: &'a str,
    os_name: &'a str,
    description: &'a str,
    created_at: String,
    updated_at: String,
}

fn full(image: &Image) -> FullImage<'_> {
    FullImage {
        id: image.id,
        name: &image.name,
        os_type: &image.os_type,
        os_name: &image.os_name,
        description: &image.description,
        source_path: &image.source_path,
        created_at: format_seconds(image.created_at),
        updated_at: format_seconds(image.updated_at),
    }
}

fn ok_with_ref<T: Serialize>(body: &T, image_ref: &str) -> Reply {
    Reply::json_as(StatusCode::OK, JSON, body).with_header(ref_header(), image_ref)
}

/// `PUT /aries/api/v1/image` (spec §3.1).
pub(crate) fn update_image(
    aries: &Aries,
    tenant: &Tenant,
    req: &Request,
    ctx: &Ctx<'_>,
) -> Result<Reply, Failure> {
    let body = validate::json_object(req)?;
    let id = validate::body_id(&body)?;
    let name = validate::opt_string(&body, "name")?;
    let os_type = validate::opt_string(&body, "os_type")?;
    let os_name = validate::opt_string(&body, "os_name")?;
    let description = validate::opt_string(&body, "description")?;
    let source_path = validate::opt_string(&body, "source_path")?;
    name.map(validate::check_name).transpose()?;
    os_type.map(validate::check_os_type).transpose()?;
    os_name.map(validate::check_os_name).transpose()?;
    description.map(validate::check_description).transpose()?;

    let mut store = aries.store.write();
    let images = store
        .tenants
        .get_mut(tenant.as_str())
        .ok_or_else(|| Failure::new(AriesError::ImageNotFound, format!("no image {id}")))?;
    let current = images
        .get(id)
        .ok_or_else(|| Failure::new(AriesError::ImageNotFound, format!("no image {id}")))?;
    if let Some(path) = source_path {
        if path != current.source_path {
            return Err(Failure::invalid("source_path cannot be changed"));
        }
    }
    if let Some(name) = name {
        if images.id_of_name(name).is_some_and(|other| other != id) {
            return Err(Failure::new(
                AriesError::ImageNameExists,
                format!("another image already has the name {name:?}"),
            ));
        }
        images.rename(id, name);
    }
    let now = ctx.clock.now_seconds();
    let image = images
        .get_mut(id)
        .ok_or_else(|| Failure::new(AriesError::InternalError, "image vanished under the lock"))?;
    if let Some(v) = os_type {
        image.os_type = v.to_string();
    }
    if let Some(v) = os_name {
        image.os_name = v.to_string();
    }
    if let Some(v) = description {
        image.description = v.to_string();
    }
    image.updated_at = now;
    Ok(ok_with_ref(&full(image), &image.image_ref))
}

/// `POST /aries/api/v1/image/create` (spec §3.2).
pub(crate) fn create_image(
    aries: &Aries,
    tenant: &Tenant,
    req: &Request,
    ctx: &Ctx<'_>,
) -> Result<Reply, Failure> {
    let body = validate::json_object(req)?;
    // Type checks of every known field come before presence and rule checks.
    for field in ["name", "os_type", "os_name", "description", "source_path"] {
        validate::opt_string(&body, field)?;
    }
    let name = validate::required_string(&body, "name")?;
    let os_type = validate::required_string(&body, "os_type")?;
    let os_name = validate::required_string(&body, "os_name")?;
    let source_path = validate::required_string(&body, "source_path")?;
    let description = validate::opt_string(&body, "description")?.unwrap_or("");
    validate::check_name(name)?;
    validate::check_os_type(os_type)?;
    validate::check_os_name(os_name)?;
    validate::check_description(description)?;
    validate::check_source_path(source_path)
        .map_err(|why| Failure::new(AriesError::InvalidSourcePath, format!("source_path {why}")))?;

    let mut guard = aries.store.write();
    let store: &mut Store = &mut guard;
    if store
        .tenants
        .get(tenant.as_str())
        .is_some_and(|t| t.id_of_name(name).is_some())
    {
        return Err(Failure::new(
            AriesError::ImageExists,
            format!("the tenant already has an image named {name:?}"),
        ));
    }
    let id = store.next_id;
    if id > super::model::MAX_ID {
        return Err(Failure::new(
            AriesError::InternalError,
            "id counter exhausted",
        ));
    }
    let image_ref = new_ref(&mut aries.rng.lock(), &store.issued_refs);
    store.issued_refs.insert(image_ref.clone());
    store.next_id += 1;
    let now = ctx.clock.now_seconds();
    let image = Image {
        id,
        image_ref: image_ref.clone(),
        name: name.to_string(),
        os_type: os_type.to_string(),
        os_name: os_name.to_string(),
        description: description.to_string(),
        source_path: source_path.to_string(),
        created_at: now,
        updated_at: now,
        in_use: false,
    };
    let reply = ok_with_ref(
        &Created {
            image: CreatedImage {
                id,
                name: &image.name,
                os_type: &image.os_type,
                os_name: &image.os_name,
                description: &image.description,
                source_path: &image.source_path,
                created_at: format_seconds(now),
            },
        },
        &image_ref,
    );
    store
        .tenants
        .entry(tenant.clone())
        .or_default()
        .insert(image);
    Ok(reply)
}

/// The first value of query parameter `name`, form-decoded.
fn first_param(req: &Request, name: &str) -> Option<String> {
    form_urlencoded::parse(req.query.as_deref().unwrap_or("").as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// `GET /aries/api/v1/image/list` (spec §3.3).
pub(crate) fn list_images(aries: &Aries, tenant: &Tenant, req: &Request) -> Result<Reply, Failure> {
    let os_type = first_param(req, "os_type").filter(|v| !v.is_empty());
    if let Some(t) = &os_type {
        validate::check_os_type(t)?;
    }
    let os_name = first_param(req, "os_name")
        .filter(|v| !v.is_empty())
        .map(|v| v.to_lowercase());
    let store = aries.store.read();
    let mut matching: Vec<&Image> = store
        .tenants
        .get(tenant.as_str())
        .map(|t| {
            t.iter()
                .filter(|i| os_type.as_deref().is_none_or(|t| i.os_type == t))
                .filter(|i| {
                    os_name
                        .as_deref()
                        .is_none_or(|n| i.os_name.to_lowercase().contains(n))
                })
                .collect()
        })
        .unwrap_or_default();
    matching.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    let listed: Vec<ListedImage<'_>> = matching
        .into_iter()
        .map(|i| ListedImage {
            id: i.id,
            name: &i.name,
            os_type: &i.os_type,
            os_name: &i.os_name,
            description: &i.description,
            created_at: format_seconds(i.created_at),
            updated_at: format_seconds(i.updated_at),
        })
        .collect();
    Ok(Reply::json_as(StatusCode::OK, JSON, &listed))
}

/// `GET /aries/api/v1/image/:id` (spec §3.4).
pub(crate) fn describe_image(
    aries: &Aries,
    tenant: &Tenant,
    id_text: &str,
) -> Result<Reply, Failure> {
    let id = validate::digits_id(id_text).ok_or_else(|| {
        Failure::invalid(format!("image id {id_text:?} is not a positive integer"))
    })?;
    let store = aries.store.read();
    let image = store
        .tenants
        .get(tenant.as_str())
        .and_then(|t| t.get(id))
        .ok_or_else(|| Failure::new(AriesError::ImageNotFound, format!("no image {id}")))?;
    Ok(ok_with_ref(&full(image), &image.image_ref))
}

/// `DELETE /aries/api/v1/image/delete?image_ref=…` (spec §3.5).
pub(crate) fn delete_image(
    aries: &Aries,
    tenant: &Tenant,
    req: &Request,
) -> Result<Reply, Failure> {
    let key = validate::image_key(&first_param(req, "image_ref").unwrap_or_default())?;
    let mut store = aries.store.write();
    let not_found = || Failure::new(AriesError::ImageNotFound, format!("no image {key:?}"));
    let images = store
        .tenants
        .get_mut(tenant.as_str())
        .ok_or_else(not_found)?;
    let id = match &key {
        ImageKey::Id(id) => Some(*id).filter(|id| images.get(*id).is_some()),
        ImageKey::Ref(r) => images.id_of_ref(r),
    }
    .ok_or_else(not_found)?;
    if images.get(id).is_some_and(|i| i.in_use) {
        return Err(Failure::new(
            AriesError::ImageInUse,
            format!("image {id} is in use"),
        ));
    }
    let removed = images.remove(id).ok_or_else(not_found)?;
    Ok(ok_with_ref(&json!({"result": true}), &removed.image_ref))
}

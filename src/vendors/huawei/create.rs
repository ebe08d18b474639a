//! CreateImage (`POST /v2/cloudimages/action`, spec §3.4): request validation in the contract's
//! order and the new image object (§2.2) with the §3.4 effects. The private-image quota (`IMG.0015`)
//! and the job (§6) are the caller's.

use serde_json::{json, Map, Number, Value};

use super::error::ImsError;
use super::rules::{
    check_description, check_enterprise_project, check_firmware, check_name, is_uuid, parse_ram,
    quoted,
};

/// `checksum` of every created image (as the reference fixture).
pub(crate) const CHECKSUM: &str = "99914b932bd37a50b983c5e7c90ae93b";
/// `__os_version` when the request has no `os_version`.
pub(crate) const DEFAULT_OS_VERSION: &str = "Ubuntu 22.04 server 64bit";
/// `min_disk` (GB) when the request has none.
const DEFAULT_MIN_DISK: u64 = 40;
/// Largest `min_disk` (GB).
const MIN_DISK_MAX: u64 = 1024;
/// Longest `os_version` (Unicode scalars).
const OS_VERSION_MAX: usize = 255;
/// Most tags per image (§7).
const TAGS_MAX: usize = 10;
/// Longest tag key.
const TAG_KEY_MAX: usize = 36;
/// Longest tag value.
const TAG_VALUE_MAX: usize = 43;
/// `__platform` candidates, in the order they are looked for in the OS version.
const PLATFORMS: &[&str] = &["Windows", "Ubuntu", "CentOS", "Debian", "EulerOS", "SUSE"];

/// A validated CreateImage request: the new image and what its job needs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Created {
    /// The new image object (§2.2), `queued`, owned by the tenant.
    pub image: Map<String, Value>,
    /// The job's `job_type`: `imsCreateImageByInstance`, `imsImportImageJob` or
    /// `imsVolumeCreateImageJob`.
    pub job_type: &'static str,
    /// Whether the image is imported from an OBS file (`image_url`): a failed job then reports
    /// `IMG.0057` instead of `IMG.0014` (§4).
    pub file_import: bool,
}

/// Validates a CreateImage body (§3.4 order: empty → `IMG.0007`; not an object or wrong JSON types →
/// `IMG.0001`; `data_images` → `IMG.0105`; source count ≠ 1 → `IMG.0001`; the field table top-down)
/// and builds the new image object: `queued`, `created_at` = `updated_at` = `now`, every §2.2
/// always-present key, and the §3.4 effects (see `render`). `id` is the new image id, `owner` the
/// tenant (project id). The private-image quota (`IMG.0015`) is the caller's.
pub(crate) fn build(body: &[u8], id: &str, owner: &str, now: &str) -> Result<Created, ImsError> {
    let object = parse_object(body)?;
    let fields = Fields::read(&object)?;
    check_data_images(fields.data_images)?;
    let source = fields.source()?;
    let plan = Plan::validate(&fields, source)?;
    Ok(Created {
        job_type: source.job_type(),
        file_import: matches!(source, Source::File(_)),
        image: render(&plan, id, owner, now),
    })
}

/// `IMG.0001` "The request message format is invalid." with a cause.
fn format_error(cause: impl Into<String>) -> ImsError {
    ImsError::new("IMG.0001", cause)
}

/// The body as one JSON object: no bytes or only whitespace → `IMG.0007`; invalid JSON or another
/// JSON type → `IMG.0001`.
fn parse_object(body: &[u8]) -> Result<Map<String, Value>, ImsError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ImsError::new("IMG.0007", "empty body"));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(format_error("body is not a JSON object")),
        Err(e) => Err(format_error(format!("invalid JSON: {e}"))),
    }
}

/// The image source: exactly one of `instance_id`, `image_url`, `volume_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source<'a> {
    /// An ECS (`instance_id`).
    Instance(&'a str),
    /// An OBS file `<bucket>:<object>` (`image_url`).
    File(&'a str),
    /// A data disk (`volume_id`).
    Volume(&'a str),
}

impl Source<'_> {
    /// The job type of this source.
    fn job_type(self) -> &'static str {
        match self {
            Source::Instance(_) => "imsCreateImageByInstance",
            Source::File(_) => "imsImportImageJob",
            Source::Volume(_) => "imsVolumeCreateImageJob",
        }
    }

    /// `__data_origin`.
    fn data_origin(self) -> String {
        match self {
            Source::Instance(id) => format!("instance,{id}"),
            Source::File(url) => format!("file,{url}"),
            Source::Volume(id) => format!("volume,{id}"),
        }
    }
}

/// Tags as sent: `tags` (`key.value` strings) and `image_tags` (`{key, value}` objects).
#[derive(Debug)]
struct TagInput<'a> {
    /// `tags`.
    plain: Vec<&'a str>,
    /// `image_tags` as (key, value); a missing member counts as "".
    pairs: Vec<(&'a str, &'a str)>,
}

/// The request members after the JSON type checks (absent or `null` → `None`).
#[derive(Debug)]
struct Fields<'a> {
    name: Option<&'a str>,
    description: Option<&'a str>,
    instance_id: Option<&'a str>,
    image_url: Option<&'a str>,
    volume_id: Option<&'a str>,
    min_disk: Option<&'a Number>,
    os_version: Option<&'a str>,
    data_images: Option<&'a [Value]>,
    tags: TagInput<'a>,
    min_ram: Option<&'a Value>,
    max_ram: Option<&'a Value>,
    kind: Option<&'a str>,
    architecture: Option<&'a str>,
    firmware: Option<&'a str>,
    enterprise_project_id: Option<&'a str>,
    is_quick_import: Option<bool>,
    cmk_id: Option<&'a str>,
}

impl<'a> Fields<'a> {
    /// Reads every known member with its JSON type; a wrong type → `IMG.0001`. Unknown members are
    /// ignored.
    fn read(o: &'a Map<String, Value>) -> Result<Self, ImsError> {
        opt_bool(o, "is_config")?;
        Ok(Fields {
            name: opt_str(o, "name")?,
            description: opt_str(o, "description")?,
            instance_id: opt_str(o, "instance_id")?,
            image_url: opt_str(o, "image_url")?,
            volume_id: opt_str(o, "volume_id")?,
            min_disk: opt_number(o, "min_disk")?,
            os_version: opt_str(o, "os_version")?,
            data_images: opt_array(o, "data_images")?,
            tags: TagInput {
                plain: plain_tags(o)?,
                pairs: pair_tags(o)?,
            },
            min_ram: opt_ram(o, "min_ram")?,
            max_ram: opt_ram(o, "max_ram")?,
            kind: opt_str(o, "type")?,
            architecture: opt_str(o, "architecture")?,
            firmware: opt_str(o, "hw_firmware_type")?,
            enterprise_project_id: opt_str(o, "enterprise_project_id")?,
            is_quick_import: opt_bool(o, "is_quick_import")?,
            cmk_id: opt_str(o, "cmk_id")?,
        })
    }

    /// The one source, else `IMG.0001`.
    fn source(&self) -> Result<Source<'a>, ImsError> {
        match (self.instance_id, self.image_url, self.volume_id) {
            (Some(id), None, None) => Ok(Source::Instance(id)),
            (None, Some(url), None) => Ok(Source::File(url)),
            (None, None, Some(id)) => Ok(Source::Volume(id)),
            _ => Err(format_error(
                "exactly one of instance_id, image_url, volume_id is required",
            )),
        }
    }
}

/// A member that is present and not `null`.
fn member<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    o.get(key).filter(|v| !v.is_null())
}

/// `IMG.0001` for a member of the wrong JSON type.
fn type_error(key: &str, expected: &str) -> ImsError {
    format_error(format!("{key} must be {expected}"))
}

/// An optional string member.
fn opt_str<'a>(o: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, ImsError> {
    match member(o, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(type_error(key, "a string")),
    }
}

/// An optional boolean member.
fn opt_bool(o: &Map<String, Value>, key: &str) -> Result<Option<bool>, ImsError> {
    match member(o, key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(type_error(key, "a boolean")),
    }
}

/// An optional number member (its range is a table rule).
fn opt_number<'a>(o: &'a Map<String, Value>, key: &str) -> Result<Option<&'a Number>, ImsError> {
    match member(o, key) {
        None => Ok(None),
        Some(Value::Number(n)) => Ok(Some(n)),
        Some(_) => Err(type_error(key, "a number")),
    }
}

/// An optional RAM member: a number or a string (its content is a table rule).
fn opt_ram<'a>(o: &'a Map<String, Value>, key: &str) -> Result<Option<&'a Value>, ImsError> {
    match member(o, key) {
        None => Ok(None),
        Some(v @ (Value::Number(_) | Value::String(_))) => Ok(Some(v)),
        Some(_) => Err(type_error(key, "an integer or a digit string")),
    }
}

/// An optional array member.
fn opt_array<'a>(o: &'a Map<String, Value>, key: &str) -> Result<Option<&'a [Value]>, ImsError> {
    match member(o, key) {
        None => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a)),
        Some(_) => Err(type_error(key, "an array")),
    }
}

/// `tags`: an array of strings.
fn plain_tags(o: &Map<String, Value>) -> Result<Vec<&str>, ImsError> {
    let items = opt_array(o, "tags")?.unwrap_or_default();
    items
        .iter()
        .map(|v| {
            v.as_str()
                .ok_or_else(|| type_error("tags", "an array of strings"))
        })
        .collect()
}

/// `image_tags`: an array of objects whose `key` and `value` are strings when present.
fn pair_tags(o: &Map<String, Value>) -> Result<Vec<(&str, &str)>, ImsError> {
    let items = opt_array(o, "image_tags")?.unwrap_or_default();
    items.iter().map(pair_tag).collect()
}

/// One `image_tags` element.
fn pair_tag(v: &Value) -> Result<(&str, &str), ImsError> {
    let Value::Object(o) = v else {
        return Err(type_error("image_tags", "an array of objects"));
    };
    let key = opt_str(o, "key")?.unwrap_or_default();
    let value = opt_str(o, "value")?.unwrap_or_default();
    Ok((key, value))
}

/// `data_images`: a non-empty array → `IMG.0105` (data-disk images are not emulated).
fn check_data_images(data_images: Option<&[Value]>) -> Result<(), ImsError> {
    match data_images {
        Some(items) if !items.is_empty() => {
            Err(ImsError::new("IMG.0105", "data_images is not supported"))
        }
        _ => Ok(()),
    }
}

/// The validated request, ready to render.
#[derive(Debug)]
struct Plan<'a> {
    name: &'a str,
    description: &'a str,
    source: Source<'a>,
    min_disk: u64,
    os_version: &'a str,
    tags: Vec<String>,
    min_ram: u64,
    max_ram: Option<u64>,
    virtual_env_type: &'static str,
    arm: bool,
    firmware: &'a str,
    enterprise_project_id: &'a str,
    cmk_id: Option<&'a str>,
}

impl<'a> Plan<'a> {
    /// Applies the §3.4 table top-down (first failure wins).
    fn validate(f: &Fields<'a>, source: Source<'a>) -> Result<Self, ImsError> {
        let name = create_name(f.name)?;
        let description = f.description.unwrap_or_default();
        check_description(description)?;
        check_instance_id(f.instance_id)?;
        check_image_url(f.image_url)?;
        let min_disk = min_disk(f.min_disk, f.image_url.is_some())?;
        let needs_os = f.volume_id.is_some() || f.is_quick_import == Some(true);
        let os_version = os_version(f.os_version, needs_os)?;
        check_volume_id(f.volume_id)?;
        let tags = tags(&f.tags)?;
        let (min_ram, max_ram) = ram(f.min_ram, f.max_ram)?;
        let virtual_env_type = virtual_env_type(f.kind)?;
        let arm = is_arm(f.architecture)?;
        let firmware = firmware(f.firmware, arm)?;
        let enterprise_project_id = enterprise_project(f.enterprise_project_id)?;
        Ok(Plan {
            name,
            description,
            source,
            min_disk,
            os_version,
            tags,
            min_ram,
            max_ram,
            virtual_env_type,
            arm,
            firmware,
            enterprise_project_id,
            cmk_id: f.cmk_id.filter(|s| !s.is_empty()),
        })
    }
}

/// `name`: missing or empty → `IMG.0013`; then the §3.1 name rules (`IMG.0002`/`IMG.0003`).
fn create_name(name: Option<&str>) -> Result<&str, ImsError> {
    match name {
        None | Some("") => Err(ImsError::new("IMG.0013", "name is missing or empty")),
        Some(name) => check_name(name).map(|()| name),
    }
}

/// `instance_id`: UUID-shaped, else `IMG.0005` (any such id is a stopped ECS).
fn check_instance_id(id: Option<&str>) -> Result<(), ImsError> {
    match id {
        Some(id) if !is_uuid(id) => Err(ImsError::new(
            "IMG.0005",
            format!("instance_id {} is not a UUID", quoted(id)),
        )),
        _ => Ok(()),
    }
}

/// `image_url`: `<bucket>:<object>`, bucket 3–63 of `[a-z0-9.-]`, object non-empty, else `IMG.0017`.
fn check_image_url(url: Option<&str>) -> Result<(), ImsError> {
    match url {
        Some(url) if !is_obs_url(url) => Err(ImsError::new(
            "IMG.0017",
            format!("image_url {} is not <bucket>:<object>", quoted(url)),
        )),
        _ => Ok(()),
    }
}

/// Whether `url` is `<bucket>:<object>` (split at the first `:`; the object may contain more).
fn is_obs_url(url: &str) -> bool {
    let Some((bucket, object)) = url.split_once(':') else {
        return false;
    };
    (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-'))
        && !object.is_empty()
}

/// `min_disk`: required with `image_url`; an integer 1–1024, else `IMG.0055`. Default 40.
fn min_disk(min_disk: Option<&Number>, required: bool) -> Result<u64, ImsError> {
    match min_disk {
        None if required => Err(ImsError::new(
            "IMG.0055",
            "min_disk is required with image_url",
        )),
        None => Ok(DEFAULT_MIN_DISK),
        Some(n) => n
            .as_u64()
            .filter(|d| (1..=MIN_DISK_MAX).contains(d))
            .ok_or_else(|| {
                ImsError::new(
                    "IMG.0055",
                    format!("min_disk {n} is not an integer 1-{MIN_DISK_MAX}"),
                )
            }),
    }
}

/// `os_version`: required with `volume_id` or `is_quick_import: true`; 1–255 scalars, else
/// `IMG.0056`. Default "Ubuntu 22.04 server 64bit".
fn os_version(os_version: Option<&str>, required: bool) -> Result<&str, ImsError> {
    match os_version {
        None if required => Err(ImsError::new(
            "IMG.0056",
            "os_version is required with volume_id or is_quick_import",
        )),
        None => Ok(DEFAULT_OS_VERSION),
        Some(v) if (1..=OS_VERSION_MAX).contains(&v.chars().count()) => Ok(v),
        Some(v) => Err(ImsError::new(
            "IMG.0056",
            format!(
                "os_version {} is not 1-{OS_VERSION_MAX} characters",
                quoted(v)
            ),
        )),
    }
}

/// `volume_id`: UUID-shaped, else `IMG.0120`.
fn check_volume_id(id: Option<&str>) -> Result<(), ImsError> {
    match id {
        Some(id) if !is_uuid(id) => Err(ImsError::new(
            "IMG.0120",
            format!("volume_id {} is not a UUID", quoted(id)),
        )),
        _ => Ok(()),
    }
}

/// `IMG.0115` "The image tag is invalid." with a cause.
fn tag_error(cause: impl Into<String>) -> ImsError {
    ImsError::new("IMG.0115", cause)
}

/// The image's `tags` as `key.value` strings: `tags` and `image_tags` not both (non-empty), each key
/// 1–36 and value 0–43 of `[A-Za-z0-9_-]` (`tags` entries need the `.`), else `IMG.0115`; then more
/// than 10 → `IMG.0116`.
fn tags(input: &TagInput<'_>) -> Result<Vec<String>, ImsError> {
    if !input.plain.is_empty() && !input.pairs.is_empty() {
        return Err(tag_error("tags and image_tags are both given"));
    }
    let tags = if input.pairs.is_empty() {
        input
            .plain
            .iter()
            .map(|t| split_tag(t))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        input.pairs.clone()
    };
    let tags = tags
        .into_iter()
        .map(check_tag)
        .collect::<Result<Vec<_>, _>>()?;
    if tags.len() > TAGS_MAX {
        return Err(ImsError::new(
            "IMG.0116",
            format!("{} tags (max {TAGS_MAX})", tags.len()),
        ));
    }
    Ok(tags)
}

/// A `key.value` tag split at its first `.`; no `.` → `IMG.0115`.
fn split_tag(tag: &str) -> Result<(&str, &str), ImsError> {
    tag.split_once('.')
        .ok_or_else(|| tag_error(format!("tag {} is not key.value", quoted(tag))))
}

/// One tag's key and value rules → `key.value`.
fn check_tag((key, value): (&str, &str)) -> Result<String, ImsError> {
    let key_ok = (1..=TAG_KEY_MAX).contains(&key.len()) && is_tag_text(key);
    let value_ok = value.len() <= TAG_VALUE_MAX && is_tag_text(value);
    if key_ok && value_ok {
        Ok(format!("{key}.{value}"))
    } else {
        Err(tag_error(format!(
            "tag key {} or value {} is invalid",
            quoted(key),
            quoted(value)
        )))
    }
}

/// Whether `s` is made of `[A-Za-z0-9_-]`.
fn is_tag_text(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// `min_ram` (default 0) and `max_ram`: RAM values with `min_ram` ≤ `max_ram`, else `IMG.0055`.
fn ram(min_ram: Option<&Value>, max_ram: Option<&Value>) -> Result<(u64, Option<u64>), ImsError> {
    let min = min_ram.map(parse_ram).transpose()?.unwrap_or(0);
    let max = max_ram.map(parse_ram).transpose()?;
    match max {
        Some(max) if max < min => Err(ImsError::new(
            "IMG.0055",
            format!("min_ram {min} is greater than max_ram {max}"),
        )),
        _ => Ok((min, max)),
    }
}

/// `type` → `virtual_env_type`: ECS (default)/FusionCompute → FusionCompute, BMS/Ironic → Ironic,
/// IsoImage → IsoImage; else `IMG.0001`.
fn virtual_env_type(kind: Option<&str>) -> Result<&'static str, ImsError> {
    match kind.unwrap_or("ECS") {
        "ECS" | "FusionCompute" => Ok("FusionCompute"),
        "BMS" | "Ironic" => Ok("Ironic"),
        "IsoImage" => Ok("IsoImage"),
        other => Err(format_error(format!(
            "type {} is not ECS, BMS, FusionCompute, Ironic or IsoImage",
            quoted(other)
        ))),
    }
}

/// `architecture`: x86 (default) or arm (whether arm), else `IMG.0212`.
fn is_arm(architecture: Option<&str>) -> Result<bool, ImsError> {
    match architecture.unwrap_or("x86") {
        "x86" => Ok(false),
        "arm" => Ok(true),
        other => Err(ImsError::new(
            "IMG.0212",
            format!("architecture {} is not x86 or arm", quoted(other)),
        )),
    }
}

/// `hw_firmware_type`: bios or uefi (`IMG.0141`), bios with arm → `IMG.0141`; default uefi for arm,
/// else bios.
fn firmware(firmware: Option<&str>, arm: bool) -> Result<&str, ImsError> {
    match firmware {
        None => Ok(if arm { "uefi" } else { "bios" }),
        Some("bios") if arm => Err(ImsError::new(
            "IMG.0141",
            "bios firmware with the arm architecture",
        )),
        Some(f) => check_firmware(f).map(|()| f),
    }
}

/// `enterprise_project_id`: "0" or a UUID (`IMG.0155`); default "0".
fn enterprise_project(id: Option<&str>) -> Result<&str, ImsError> {
    match id {
        None => Ok("0"),
        Some(id) => check_enterprise_project(id).map(|()| id),
    }
}

/// OS attributes derived from an OS version (§3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OsFields {
    /// `__platform`: the first of Windows, Ubuntu, CentOS, Debian, EulerOS, SUSE contained in the
    /// version (case-sensitive), else Other.
    pub platform: &'static str,
    /// `__os_type`: Windows for the Windows platform, else Linux.
    pub os_type: &'static str,
    /// `__os_bit`: "32" if the version contains `32`, else "64".
    pub os_bit: &'static str,
}

/// The `__platform`, `__os_type` and `__os_bit` of an OS version (§3.4).
pub(crate) fn os_fields(os_version: &str) -> OsFields {
    let platform = PLATFORMS
        .iter()
        .copied()
        .find(|p| os_version.contains(p))
        .unwrap_or("Other");
    OsFields {
        platform,
        os_type: if platform == "Windows" {
            "Windows"
        } else {
            "Linux"
        },
        os_bit: if os_version.contains("32") {
            "32"
        } else {
            "64"
        },
    }
}

/// The new image object: the §2.2 always-present keys, then the keys set only by this request.
fn render(plan: &Plan<'_>, id: &str, owner: &str, now: &str) -> Map<String, Value> {
    let mut image = always_present(plan, id, owner, now);
    let mut put = |key: &str, value: Value| {
        image.insert(key.to_string(), value);
    };
    put("hw_firmware_type", json!(plan.firmware));
    put("enterprise_project_id", json!(plan.enterprise_project_id));
    if !plan.description.is_empty() {
        put("__description", json!(plan.description));
    }
    if let Some(max_ram) = plan.max_ram {
        put("max_ram", json!(max_ram.to_string()));
    }
    if matches!(plan.source, Source::File(_)) {
        put("__root_origin", json!("file"));
    }
    if plan.arm {
        put("__support_arm", json!("true"));
    }
    if let Some(cmk_id) = plan.cmk_id {
        put("__system__cmkid", json!(cmk_id));
    }
    image
}

/// The §2.2 keys every image has, with their CreateImage values.
fn always_present(plan: &Plan<'_>, id: &str, owner: &str, now: &str) -> Map<String, Value> {
    let os = os_fields(plan.os_version);
    let image = json!({
        "id": id,
        "name": plan.name,
        "status": "queued",
        "visibility": "private",
        "owner": owner,
        "protected": false,
        "file": format!("/v2/images/{id}/file"),
        "self": format!("/v2/images/{id}"),
        "schema": "/v2/schemas/image",
        "tags": plan.tags,
        "checksum": CHECKSUM,
        "container_format": "bare",
        "disk_format": "zvhd2",
        "min_ram": plan.min_ram,
        "min_disk": plan.min_disk,
        "size": 2,
        "virtual_size": 0,
        "created_at": now,
        "updated_at": now,
        "deleted": false,
        "deleted_at": null,
        "virtual_env_type": plan.virtual_env_type,
        "__os_bit": os.os_bit,
        "__os_version": plan.os_version,
        "__os_type": os.os_type,
        "__platform": os.platform,
        "__isregistered": "true",
        "__image_source_type": "uds",
        "__imagetype": "private",
        "__image_size": "0",
        "__originalimagename": "",
        "__backup_id": "",
        "__productcode": "",
        "__data_origin": plan.source.data_origin(),
    });
    match image {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::error::ims_message;
    use super::*;

    const ID: &str = "7d2c3a1e-4b5f-4e6a-9c8d-0f1e2d3c4b5a";
    const OWNER: &str = "0b1e494e2660441a957313163095fe5c";
    const NOW: &str = "2026-01-05T08:00:00Z";
    const UUID: &str = "33ad552d-1149-471c-8190-ff6776174a00";
    const URL: &str = "imgemu-bucket:images/web.qcow2";

    /// The §2.2 keys every image has.
    const ALWAYS: &[&str] = &[
        "id",
        "name",
        "status",
        "visibility",
        "owner",
        "protected",
        "file",
        "self",
        "schema",
        "tags",
        "checksum",
        "container_format",
        "disk_format",
        "min_ram",
        "min_disk",
        "size",
        "virtual_size",
        "created_at",
        "updated_at",
        "deleted",
        "deleted_at",
        "virtual_env_type",
        "__os_bit",
        "__os_version",
        "__os_type",
        "__platform",
        "__isregistered",
        "__image_source_type",
        "__imagetype",
        "__image_size",
        "__originalimagename",
        "__backup_id",
        "__productcode",
        "__data_origin",
    ];

    fn run_bytes(body: &[u8]) -> Result<Created, ImsError> {
        build(body, ID, OWNER, NOW)
    }

    fn run(body: &Value) -> Result<Created, ImsError> {
        run_bytes(body.to_string().as_bytes())
    }

    fn err(body: &Value) -> &'static str {
        match run(body) {
            Ok(c) => panic!("expected an error for {body}, got {:?}", c.image),
            Err(e) => e.code,
        }
    }

    fn ok(body: &Value) -> Created {
        match run(body) {
            Ok(c) => {
                assert_wellformed(&c.image);
                c
            }
            Err(e) => panic!("expected success for {body}, got {e:?}"),
        }
    }

    fn img(body: &Value) -> Map<String, Value> {
        ok(body).image
    }

    fn with(mut body: Value, key: &str, value: Value) -> Value {
        if let Value::Object(o) = &mut body {
            o.insert(key.to_string(), value);
        }
        body
    }

    fn without(mut body: Value, key: &str) -> Value {
        if let Value::Object(o) = &mut body {
            o.remove(key);
        }
        body
    }

    fn url_body() -> Value {
        json!({"name": "web-base", "image_url": URL, "min_disk": 40})
    }

    fn instance_body() -> Value {
        json!({"name": "web-base", "instance_id": UUID})
    }

    fn volume_body() -> Value {
        json!({"name": "web-base", "volume_id": UUID, "os_version": "CentOS 7.9 64bit"})
    }

    /// Every always-present key, with §2.2 types.
    fn assert_wellformed(image: &Map<String, Value>) {
        for key in ALWAYS {
            assert!(image.contains_key(*key), "missing {key}");
        }
        for (key, value) in image {
            let ok = match key.as_str() {
                "min_ram" | "min_disk" | "size" | "virtual_size" => value.is_u64(),
                "protected" | "deleted" => value.is_boolean(),
                "deleted_at" => value.is_null(),
                "tags" => value
                    .as_array()
                    .is_some_and(|a| a.iter().all(Value::is_string)),
                "max_ram" => value
                    .as_str()
                    .is_some_and(|s| s.bytes().all(|b| b.is_ascii_digit())),
                _ => value.is_string(),
            };
            assert!(ok, "{key} has the wrong type: {value}");
        }
        assert!(!image.contains_key("active_at"));
        assert!(!image.contains_key("__is_offshelved"));
    }

    // ---- the rendered object ----

    #[test]
    fn minimal_image_url_create_renders_exactly() {
        let created = ok(&url_body());
        assert_eq!(created.job_type, "imsImportImageJob");
        assert!(created.file_import);
        let expected = json!({
            "id": ID,
            "name": "web-base",
            "status": "queued",
            "visibility": "private",
            "owner": OWNER,
            "protected": false,
            "file": format!("/v2/images/{ID}/file"),
            "self": format!("/v2/images/{ID}"),
            "schema": "/v2/schemas/image",
            "tags": [],
            "checksum": "99914b932bd37a50b983c5e7c90ae93b",
            "container_format": "bare",
            "disk_format": "zvhd2",
            "min_ram": 0,
            "min_disk": 40,
            "size": 2,
            "virtual_size": 0,
            "created_at": NOW,
            "updated_at": NOW,
            "deleted": false,
            "deleted_at": null,
            "virtual_env_type": "FusionCompute",
            "__os_bit": "64",
            "__os_version": "Ubuntu 22.04 server 64bit",
            "__os_type": "Linux",
            "__platform": "Ubuntu",
            "__isregistered": "true",
            "__image_source_type": "uds",
            "__imagetype": "private",
            "__image_size": "0",
            "__originalimagename": "",
            "__backup_id": "",
            "__productcode": "",
            "__data_origin": format!("file,{URL}"),
            "__root_origin": "file",
            "hw_firmware_type": "bios",
            "enterprise_project_id": "0",
        });
        assert_eq!(Value::Object(created.image.clone()), expected);
        let text = serde_json::to_string(&created.image).unwrap_or_default();
        assert_eq!(
            text,
            concat!(
                r#"{"__backup_id":"","__data_origin":"file,imgemu-bucket:images/web.qcow2","#,
                r#""__image_size":"0","__image_source_type":"uds","__imagetype":"private","#,
                r#""__isregistered":"true","__originalimagename":"","__os_bit":"64","#,
                r#""__os_type":"Linux","__os_version":"Ubuntu 22.04 server 64bit","#,
                r#""__platform":"Ubuntu","__productcode":"","__root_origin":"file","#,
                r#""checksum":"99914b932bd37a50b983c5e7c90ae93b","container_format":"bare","#,
                r#""created_at":"2026-01-05T08:00:00Z","deleted":false,"deleted_at":null,"#,
                r#""disk_format":"zvhd2","enterprise_project_id":"0","#,
                r#""file":"/v2/images/7d2c3a1e-4b5f-4e6a-9c8d-0f1e2d3c4b5a/file","#,
                r#""hw_firmware_type":"bios","id":"7d2c3a1e-4b5f-4e6a-9c8d-0f1e2d3c4b5a","#,
                r#""min_disk":40,"min_ram":0,"name":"web-base","#,
                r#""owner":"0b1e494e2660441a957313163095fe5c","protected":false,"#,
                r#""schema":"/v2/schemas/image","#,
                r#""self":"/v2/images/7d2c3a1e-4b5f-4e6a-9c8d-0f1e2d3c4b5a","size":2,"#,
                r#""status":"queued","tags":[],"updated_at":"2026-01-05T08:00:00Z","#,
                r#""virtual_env_type":"FusionCompute","virtual_size":0,"visibility":"private"}"#
            )
        );
    }

    #[test]
    fn instance_source_effects() {
        let created = ok(&instance_body());
        assert_eq!(created.job_type, "imsCreateImageByInstance");
        assert!(!created.file_import);
        let image = created.image;
        assert_eq!(image["__data_origin"], json!(format!("instance,{UUID}")));
        assert_eq!(image["min_disk"], json!(40));
        assert!(!image.contains_key("__root_origin"));
    }

    #[test]
    fn volume_source_effects() {
        let created = ok(&volume_body());
        assert_eq!(created.job_type, "imsVolumeCreateImageJob");
        assert!(!created.file_import);
        let image = created.image;
        assert_eq!(image["__data_origin"], json!(format!("volume,{UUID}")));
        assert_eq!(image["__os_version"], json!("CentOS 7.9 64bit"));
        assert!(!image.contains_key("__root_origin"));
    }

    #[test]
    fn optional_keys_only_when_set() {
        let image = img(&instance_body());
        for key in [
            "__description",
            "max_ram",
            "__support_arm",
            "__system__cmkid",
            "__root_origin",
            "active_at",
        ] {
            assert!(!image.contains_key(key), "{key}");
        }
        let image = img(&with(instance_body(), "description", json!("")));
        assert!(!image.contains_key("__description"));
        let image = img(&with(instance_body(), "cmk_id", json!("")));
        assert!(!image.contains_key("__system__cmkid"));
    }

    #[test]
    fn full_request_effects() {
        let body = json!({
            "name": "web 镜像",
            "description": "web tier",
            "instance_id": UUID,
            "min_disk": 100,
            "os_version": "Debian GNU/Linux 11 32bit",
            "tags": ["env.prod", "team."],
            "min_ram": "1024",
            "max_ram": 4096,
            "type": "BMS",
            "architecture": "arm",
            "enterprise_project_id": UUID,
            "is_config": true,
            "is_quick_import": false,
            "cmk_id": "kms-key-1",
            "unknown_member": {"ignored": [1, 2]},
        });
        let image = img(&body);
        assert_eq!(image["name"], json!("web 镜像"));
        assert_eq!(image["__description"], json!("web tier"));
        assert_eq!(image["min_disk"], json!(100));
        assert_eq!(image["__os_version"], json!("Debian GNU/Linux 11 32bit"));
        assert_eq!(image["__platform"], json!("Debian"));
        assert_eq!(image["__os_type"], json!("Linux"));
        assert_eq!(image["__os_bit"], json!("32"));
        assert_eq!(image["tags"], json!(["env.prod", "team."]));
        assert_eq!(image["min_ram"], json!(1024));
        assert_eq!(image["max_ram"], json!("4096"));
        assert_eq!(image["virtual_env_type"], json!("Ironic"));
        assert_eq!(image["__support_arm"], json!("true"));
        assert_eq!(image["hw_firmware_type"], json!("uefi"));
        assert_eq!(image["enterprise_project_id"], json!(UUID));
        assert_eq!(image["__system__cmkid"], json!("kms-key-1"));
        assert!(!image.contains_key("unknown_member"));
    }

    #[test]
    fn null_members_count_as_absent() {
        let body = with(
            with(instance_body(), "image_url", json!(null)),
            "description",
            json!(null),
        );
        let image = img(&with(body, "min_ram", json!(null)));
        assert_eq!(image["min_ram"], json!(0));
        assert!(!image.contains_key("__description"));
    }

    // ---- the early steps ----

    #[test]
    fn empty_body_is_img0007() {
        for body in [&b""[..], b" ", b"\r\n\t "] {
            assert_eq!(
                run_bytes(body).map(|c| c.job_type),
                Err(ImsError::new("IMG.0007", "empty body"))
            );
        }
    }

    #[test]
    fn not_an_object_is_img0001() {
        for body in [
            &b"{"[..],
            b"nul",
            b"[]",
            b"null",
            b"\"x\"",
            b"1",
            b"true",
            b"{\"name\":}",
            b"\xff\xfe",
            b"{} {}",
        ] {
            match run_bytes(body) {
                Err(e) => assert_eq!(e.code, "IMG.0001", "{body:?}"),
                Ok(_) => panic!("{body:?} accepted"),
            }
        }
    }

    #[test]
    fn empty_object_is_a_source_count_error() {
        assert_eq!(err(&json!({})), "IMG.0001");
    }

    #[test]
    fn wrong_json_types_are_img0001() {
        let cases = [
            ("name", json!(5)),
            ("description", json!(["x"])),
            ("instance_id", json!(1)),
            ("image_url", json!(true)),
            ("volume_id", json!({})),
            ("min_disk", json!("40")),
            ("os_version", json!(7)),
            ("data_images", json!({})),
            ("tags", json!("env.prod")),
            ("tags", json!([1])),
            ("image_tags", json!(["env.prod"])),
            ("image_tags", json!([{"key": 1, "value": "v"}])),
            ("image_tags", json!([{"key": "k", "value": false}])),
            ("image_tags", json!({"key": "k"})),
            ("min_ram", json!(true)),
            ("max_ram", json!([4096])),
            ("type", json!(1)),
            ("architecture", json!(true)),
            ("hw_firmware_type", json!(1)),
            ("enterprise_project_id", json!(0)),
            ("is_config", json!("true")),
            ("is_quick_import", json!(1)),
            ("cmk_id", json!(1)),
        ];
        for (key, value) in cases {
            // The type check wins over every later step, even a missing name and a missing source.
            assert_eq!(
                err(&with(instance_body(), key, value.clone())),
                "IMG.0001",
                "{key}={value}"
            );
            assert_eq!(
                err(&json!({"data_images": [{}], key: value.clone()})),
                "IMG.0001",
                "{key}={value}"
            );
        }
    }

    #[test]
    fn data_images_is_img0105() {
        assert_eq!(
            err(&with(
                instance_body(),
                "data_images",
                json!([{"volume_id": UUID}])
            )),
            "IMG.0105"
        );
        // Before the source count and the table.
        assert_eq!(err(&json!({"data_images": [1]})), "IMG.0105");
        assert_eq!(
            err(&json!({"data_images": [1], "name": "", "instance_id": "x", "image_url": URL})),
            "IMG.0105"
        );
        // Empty or null: ignored.
        ok(&with(instance_body(), "data_images", json!([])));
        ok(&with(instance_body(), "data_images", json!(null)));
    }

    #[test]
    fn source_count_other_than_one_is_img0001() {
        assert_eq!(err(&json!({"name": "a"})), "IMG.0001");
        assert_eq!(
            err(&with(instance_body(), "image_url", json!(URL))),
            "IMG.0001"
        );
        assert_eq!(err(&with(url_body(), "volume_id", json!(UUID))), "IMG.0001");
        let all = with(
            with(instance_body(), "image_url", json!(URL)),
            "volume_id",
            json!(UUID),
        );
        assert_eq!(err(&all), "IMG.0001");
        // Before the table: a missing name is not reported.
        assert_eq!(
            err(&json!({"instance_id": UUID, "volume_id": UUID})),
            "IMG.0001"
        );
        // An empty string still counts as a source.
        assert_eq!(
            err(&json!({"name": "a", "instance_id": "", "volume_id": UUID})),
            "IMG.0001"
        );
    }

    // ---- the table, row by row ----

    #[test]
    fn name_row() {
        assert_eq!(err(&without(instance_body(), "name")), "IMG.0013");
        assert_eq!(err(&with(instance_body(), "name", json!(""))), "IMG.0013");
        assert_eq!(err(&with(instance_body(), "name", json!(null))), "IMG.0013");
        assert_eq!(
            err(&with(instance_body(), "name", json!("a".repeat(129)))),
            "IMG.0002"
        );
        assert_eq!(
            err(&with(instance_body(), "name", json!("a/b"))),
            "IMG.0003"
        );
        assert_eq!(err(&with(instance_body(), "name", json!(" a"))), "IMG.0003");
        ok(&with(instance_body(), "name", json!("镜".repeat(128))));
    }

    #[test]
    fn description_row() {
        assert_eq!(
            err(&with(
                instance_body(),
                "description",
                json!("d".repeat(1025))
            )),
            "IMG.0004"
        );
        assert_eq!(
            err(&with(instance_body(), "description", json!("a\nb"))),
            "IMG.0054"
        );
        assert_eq!(
            err(&with(instance_body(), "description", json!("<script>"))),
            "IMG.0054"
        );
        let image = img(&with(
            instance_body(),
            "description",
            json!("d".repeat(1024)),
        ));
        assert_eq!(image["__description"], json!("d".repeat(1024)));
    }

    #[test]
    fn instance_id_row() {
        for bad in [
            "",
            "i-123",
            "33ad552d11494 71c8190ff6776174a00",
            "33ad552d-1149-471c-8190-ff6776174a0z",
        ] {
            assert_eq!(
                err(&with(instance_body(), "instance_id", json!(bad))),
                "IMG.0005",
                "{bad:?}"
            );
        }
        let upper = UUID.to_uppercase();
        let image = img(&with(instance_body(), "instance_id", json!(upper)));
        assert_eq!(image["__data_origin"], json!(format!("instance,{upper}")));
    }

    #[test]
    fn image_url_row() {
        let long = "b".repeat(63);
        for good in [
            "abc:o",
            "my.bucket-1:dir/file.qcow2",
            "b1b:obj:with:colons",
            &format!("{long}:x"),
        ] {
            ok(&with(url_body(), "image_url", json!(good)));
        }
        let too_long = format!("{}:x", "b".repeat(64));
        for bad in [
            "",
            "bucket",
            "bucket:",
            ":obj",
            "ab:obj",
            "Bucket:obj",
            "b_k:obj",
            "bü:obj",
            &too_long,
        ] {
            assert_eq!(
                err(&with(url_body(), "image_url", json!(bad))),
                "IMG.0017",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn min_disk_row() {
        assert_eq!(err(&without(url_body(), "min_disk")), "IMG.0055");
        for bad in [
            json!(0),
            json!(1025),
            json!(-1),
            json!(1.5),
            json!(40.0),
            json!(1e3),
        ] {
            assert_eq!(
                err(&with(url_body(), "min_disk", bad.clone())),
                "IMG.0055",
                "{bad}"
            );
            assert_eq!(
                err(&with(instance_body(), "min_disk", bad.clone())),
                "IMG.0055",
                "{bad}"
            );
        }
        assert_eq!(
            img(&with(url_body(), "min_disk", json!(1)))["min_disk"],
            json!(1)
        );
        assert_eq!(
            img(&with(url_body(), "min_disk", json!(1024)))["min_disk"],
            json!(1024)
        );
        assert_eq!(
            img(&with(instance_body(), "min_disk", json!(60)))["min_disk"],
            json!(60)
        );
        assert_eq!(img(&volume_body())["min_disk"], json!(40));
    }

    #[test]
    fn os_version_row() {
        assert_eq!(err(&without(volume_body(), "os_version")), "IMG.0056");
        assert_eq!(
            err(&with(url_body(), "is_quick_import", json!(true))),
            "IMG.0056"
        );
        ok(&with(url_body(), "is_quick_import", json!(false)));
        let quick = with(
            with(url_body(), "is_quick_import", json!(true)),
            "os_version",
            json!("SUSE 15"),
        );
        assert_eq!(img(&quick)["__platform"], json!("SUSE"));
        for bad in [String::new(), "o".repeat(256)] {
            assert_eq!(
                err(&with(instance_body(), "os_version", json!(bad))),
                "IMG.0056"
            );
        }
        let max = "o".repeat(255);
        assert_eq!(
            img(&with(instance_body(), "os_version", json!(max)))["__os_version"],
            json!(max)
        );
    }

    #[test]
    fn volume_id_row() {
        for bad in ["", "vol-1", "33ad552d-1149-471c-8190"] {
            assert_eq!(
                err(&with(volume_body(), "volume_id", json!(bad))),
                "IMG.0120",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn tags_row_accepts_both_forms() {
        let image = img(&with(
            instance_body(),
            "tags",
            json!(["env.prod", "a-b_C.9-x_Y", "k."]),
        ));
        assert_eq!(image["tags"], json!(["env.prod", "a-b_C.9-x_Y", "k."]));
        let pairs = json!([{"key": "env", "value": "prod"}, {"key": "team"}]);
        let image = img(&with(instance_body(), "image_tags", pairs));
        assert_eq!(image["tags"], json!(["env.prod", "team."]));
        let limits = json!([{"key": "k".repeat(36), "value": "v".repeat(43)}]);
        let image = img(&with(instance_body(), "image_tags", limits));
        assert_eq!(
            image["tags"],
            json!([format!("{}.{}", "k".repeat(36), "v".repeat(43))])
        );
        // One form given, the other empty: fine.
        let body = with(
            with(instance_body(), "tags", json!(["a.b"])),
            "image_tags",
            json!([]),
        );
        assert_eq!(img(&body)["tags"], json!(["a.b"]));
    }

    #[test]
    fn tags_both_forms_is_img0115() {
        let body = with(
            with(instance_body(), "tags", json!(["a.b"])),
            "image_tags",
            json!([{"key": "c", "value": "d"}]),
        );
        assert_eq!(err(&body), "IMG.0115");
    }

    #[test]
    fn tags_invalid_is_img0115() {
        let long_key = format!("{}.v", "k".repeat(37));
        let long_value = format!("k.{}", "v".repeat(44));
        for bad in [
            "nodot",
            ".v",
            "k.v.w",
            "k y.v",
            "k.v!",
            "ключ.v",
            &long_key,
            &long_value,
        ] {
            assert_eq!(
                err(&with(instance_body(), "tags", json!([bad]))),
                "IMG.0115",
                "{bad:?}"
            );
        }
        for bad in [
            json!({"value": "v"}),
            json!({"key": "", "value": "v"}),
            json!({"key": "k.x", "value": "v"}),
            json!({"key": "k", "value": "v.w"}),
        ] {
            assert_eq!(
                err(&with(instance_body(), "image_tags", json!([bad]))),
                "IMG.0115",
                "{bad}"
            );
        }
    }

    #[test]
    fn tags_over_ten_is_img0116() {
        let ten: Vec<String> = (0..10).map(|i| format!("k{i}.v")).collect();
        assert_eq!(
            img(&with(instance_body(), "tags", json!(ten)))["tags"]
                .as_array()
                .map(Vec::len),
            Some(10)
        );
        let eleven: Vec<String> = (0..11).map(|i| format!("k{i}.v")).collect();
        assert_eq!(
            err(&with(instance_body(), "tags", json!(eleven))),
            "IMG.0116"
        );
        let pairs: Vec<Value> = (0..11)
            .map(|i| json!({"key": format!("k{i}"), "value": "v"}))
            .collect();
        assert_eq!(
            err(&with(instance_body(), "image_tags", json!(pairs))),
            "IMG.0116"
        );
        // An invalid tag among eleven: the format is checked first.
        let mut bad = (0..11).map(|i| format!("k{i}.v")).collect::<Vec<_>>();
        bad[10] = "bad tag".to_string();
        assert_eq!(err(&with(instance_body(), "tags", json!(bad))), "IMG.0115");
    }

    #[test]
    fn ram_row() {
        let image = img(&with(
            with(instance_body(), "min_ram", json!(2048)),
            "max_ram",
            json!("002048"),
        ));
        assert_eq!(image["min_ram"], json!(2048));
        assert_eq!(image["max_ram"], json!("2048"));
        let image = img(&with(instance_body(), "max_ram", json!(0)));
        assert_eq!(
            (image["min_ram"].clone(), image["max_ram"].clone()),
            (json!(0), json!("0"))
        );
        for (key, bad) in [
            ("min_ram", json!(-1)),
            ("min_ram", json!("abc")),
            ("min_ram", json!(0.5)),
            ("min_ram", json!(2147483648u64)),
            ("max_ram", json!("")),
            ("max_ram", json!("2147483648")),
        ] {
            assert_eq!(
                err(&with(instance_body(), key, bad.clone())),
                "IMG.0055",
                "{key}={bad}"
            );
        }
        let inverted = with(
            with(instance_body(), "min_ram", json!(4096)),
            "max_ram",
            json!(1024),
        );
        assert_eq!(err(&inverted), "IMG.0055");
        let image = img(&with(instance_body(), "min_ram", json!(2147483647)));
        assert_eq!(image["min_ram"], json!(2147483647));
    }

    #[test]
    fn type_row() {
        for (kind, env) in [
            ("ECS", "FusionCompute"),
            ("FusionCompute", "FusionCompute"),
            ("BMS", "Ironic"),
            ("Ironic", "Ironic"),
            ("IsoImage", "IsoImage"),
        ] {
            assert_eq!(
                img(&with(instance_body(), "type", json!(kind)))["virtual_env_type"],
                json!(env)
            );
        }
        for bad in ["", "ecs", "KVM", "bms"] {
            assert_eq!(
                err(&with(instance_body(), "type", json!(bad))),
                "IMG.0001",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn architecture_row() {
        let image = img(&with(instance_body(), "architecture", json!("x86")));
        assert!(!image.contains_key("__support_arm"));
        assert_eq!(image["hw_firmware_type"], json!("bios"));
        let image = img(&with(instance_body(), "architecture", json!("arm")));
        assert_eq!(image["__support_arm"], json!("true"));
        assert_eq!(image["hw_firmware_type"], json!("uefi"));
        for bad in ["", "ARM", "Arm", "x86_64", "aarch64"] {
            assert_eq!(
                err(&with(instance_body(), "architecture", json!(bad))),
                "IMG.0212",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn firmware_row() {
        assert_eq!(
            img(&with(instance_body(), "hw_firmware_type", json!("uefi")))["hw_firmware_type"],
            json!("uefi")
        );
        assert_eq!(
            img(&with(instance_body(), "hw_firmware_type", json!("bios")))["hw_firmware_type"],
            json!("bios")
        );
        let arm = with(instance_body(), "architecture", json!("arm"));
        assert_eq!(
            img(&with(arm.clone(), "hw_firmware_type", json!("uefi")))["hw_firmware_type"],
            json!("uefi")
        );
        assert_eq!(
            err(&with(arm.clone(), "hw_firmware_type", json!("bios"))),
            "IMG.0141"
        );
        for bad in ["", "BIOS", "legacy"] {
            assert_eq!(
                err(&with(instance_body(), "hw_firmware_type", json!(bad))),
                "IMG.0141",
                "{bad:?}"
            );
            assert_eq!(
                err(&with(arm.clone(), "hw_firmware_type", json!(bad))),
                "IMG.0141",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn enterprise_project_row() {
        assert_eq!(img(&instance_body())["enterprise_project_id"], json!("0"));
        assert_eq!(
            img(&with(instance_body(), "enterprise_project_id", json!("0")))
                ["enterprise_project_id"],
            json!("0")
        );
        for bad in ["", "default", "1", "33ad552d1149471c8190ff6776174a00"] {
            assert_eq!(
                err(&with(instance_body(), "enterprise_project_id", json!(bad))),
                "IMG.0155",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn bool_and_cmk_rows() {
        for key in ["is_config", "is_quick_import"] {
            ok(&with(instance_body(), key, json!(false)));
        }
        ok(&with(instance_body(), "is_config", json!(true)));
        assert_eq!(
            img(&with(instance_body(), "cmk_id", json!("k1")))["__system__cmkid"],
            json!("k1")
        );
    }

    // ---- the order: first failure wins ----

    /// Fixes the failing fields one by one; each step must report the next row's code.
    fn assert_chain(mut body: Value, steps: &[(&str, Value, &str)]) {
        for (key, fix, code) in steps {
            assert_eq!(err(&body), *code, "before fixing {key}: {body}");
            body = with(body, key, fix.clone());
        }
        ok(&body);
    }

    #[test]
    fn order_instance_chain() {
        let body = json!({
            "name": "",
            "description": "<",
            "instance_id": "x",
            "min_disk": 0,
            "os_version": "",
            "tags": ["a.b"],
            "image_tags": [{"key": "c", "value": "d"}],
            "min_ram": 10,
            "max_ram": 5,
            "type": "KVM",
            "architecture": "ppc",
            "hw_firmware_type": "bios",
            "enterprise_project_id": "x",
        });
        assert_chain(
            body,
            &[
                ("name", json!("ok"), "IMG.0013"),
                ("description", json!("d"), "IMG.0054"),
                ("instance_id", json!(UUID), "IMG.0005"),
                ("min_disk", json!(40), "IMG.0055"),
                ("os_version", json!("CentOS 7.9 64bit"), "IMG.0056"),
                ("image_tags", json!([]), "IMG.0115"),
                ("max_ram", json!(10), "IMG.0055"),
                ("type", json!("ECS"), "IMG.0001"),
                ("architecture", json!("arm"), "IMG.0212"),
                ("hw_firmware_type", json!("uefi"), "IMG.0141"),
                ("enterprise_project_id", json!("0"), "IMG.0155"),
            ],
        );
    }

    #[test]
    fn order_image_url_chain() {
        let body = json!({"name": "a".repeat(129), "description": "d".repeat(1025), "image_url": "x", "is_quick_import": true});
        assert_chain(
            body,
            &[
                ("name", json!("a"), "IMG.0002"),
                ("description", json!(""), "IMG.0004"),
                ("image_url", json!(URL), "IMG.0017"),
                ("min_disk", json!(20), "IMG.0055"),
                ("os_version", json!("Windows 10 32bit"), "IMG.0056"),
            ],
        );
    }

    #[test]
    fn order_volume_chain() {
        let eleven: Vec<String> = (0..11).map(|i| format!("k{i}.v")).collect();
        let body = json!({"name": "a!", "volume_id": "x", "tags": eleven, "min_ram": "x"});
        assert_chain(
            body,
            &[
                ("name", json!("a"), "IMG.0003"),
                ("os_version", json!("EulerOS 2.5"), "IMG.0056"),
                ("volume_id", json!(UUID), "IMG.0120"),
                ("tags", json!(["k.v"]), "IMG.0116"),
                ("min_ram", json!("1"), "IMG.0055"),
            ],
        );
    }

    #[test]
    fn order_early_steps() {
        // Types before data_images before the source count before the table.
        assert_eq!(err(&json!({"data_images": [1], "cmk_id": 5})), "IMG.0001");
        assert_eq!(
            err(&json!({"data_images": [1], "instance_id": UUID, "volume_id": UUID})),
            "IMG.0105"
        );
        assert_eq!(
            err(&json!({"name": "", "instance_id": UUID, "volume_id": UUID})),
            "IMG.0001"
        );
        assert_eq!(err(&json!({"name": "", "instance_id": "x"})), "IMG.0013");
    }

    // ---- derived OS fields ----

    #[test]
    fn os_derivation() {
        let cases = [
            (
                "Windows Server 2019 Datacenter 64bit English",
                "Windows",
                "Windows",
                "64",
            ),
            ("CentOS 7.9 32bit", "CentOS", "Linux", "32"),
            ("CentOS 7.9 64bit", "CentOS", "Linux", "64"),
            ("Ubuntu 22.04 server 64bit", "Ubuntu", "Linux", "64"),
            ("Debian GNU/Linux 12.0.0 64bit", "Debian", "Linux", "64"),
            (
                "Huawei Cloud EulerOS 2.0 Standard 64 bit (ARM)",
                "EulerOS",
                "Linux",
                "64",
            ),
            (
                "SUSE Linux Enterprise Server 15 SP1 64bit",
                "SUSE",
                "Linux",
                "64",
            ),
            (
                "Windows 7 Ultimate 32bit Chinese",
                "Windows",
                "Windows",
                "32",
            ),
            ("Fedora 38 64bit", "Other", "Linux", "64"),
            ("Other Linux(32 bit)", "Other", "Linux", "32"),
            ("ubuntu 20.04", "Other", "Linux", "64"),
            // The first platform of the list wins, not the first in the text.
            ("CentOS on Windows", "Windows", "Windows", "64"),
        ];
        for (version, platform, os_type, os_bit) in cases {
            assert_eq!(
                os_fields(version),
                OsFields {
                    platform,
                    os_type,
                    os_bit
                },
                "{version}"
            );
            let image = img(&with(instance_body(), "os_version", json!(version)));
            assert_eq!(
                (
                    &image["__platform"],
                    &image["__os_type"],
                    &image["__os_bit"],
                    &image["__os_version"]
                ),
                (
                    &json!(platform),
                    &json!(os_type),
                    &json!(os_bit),
                    &json!(version)
                ),
                "{version}"
            );
        }
    }

    // ---- robustness ----

    /// xorshift64*: deterministic, dependency-free.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
            &items[self.below(items.len())]
        }
    }

    const KEYS: &[&str] = &[
        "name",
        "description",
        "instance_id",
        "image_url",
        "volume_id",
        "min_disk",
        "os_version",
        "data_images",
        "tags",
        "image_tags",
        "min_ram",
        "max_ram",
        "type",
        "architecture",
        "hw_firmware_type",
        "enterprise_project_id",
        "is_config",
        "is_quick_import",
        "cmk_id",
        "key",
        "value",
        "other",
    ];

    fn interesting(rng: &mut Rng) -> Value {
        let pool = [
            json!(null),
            json!(true),
            json!(false),
            json!(0),
            json!(-1),
            json!(1.5),
            json!(1e308),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(40),
            json!(""),
            json!(" "),
            json!("a"),
            json!(UUID),
            json!(URL),
            json!("arm"),
            json!("bios"),
            json!("0"),
            json!("k.v"),
            json!("2147483648"),
            json!("镜像😀\u{0}"),
            json!("a".repeat(300)),
            json!([]),
            json!({}),
        ];
        rng.pick(&pool).clone()
    }

    fn random_value(rng: &mut Rng, depth: usize) -> Value {
        match rng.below(if depth == 0 { 3 } else { 5 }) {
            0 | 1 => interesting(rng),
            2 => json!(format!("{:x}", rng.next())),
            3 => Value::Array(
                (0..rng.below(12))
                    .map(|_| random_value(rng, depth - 1))
                    .collect(),
            ),
            _ => random_object(rng, depth - 1),
        }
    }

    fn random_object(rng: &mut Rng, depth: usize) -> Value {
        let mut map = Map::new();
        for _ in 0..rng.below(8) {
            map.insert(rng.pick(KEYS).to_string(), random_value(rng, depth));
        }
        Value::Object(map)
    }

    fn assert_sane(result: Result<Created, ImsError>, input: &dyn std::fmt::Display) {
        match result {
            Ok(created) => assert_wellformed(&created.image),
            Err(e) => assert!(
                ims_message(e.code).is_some(),
                "unknown code {} for {input}",
                e.code
            ),
        }
    }

    #[test]
    fn no_panics_on_random_json() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..20_000 {
            let body = random_object(&mut rng, 3);
            assert_sane(run(&body), &body);
        }
    }

    #[test]
    fn no_panics_on_mutated_valid_bodies() {
        let mut rng = Rng(42);
        let mut oks = 0;
        for _ in 0..20_000 {
            let mut body = rng
                .pick(&[url_body(), instance_body(), volume_body()])
                .clone();
            for _ in 0..1 + rng.below(3) {
                let key = rng.pick(KEYS).to_string();
                body = with(body, &key, random_value(&mut rng, 1));
            }
            let result = run(&body);
            oks += usize::from(result.is_ok());
            assert_sane(result, &body);
        }
        assert!(oks > 0);
    }

    #[test]
    fn no_panics_on_random_bytes() {
        let mut rng = Rng(7);
        let alphabet = b"{}[]\":,0123456789-.eEtrufalsn \\u\xff\xc3\xa9abcz";
        for _ in 0..20_000 {
            let bytes: Vec<u8> = (0..rng.below(40)).map(|_| *rng.pick(alphabet)).collect();
            assert_sane(run_bytes(&bytes), &String::from_utf8_lossy(&bytes));
        }
        let deep = "[".repeat(100_000);
        assert_sane(run_bytes(deep.as_bytes()), &"deep nesting");
    }
}

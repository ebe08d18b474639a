//! The Aries v1 image API over real HTTP: every endpoint and every error row of the contract
//! (shared/spec/aries.md), against an in-process emulator on port 0.

mod common;

use base64::Engine;
use common::{emulator, Aries, Got, TOKEN};
use imgemu::AuthMode;
use reqwest::Method;
use serde_json::{json, Value};

const SEED_UPDATE: &str = r#"{"id":1,"name":"CentOS-7.9-x64-updated","os_type":"linux","os_name":"CentOS","description":"CentOS 7.9 64位基础镜像 - 更新版"}"#;

fn basic(user: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

fn ids(list: &Value) -> Vec<u64> {
    list.as_array()
        .expect("array")
        .iter()
        .map(|i| i["id"].as_u64().expect("id"))
        .collect()
}

fn is_ref(s: &str) -> bool {
    s.len() == 16
        && s.starts_with("img-")
        && s[4..]
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
}

fn create_body(name: &str) -> String {
    json!({"name": name, "os_type": "linux", "os_name": "Debian", "source_path": "/images/debian-12.qcow2"})
        .to_string()
}

// ---------------------------------------------------------------- UpdateImage

#[tokio::test]
async fn update_reproduces_the_documented_example() {
    let emu = emulator(AuthMode::Strict).await;
    emu.clock().set_rfc3339("2024-03-20T11:30:00Z").unwrap();
    let aries = Aries::new(&emu);
    let got = aries.update(SEED_UPDATE).await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(
        got.text,
        r#"{"id":1,"name":"CentOS-7.9-x64-updated","os_type":"linux","os_name":"CentOS","description":"CentOS 7.9 64位基础镜像 - 更新版","source_path":"/path/to/image/file.iso","created_at":"2024-03-20T10:30:00Z","updated_at":"2024-03-20T11:30:00Z"}"#
    );
    assert_eq!(got.header("x-imgemu-image-ref"), Some("img-2ze4hxw8hdik"));
    assert_eq!(
        got.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert!(got.header("x-request-id").is_some());
    // The change is visible to reads.
    let read = aries.describe(1).await.json();
    assert_eq!(read["name"], "CentOS-7.9-x64-updated");
    assert_eq!(read["updated_at"], "2024-03-20T11:30:00Z");
    assert_eq!(read["created_at"], "2024-03-20T10:30:00Z");
}

#[tokio::test]
async fn update_is_partial_and_always_moves_updated_at() {
    let emu = emulator(AuthMode::Lenient).await;
    let aries = Aries::new(&emu);
    let before = aries.describe(2).await.json();

    emu.clock()
        .advance(std::time::Duration::from_secs(61))
        .unwrap();
    let got = aries
        .update(r#"{"id":2,"description":"patched","name":null,"os_type":null}"#)
        .await;
    assert_eq!(got.status, 200, "{}", got.text);
    let after = got.json();
    assert_eq!(after["description"], "patched");
    for kept in ["name", "os_type", "os_name", "source_path", "created_at"] {
        assert_eq!(after[kept], before[kept], "{kept} must not change");
    }
    assert_eq!(after["updated_at"], "2026-01-01T00:01:01Z");

    // A body of only the id still moves updated_at.
    emu.clock()
        .advance(std::time::Duration::from_secs(1))
        .unwrap();
    let got = aries.update(r#"{"id":2}"#).await.json();
    assert_eq!(got["updated_at"], "2026-01-01T00:01:02Z");
    assert_eq!(got["description"], "patched");

    // "" clears the description.
    let got = aries.update(r#"{"id":2,"description":""}"#).await.json();
    assert_eq!(got["description"], "");
}

#[tokio::test]
async fn update_name_conflicts() {
    let emu = emulator(AuthMode::Lenient).await;
    let aries = Aries::new(&emu);
    // Another image's name.
    aries
        .update(r#"{"id":1,"name":"Ubuntu-22.04-x64"}"#)
        .await
        .assert_aries_error(400, "ImageNameExists");
    // Its own current name is not a conflict.
    let got = aries.update(r#"{"id":1,"name":"CentOS-7.9-x64"}"#).await;
    assert_eq!(got.status, 200, "{}", got.text);
    // Names are exact and case-sensitive.
    let got = aries.update(r#"{"id":1,"name":"ubuntu-22.04-x64"}"#).await;
    assert_eq!(got.status, 200, "{}", got.text);
    // The old name is free again after a rename.
    let got = aries.update(r#"{"id":2,"name":"CentOS-7.9-x64"}"#).await;
    assert_eq!(got.status, 200, "{}", got.text);
}

#[tokio::test]
async fn update_invalid_parameter_rows() {
    let emu = emulator(AuthMode::Lenient).await;
    let aries = Aries::new(&emu);
    let long_name = "n".repeat(129);
    let long_os = "o".repeat(65);
    let long_desc = "d".repeat(1025);
    let cases: Vec<(&str, String)> = vec![
        ("empty body", String::new()),
        ("whitespace body", "  \n".into()),
        ("malformed JSON", r#"{"id":1,"#.into()),
        ("trailing garbage", r#"{"id":1} x"#.into()),
        ("array", "[1]".into()),
        ("string top level", r#""x""#.into()),
        ("id missing", r#"{"name":"x"}"#.into()),
        ("id null", r#"{"id":null}"#.into()),
        ("id string", r#"{"id":"1"}"#.into()),
        ("id float", r#"{"id":1.0}"#.into()),
        ("id exponent", r#"{"id":1e0}"#.into()),
        ("id zero", r#"{"id":0}"#.into()),
        ("id negative", r#"{"id":-1}"#.into()),
        ("id over i64", r#"{"id":9223372036854775808}"#.into()),
        ("id huge", r#"{"id":123456789012345678901234567890}"#.into()),
        ("id bool", r#"{"id":true}"#.into()),
        ("name number", r#"{"id":1,"name":123}"#.into()),
        ("name blank", r#"{"id":1,"name":"   "}"#.into()),
        ("name empty", r#"{"id":1,"name":""}"#.into()),
        (
            "name too long",
            format!(r#"{{"id":1,"name":"{long_name}"}}"#),
        ),
        (
            "os_type capitalised",
            r#"{"id":1,"os_type":"Linux"}"#.into(),
        ),
        ("os_type other", r#"{"id":1,"os_type":"macos"}"#.into()),
        ("os_type number", r#"{"id":1,"os_type":1}"#.into()),
        ("os_name blank", r#"{"id":1,"os_name":"\t"}"#.into()),
        (
            "os_name too long",
            format!(r#"{{"id":1,"os_name":"{long_os}"}}"#),
        ),
        (
            "description too long",
            format!(r#"{{"id":1,"description":"{long_desc}"}}"#),
        ),
        ("description object", r#"{"id":1,"description":{}}"#.into()),
        ("source_path number", r#"{"id":1,"source_path":5}"#.into()),
        (
            "source_path changed",
            r#"{"id":1,"source_path":"/other/file.iso"}"#.into(),
        ),
        ("invalid UTF-8 escape", r#"{"id":1,"name":"\ud800"}"#.into()),
    ];
    for (what, body) in cases {
        let got = aries.update(&body).await;
        assert_eq!(got.status, 400, "{what}: {}", got.text);
        got.assert_aries_error(400, "InvalidParameter");
    }
    // Nothing changed.
    let image = aries.describe(1).await.json();
    assert_eq!(image["name"], "CentOS-7.9-x64");
    assert_eq!(image["updated_at"], "2024-03-20T10:30:00Z");
}

#[tokio::test]
async fn update_lengths_count_characters_not_bytes() {
    let emu = emulator(AuthMode::Lenient).await;
    let aries = Aries::new(&emu);
    let cjk_128 = "镜".repeat(128);
    let got = aries
        .update(&json!({"id": 1, "name": cjk_128}).to_string())
        .await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.json()["name"], cjk_128);
    let cjk_129 = "镜".repeat(129);
    aries
        .update(&json!({"id": 1, "name": cjk_129}).to_string())
        .await
        .assert_aries_error(400, "InvalidParameter");
}

#[tokio::test]
async fn update_order_of_checks() {
    let emu = emulator(AuthMode::Lenient).await;
    let aries = Aries::new(&emu);
    // Validation (step 3) before lookup (step 4).
    aries
        .update(r#"{"id":99,"os_type":"Linux"}"#)
        .await
        .assert_aries_error(400, "InvalidParameter");
    // Lookup (step 4) before the source_path rule (step 5).
    aries
        .update(r#"{"id":99,"source_path":"/x.iso"}"#)
        .await
        .assert_aries_error(404, "ImageNotFound");
    // source_path (step 5) before the name conflict (step 6).
    aries
        .update(r#"{"id":1,"source_path":"/x.iso","name":"Ubuntu-22.04-x64"}"#)
        .await
        .assert_aries_error(400, "InvalidParameter");
    // Authentication (step 1) before parsing (step 2).
    let got = aries
        .raw(Method::PUT, "/aries/api/v1/image", None, Some("not json"))
        .await;
    got.assert_aries_error(401, "Unauthorized");
}

#[tokio::test]
async fn update_accepts_an_echoed_describe_object() {
    let emu = emulator(AuthMode::Lenient).await;
    let aries = Aries::new(&emu);
    let mut image = aries.describe(1).await.json();
    image["description"] = json!("read-modify-write");
    image["unknown_member"] = json!([1, 2, 3]);
    let got = aries.update(&image.to_string()).await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.json()["description"], "read-modify-write");
    assert_eq!(got.json()["created_at"], "2024-03-20T10:30:00Z");
}

#[tokio::test]
async fn update_json_quirks() {
    let emu = emulator(AuthMode::Lenient).await;
    let aries = Aries::new(&emu);
    // A repeated member: the last one wins.
    let got = aries
        .update(r#"{"id":1,"name":"first","name":"second"}"#)
        .await;
    assert_eq!(got.json()["name"], "second");
    // Content-Type is not inspected.
    let got = Got::from(
        aries
            .http
            .put(format!("{}/aries/api/v1/image", aries.base))
            .header("Authorization", format!("Bearer {TOKEN}"))
            .header("Content-Type", "text/plain")
            .body(r#"{"id":1,"os_name":"Rocky"}"#)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.json()["os_name"], "Rocky");
}

#[tokio::test]
async fn update_unknown_image_and_oversize_body() {
    let emu = emulator(AuthMode::Lenient).await;
    let aries = Aries::new(&emu);
    aries
        .update(r#"{"id":12345}"#)
        .await
        .assert_aries_error(404, "ImageNotFound");
    aries
        .update(r#"{"id":9223372036854775807}"#)
        .await
        .assert_aries_error(404, "ImageNotFound");
    // Over 1 MiB: InvalidParameter (after authentication).
    let big = format!(r#"{{"id":1,"description":"{}"}}"#, "x".repeat(1024 * 1024));
    aries
        .update(&big)
        .await
        .assert_aries_error(400, "InvalidParameter");
    let got = aries
        .raw(Method::PUT, "/aries/api/v1/image", None, Some(&big))
        .await;
    got.assert_aries_error(401, "Unauthorized");
    // The server is still healthy.
    assert_eq!(aries.describe(1).await.status, 200);
}

// ---------------------------------------------------------------- CreateImage

#[tokio::test]
async fn create_returns_the_documented_shape() {
    let emu = emulator(AuthMode::Lenient).await;
    emu.clock().set_rfc3339("2024-03-20T12:00:00Z").unwrap();
    let aries = Aries::new(&emu);
    let got = aries
        .create(r#"{"name":"Debian-12-x64","os_type":"linux","os_name":"Debian","source_path":"/images/debian-12.qcow2"}"#)
        .await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(
        got.text,
        r#"{"image":{"id":4,"name":"Debian-12-x64","os_type":"linux","os_name":"Debian","description":"","source_path":"/images/debian-12.qcow2","created_at":"2024-03-20T12:00:00Z"}}"#
    );
    let image_ref = got
        .header("x-imgemu-image-ref")
        .expect("ref header")
        .to_string();
    assert!(is_ref(&image_ref), "{image_ref}");
    let read = aries.describe(4).await;
    assert_eq!(read.json()["updated_at"], "2024-03-20T12:00:00Z");
    assert_eq!(read.header("x-imgemu-image-ref"), Some(image_ref.as_str()));
}

#[tokio::test]
async fn create_ignores_client_ids_and_never_reuses_ids() {
    let emu = emulator(AuthMode::Lenient).await;
    let aries = Aries::new(&emu);
    let body = json!({"id": 99, "ref": "img-aaaaaaaaaaaa", "created_at": "2000-01-01T00:00:00Z",
        "name": "a", "os_type": "windows", "os_name": "Windows Server", "description": "d",
        "source_path": "C:/Images/WIN.VHDX"});
    let got = aries.create(&body.to_string()).await;
    assert_eq!(got.status, 200, "{}", got.text);
    let image = &got.json()["image"];
    assert_eq!(image["id"], 4);
    assert_eq!(image["created_at"], "2026-01-01T00:00:00Z");
    assert_ne!(got.header("x-imgemu-image-ref"), Some("img-aaaaaaaaaaaa"));
    assert_eq!(aries.delete("4").await.status, 200);
    let got = aries.create(&create_body("b")).await;
    assert_eq!(got.json()["image"]["id"], 5, "ids are never reused");
}

#[tokio::test]
async fn create_invalid_parameter_rows() {
    let emu = emulator(AuthMode::Lenient).await;
    let aries = Aries::new(&emu);
    let ok =
        json!({"name": "n", "os_type": "linux", "os_name": "Debian", "source_path": "/a/b.iso"});
    let with = |key: &str, value: Value| {
        let mut body = ok.clone();
        body[key] = value;
        body.to_string()
    };
    let without = |key: &str| {
        let mut body = ok.clone();
        body.as_object_mut().unwrap().remove(key);
        body.to_string()
    };
    let cases: Vec<(&str, String)> = vec![
        ("empty", String::new()),
        ("not JSON", "name=x".into()),
        ("array", "[]".into()),
        ("name missing", without("name")),
        ("os_type missing", without("os_type")),
        ("os_name missing", without("os_name")),
        ("source_path missing", without("source_path")),
        ("name null", with("name", Value::Null)),
        ("source_path null", with("source_path", Value::Null)),
        ("name blank", with("name", json!(" "))),
        ("source_path blank", with("source_path", json!("  "))),
        ("os_name blank", with("os_name", json!(""))),
        ("name number", with("name", json!(1))),
        ("description number", with("description", json!(1))),
        ("source_path array", with("source_path", json!(["/a.iso"]))),
        ("os_type Windows", with("os_type", json!("Windows"))),
        ("name 129", with("name", json!("x".repeat(129)))),
        ("os_name 65", with("os_name", json!("x".repeat(65)))),
        ("description 1025", with("description", json!("x".repeat(1025)))),
        // InvalidParameter wins over a bad path and an existing name.
        ("bad type and bad path", json!({"name": "CentOS-7.9-x64", "os_type": "LINUX", "os_name": "x", "source_path": "rel.iso"}).to_string()),
    ];
    for (what, body) in cases {
        let got = aries.create(&body).await;
        assert_eq!(got.status, 400, "{what}: {}", got.text);
        got.assert_aries_error(400, "InvalidParameter");
    }
    // Nothing was created.
    assert_eq!(ids(&aries.list("").await.json()), vec![3, 2, 1]);
}

#[tokio::test]
async fn create_source_path_and_name_rules() {
    let emu = emulator(AuthMode::Lenient).await;
    let aries = Aries::new(&emu);
    for bad in [
        "relative/x.iso",
        " /x.iso",
        "/x.iso ",
        "/.iso",
        "C:relative.iso",
        "/a/../b.iso",
        "/a/b/",
        "/a/b.txt",
    ] {
        let body = json!({"name": "n", "os_type": "linux", "os_name": "x", "source_path": bad})
            .to_string();
        let got = aries.create(&body).await;
        assert_eq!(got.status, 400, "{bad:?}: {}", got.text);
        got.assert_aries_error(400, "InvalidSourcePath");
    }
    for good in [
        "D:\\Hyper-V\\Images\\x.vhdx",
        "\\\\nas\\share\\x.img",
        "/x/y.QCOW2",
    ] {
        let body = json!({"name": good, "os_type": "windows", "os_name": "x", "source_path": good})
            .to_string();
        assert_eq!(aries.create(&body).await.status, 200, "{good:?}");
    }
    // InvalidSourcePath before ImageExists.
    let body = json!({"name": "CentOS-7.9-x64", "os_type": "linux", "os_name": "x", "source_path": "x.iso"});
    aries
        .create(&body.to_string())
        .await
        .assert_aries_error(400, "InvalidSourcePath");
    // ImageExists for a taken name (exact match).
    aries
        .create(&create_body("CentOS-7.9-x64"))
        .await
        .assert_aries_error(400, "ImageExists");
    assert_eq!(
        aries.create(&create_body("centos-7.9-x64")).await.status,
        200
    );
}

#[tokio::test]
async fn concurrent_creates_with_one_name_make_exactly_one_image() {
    let emu = emulator(AuthMode::Lenient).await;
    let aries = std::sync::Arc::new(Aries::new(&emu));
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let aries = aries.clone();
        tasks.push(tokio::spawn(async move {
            aries.create(&create_body("race")).await.status
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 400).count(),
        15,
        "{statuses:?}"
    );
}

// ---------------------------------------------------------------- ListImage

#[tokio::test]
async fn list_filters_and_orders() {
    let emu = emulator(AuthMode::Lenient).await;
    let aries = Aries::new(&emu);
    let got = aries.list("?os_type=linux").await;
    assert_eq!(got.status, 200);
    assert_eq!(
        got.text,
        r#"[{"id":2,"name":"Ubuntu-22.04-x64","os_type":"linux","os_name":"Ubuntu","description":"Ubuntu 22.04 LTS 64位基础镜像","created_at":"2024-03-20T10:40:00Z","updated_at":"2024-03-20T10:40:00Z"},{"id":1,"name":"CentOS-7.9-x64","os_type":"linux","os_name":"CentOS","description":"CentOS 7.9 64位基础镜像","created_at":"2024-03-20T10:30:00Z","updated_at":"2024-03-20T10:30:00Z"}]"#
    );
    assert_eq!(ids(&aries.list("").await.json()), vec![3, 2, 1]);
    assert_eq!(ids(&aries.list("?os_type=").await.json()), vec![3, 2, 1]);
    assert_eq!(ids(&aries.list("?os_type=windows").await.json()), vec![3]);
    assert_eq!(ids(&aries.list("?os_name=server").await.json()), vec![3]);
    assert_eq!(
        ids(&aries.list("?os_name=WINDOWS+SERVER").await.json()),
        vec![3]
    );
    assert_eq!(
        ids(&aries.list("?os_name=windows%20server").await.json()),
        vec![3]
    );
    assert_eq!(ids(&aries.list("?os_name=u").await.json()), vec![2]);
    assert_eq!(
        ids(&aries.list("?os_name=%25").await.json()),
        Vec::<u64>::new()
    );
    assert_eq!(
        ids(&aries.list("?os_type=linux&os_name=cent").await.json()),
        vec![1]
    );
    assert_eq!(
        ids(&aries.list("?os_type=windows&os_type=linux").await.json()),
        vec![3],
        "first value wins"
    );
    assert_eq!(
        ids(&aries.list("?page=2&page_size=1").await.json()),
        vec![3, 2, 1],
        "no pagination"
    );
    aries
        .list("?os_type=Linux")
        .await
        .assert_aries_error(400, "InvalidParameter");
    aries
        .list("?os_type=bsd")
        .await
        .assert_aries_error(400, "InvalidParameter");
    for item in aries.list("").await.json().as_array().unwrap() {
        let keys: Vec<&String> = item.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 7, "{keys:?}");
        assert!(item.get("source_path").is_none());
    }
}

#[tokio::test]
async fn list_breaks_created_at_ties_by_id() {
    let emu = emulator(AuthMode::Lenient).await;
    let aries = Aries::new(&emu);
    aries.create(&create_body("a")).await;
    aries.create(&create_body("b")).await;
    assert_eq!(ids(&aries.list("").await.json()), vec![5, 4, 3, 2, 1]);
}

// ---------------------------------------------------------------- DescribeImage

#[tokio::test]
async fn describe_ids() {
    let emu = emulator(AuthMode::Lenient).await;
    let aries = Aries::new(&emu);
    let got = aries
        .call(Method::GET, "/aries/api/v1/image/001", None)
        .await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(
        got.text,
        r#"{"id":1,"name":"CentOS-7.9-x64","os_type":"linux","os_name":"CentOS","description":"CentOS 7.9 64位基础镜像","source_path":"/path/to/image/file.iso","created_at":"2024-03-20T10:30:00Z","updated_at":"2024-03-20T10:30:00Z"}"#
    );
    assert_eq!(got.header("x-imgemu-image-ref"), Some("img-2ze4hxw8hdik"));
    for bad in [
        "0",
        "-1",
        "1.5",
        "abc",
        "img-2ze4hxw8hdik",
        "create",
        "delete",
        "9223372036854775808",
        "%31",
    ] {
        let got = aries
            .call(Method::GET, &format!("/aries/api/v1/image/{bad}"), None)
            .await;
        got.assert_aries_error(400, "InvalidParameter");
    }
    aries
        .describe(4)
        .await
        .assert_aries_error(404, "ImageNotFound");
}

// ---------------------------------------------------------------- DeleteImage

#[tokio::test]
async fn delete_by_id_and_ref() {
    let emu = emulator(AuthMode::Lenient).await;
    let aries = Aries::new(&emu);
    let got = aries.delete("1").await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.text, r#"{"result":true}"#);
    assert_eq!(got.header("x-imgemu-image-ref"), Some("img-2ze4hxw8hdik"));
    aries
        .delete("1")
        .await
        .assert_aries_error(404, "ImageNotFound");
    aries
        .describe(1)
        .await
        .assert_aries_error(404, "ImageNotFound");
    // The name is free again; the id is not reused.
    let created = aries.create(&create_body("CentOS-7.9-x64")).await;
    assert_eq!(created.json()["image"]["id"], 4);
    let image_ref = created.header("x-imgemu-image-ref").unwrap().to_string();
    let got = aries.delete(&image_ref).await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.header("x-imgemu-image-ref"), Some(image_ref.as_str()));
    aries
        .delete(&image_ref)
        .await
        .assert_aries_error(404, "ImageNotFound");
    aries.delete("img-ubuntu2204x6").await;
    assert_eq!(ids(&aries.list("").await.json()), vec![3]);
}

#[tokio::test]
async fn delete_error_rows() {
    let emu = emulator(AuthMode::Lenient).await;
    let aries = Aries::new(&emu);
    for bad in [
        "",
        "IMG-2ze4hxw8hdik",
        "img-short",
        "img-2ZE4HXW8HDIK",
        "0",
        "-3",
        "1.0",
        "%20img-2ze4hxw8hdik",
    ] {
        aries
            .delete(bad)
            .await
            .assert_aries_error(400, "InvalidParameter");
    }
    let got = aries
        .call(Method::DELETE, "/aries/api/v1/image/delete", None)
        .await;
    got.assert_aries_error(400, "InvalidParameter");
    aries
        .delete("img-000000000000")
        .await
        .assert_aries_error(404, "ImageNotFound");
    aries
        .delete("77")
        .await
        .assert_aries_error(404, "ImageNotFound");
    // Image 3 is in use (fixture), by id or by ref.
    aries
        .delete("3")
        .await
        .assert_aries_error(400, "ImageInUse");
    aries
        .delete("img-ws2019dc0001")
        .await
        .assert_aries_error(400, "ImageInUse");
    assert_eq!(aries.describe(3).await.status, 200);
}

// ---------------------------------------------------------------- Routing

#[tokio::test]
async fn unrouted_requests_get_gins_plain_404_without_auth() {
    let emu = emulator(AuthMode::Strict).await;
    let aries = Aries::new(&emu);
    let cases = [
        (Method::POST, "/aries/api/v1/image"),
        (Method::GET, "/aries/api/v1/image"),
        (Method::GET, "/aries/api/v1/image/"),
        (Method::GET, "/aries/api/v1/image/list/"),
        (Method::GET, "/aries/api/v1/image/1/extra"),
        (Method::DELETE, "/aries/api/v1/image/5"),
        (Method::PUT, "/aries/api/v1/image/"),
        (Method::GET, "/aries/api/v1/server/list"),
        (Method::GET, "/aries/API/v1/image/list"),
        (Method::GET, "/aries"),
    ];
    for (method, path) in cases {
        let got = aries.raw(method.clone(), path, None, None).await;
        assert_eq!(got.status, 404, "{method} {path}");
        assert_eq!(got.text, "404 page not found");
        assert_eq!(
            got.header("content-type"),
            Some("text/plain; charset=utf-8")
        );
        assert!(got.header("x-request-id").is_some());
    }
    // Static segments win over :id; GET …/create reaches DescribeImage.
    let got = aries
        .call(Method::GET, "/aries/api/v1/image/create", None)
        .await;
    got.assert_aries_error(400, "InvalidParameter");
}

// ---------------------------------------------------------------- Authentication

#[tokio::test]
async fn lenient_auth_rows() {
    let emu = emulator(AuthMode::Lenient).await;
    let aries = Aries::new(&emu);
    let path = "/aries/api/v1/image/1";
    let get = |auth: Option<String>| {
        let aries = &aries;
        async move { aries.raw(Method::GET, path, auth.as_deref(), None).await }
    };
    // Missing and malformed: 401 with a Bearer challenge.
    for auth in [
        None,
        Some("Token abc".into()),
        Some("Bearer".into()),
        Some("Bearer a b".into()),
        Some(format!("Bearer {}", "t".repeat(513))),
    ] {
        let got = get(auth.clone()).await;
        got.assert_aries_error(401, "Unauthorized");
        assert_eq!(
            got.header("www-authenticate"),
            Some(r#"Bearer realm="aries""#),
            "{auth:?}"
        );
    }
    // Malformed Basic: a Basic challenge.
    let got = get(Some("Basic !!!".into())).await;
    got.assert_aries_error(401, "Unauthorized");
    assert_eq!(
        got.header("www-authenticate"),
        Some(r#"Basic realm="aries""#)
    );
    // A bare Basic scheme is a malformed Basic credential: a Basic challenge.
    let got = get(Some("Basic".into())).await;
    got.assert_aries_error(401, "Unauthorized");
    assert_eq!(
        got.header("www-authenticate"),
        Some(r#"Basic realm="aries""#)
    );
    // Registered user, wrong password.
    let got = get(Some(basic("admin", "nope"))).await;
    got.assert_aries_error(401, "Unauthorized");
    assert_eq!(
        got.header("www-authenticate"),
        Some(r#"Basic realm="aries""#)
    );
    // Scheme names in any case; token and Basic share tenant admin.
    assert_eq!(get(Some(format!("bearer {TOKEN}"))).await.status, 200);
    assert_eq!(
        get(Some(basic("admin", "password").replace("Basic", "BASIC")))
            .await
            .status,
        200
    );
    // Unregistered token and user: accepted as their own (empty) tenants.
    get(Some("Bearer someone-else".into()))
        .await
        .assert_aries_error(404, "ImageNotFound");
    get(Some(basic("bob", "x")))
        .await
        .assert_aries_error(404, "ImageNotFound");
    // Two Authorization headers are malformed.
    let got = Got::from(
        aries
            .http
            .get(format!("{}{path}", aries.base))
            .header("Authorization", format!("Bearer {TOKEN}"))
            .header("Authorization", format!("Bearer {TOKEN}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    got.assert_aries_error(401, "Unauthorized");
}

#[tokio::test]
async fn strict_and_off_auth_rows() {
    let emu = emulator(AuthMode::Strict).await;
    let aries = Aries::new(&emu);
    let path = "/aries/api/v1/image/list";
    aries
        .raw(Method::GET, path, Some("Bearer unknown"), None)
        .await
        .assert_aries_error(401, "Unauthorized");
    let got = aries
        .raw(Method::GET, path, Some(&basic("bob", "x")), None)
        .await;
    got.assert_aries_error(401, "Unauthorized");
    assert_eq!(
        got.header("www-authenticate"),
        Some(r#"Basic realm="aries""#)
    );
    assert_eq!(
        aries
            .raw(Method::GET, path, Some(&basic("admin", "password")), None)
            .await
            .status,
        200
    );

    emu.settings().set_auth_mode(AuthMode::Off);
    let got = aries.raw(Method::GET, path, None, None).await;
    assert_eq!(
        (got.status, got.text.as_str()),
        (200, "[]"),
        "tenant default is empty"
    );
    let got = aries
        .raw(Method::GET, path, Some(&basic("admin", "wrong")), None)
        .await;
    assert_eq!(
        ids(&got.json()),
        vec![3, 2, 1],
        "off: the user name is the tenant, unchecked"
    );
}

#[tokio::test]
async fn credentials_registered_through_the_control_plane() {
    let emu = emulator(AuthMode::Strict).await;
    let aries = Aries::new(&emu);
    let path = "/aries/api/v1/image/list";
    aries
        .raw(Method::GET, path, Some("Bearer tok-bob"), None)
        .await
        .assert_aries_error(401, "Unauthorized");
    let got = aries
        .control(
            Method::POST,
            "/credentials",
            Some(r#"{"vendor":"aries","token":"tok-bob","user":"bob"}"#),
        )
        .await;
    assert_eq!(got.status, 201, "{}", got.text);
    let got = aries
        .control(
            Method::POST,
            "/credentials",
            Some(r#"{"vendor":"aries","user":"carol","password":"pw"}"#),
        )
        .await;
    assert_eq!(got.status, 201, "{}", got.text);
    // bob creates in his own tenant; admin does not see it.
    let created = aries
        .raw(
            Method::POST,
            "/aries/api/v1/image/create",
            Some("Bearer tok-bob"),
            Some(&create_body("bob-image")),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.text);
    let bobs = aries
        .raw(Method::GET, path, Some("Bearer tok-bob"), None)
        .await
        .json();
    assert_eq!(ids(&bobs), vec![4]);
    assert_eq!(ids(&aries.list("").await.json()), vec![3, 2, 1]);
    aries
        .describe(4)
        .await
        .assert_aries_error(404, "ImageNotFound");
    aries
        .delete("4")
        .await
        .assert_aries_error(404, "ImageNotFound");
    aries
        .update(r#"{"id":4,"name":"stolen"}"#)
        .await
        .assert_aries_error(404, "ImageNotFound");
    // Names are unique per tenant only.
    let got = aries
        .raw(
            Method::POST,
            "/aries/api/v1/image/create",
            Some("Bearer tok-bob"),
            Some(&create_body("CentOS-7.9-x64")),
        )
        .await;
    assert_eq!(got.status, 200, "{}", got.text);
    // carol with the right and the wrong password.
    assert_eq!(
        aries
            .raw(Method::GET, path, Some(&basic("carol", "pw")), None)
            .await
            .text,
        "[]"
    );
    aries
        .raw(Method::GET, path, Some(&basic("carol", "no")), None)
        .await
        .assert_aries_error(401, "Unauthorized");
    // Malformed registrations are refused.
    for bad in [
        r#"{"vendor":"aries","token":"has space","user":"x"}"#,
        r#"{"vendor":"aries","token":"t"}"#,
        r#"{"vendor":"aries","user":"a:b","password":"p"}"#,
        r#"{"vendor":"aries","access_key":"k","secret_key":"s"}"#,
        r#"{"vendor":"nope","token":"t","user":"u"}"#,
        r#"{"vendor":"aries","token":"t","user":"u","extra":1}"#,
    ] {
        let got = aries.control(Method::POST, "/credentials", Some(bad)).await;
        assert_eq!(got.status, 400, "{bad}: {}", got.text);
        assert!(got.json()["error"].is_string());
    }
}

// ---------------------------------------------------------------- Request ids and the journal

#[tokio::test]
async fn request_ids_are_echoed_when_well_formed() {
    let emu = emulator(AuthMode::Lenient).await;
    let aries = Aries::new(&emu);
    let send = |rid: String| {
        let aries = &aries;
        async move {
            Got::from(
                aries
                    .http
                    .get(format!("{}/aries/api/v1/image/99", aries.base))
                    .bearer_auth(TOKEN)
                    .header("X-Request-Id", rid)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let got = send("trace-1.a_b".into()).await;
    assert_eq!(got.header("x-request-id"), Some("trace-1.a_b"));
    assert_eq!(got.json()["request_id"], "trace-1.a_b");
    for bad in ["has space".to_string(), "x".repeat(65), "a/b".into()] {
        let got = send(bad.clone()).await;
        let rid = got.header("x-request-id").unwrap();
        assert_ne!(rid, bad);
        assert!(uuid_v4_like(rid), "{rid}");
    }
}

fn uuid_v4_like(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == vec![8, 4, 4, 4, 12]
        && s.bytes()
            .all(|b| b == b'-' || b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && parts[2].starts_with('4')
}

#[tokio::test]
async fn the_cause_goes_to_the_journal_not_the_wire() {
    let emu = emulator(AuthMode::Lenient).await;
    let aries = Aries::new(&emu);
    let got = aries
        .update(&json!({"id": 1, "name": "x".repeat(200)}).to_string())
        .await;
    got.assert_aries_error(400, "InvalidParameter");
    assert!(!got.text.contains("128"));
    let entries = emu
        .journal()
        .entries(&imgemu::journal::Query::vendor("aries").operation("UpdateImage"));
    assert_eq!(entries.len(), 1);
    let entry = &entries[0];
    assert_eq!(entry.status, 400);
    assert_eq!(entry.tenant.as_deref(), Some("admin"));
    assert_eq!(Some(entry.request_id.as_str()), got.header("x-request-id"));
    assert!(
        entry
            .detail
            .as_deref()
            .unwrap_or("")
            .contains("exceeds 128"),
        "{entry:?}"
    );
    let got = aries
        .raw(
            Method::GET,
            "/aries/api/v1/image/1",
            Some("Basic YWRtaW46bm9wZQ=="),
            None,
        )
        .await;
    got.assert_aries_error(401, "Unauthorized");
    let last = emu
        .journal()
        .entries(&imgemu::journal::Query::all().status(401));
    assert!(
        last[0]
            .detail
            .as_deref()
            .unwrap_or("")
            .contains("wrong password"),
        "{last:?}"
    );
}

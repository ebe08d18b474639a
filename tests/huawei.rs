//! Huawei Cloud IMS over real HTTP, signed with SDK-HMAC-SHA256 (or a token): UpdateImage's
//! validation rows and op semantics, list filters and marker paging, show/delete, create-image jobs
//! through INIT/RUNNING/SUCCESS|FAIL with the active-only rule, token auth and tenant isolation.

mod common;

use common::huawei::{
    assert_gateway, assert_ims, assert_request_id, Cred, HwClient, DEV_PROJECT, GOLD_IMAGE,
    SEED_IMAGE,
};
use common::Got;
use imgemu::{AuthMode, Emulator, TransitionPolicy};
use serde_json::{json, Value};

async fn emulator(mode: AuthMode) -> Emulator {
    Emulator::builder()
        .auth_mode(mode)
        .manual_clock()
        .start()
        .await
        .unwrap()
}

fn ids(list: &Value) -> Vec<String> {
    list["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

// ------------------------------------------------------------------ UpdateImage

#[tokio::test]
async fn update_image_renames_and_moves_updated_at() {
    let emu = emulator(AuthMode::Strict).await;
    let hw = HwClient::dev(&emu);
    let got = hw
        .update(SEED_IMAGE, &json!([{"op": "replace", "path": "/name", "value": "ubuntu-base"}, {"op": "add", "path": "/max_ram", "value": 4096}]))
        .await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_request_id(&got);
    assert_eq!(
        got.header("content-type"),
        Some("application/json;charset=UTF-8")
    );
    let image = got.json();
    assert_eq!(image["name"], "ubuntu-base");
    assert_eq!(image["max_ram"], "4096", "max_ram is a digit string");
    assert_eq!(image["min_ram"], 0, "min_ram is a number");
    assert_eq!(image["updated_at"], "2026-01-01T00:00:00Z");
    assert_eq!(image["created_at"], "2015-12-04T09:45:33Z");
    assert_eq!(image["status"], "active");
    assert_eq!(image["__description"], "ims test");
    // Read back.
    assert_eq!(hw.show(SEED_IMAGE).await.json()["name"], "ubuntu-base");
    // Ids match case-insensitively.
    let upper = hw
        .update(
            &SEED_IMAGE.to_uppercase(),
            &json!([{"op": "add", "path": "/__description", "value": ""}]),
        )
        .await;
    assert_eq!(upper.status, 200, "{}", upper.text);
}

#[tokio::test]
async fn a_patch_with_one_bad_operation_changes_nothing() {
    let emu = emulator(AuthMode::Lenient).await;
    let hw = HwClient::dev(&emu);
    let before = hw.show(SEED_IMAGE).await.json();
    emu.clock()
        .advance(std::time::Duration::from_secs(60))
        .unwrap();
    let got = hw
        .update(
            SEED_IMAGE,
            &json!([{"op": "replace", "path": "/name", "value": "changed"},
                    {"op": "add", "path": "/hw_firmware_type", "value": "efi"}]),
        )
        .await;
    assert_ims(&got, 400, "IMG.0141");
    assert_eq!(hw.show(SEED_IMAGE).await.json(), before);
}

#[tokio::test]
async fn update_image_validation_rows() {
    let emu = emulator(AuthMode::Lenient).await;
    let hw = HwClient::dev(&emu);
    let op = |op: &str, path: &str, value: Value| json!([{"op": op, "path": path, "value": value}]);
    let raw = |body: &'static str| {
        let hw = &hw;
        async move {
            hw.call(
                "PATCH",
                &format!("/v2/cloudimages/{SEED_IMAGE}"),
                None,
                body.as_bytes(),
            )
            .await
        }
    };
    assert_ims(
        &hw.update("not-a-uuid", &op("add", "/name", json!("x")))
            .await,
        400,
        "IMG.0066",
    );
    assert_ims(&raw("").await, 400, "IMG.0007");
    assert_ims(&raw("[]").await, 400, "IMG.0007");
    for body in [
        "{",
        "{}",
        "[1]",
        r#"[{"op":"copy","path":"/name","value":"x"}]"#,
        r#"[{"op":"add","path":"name","value":"x"}]"#,
        r#"[{"op":"add","path":"/a/b","value":"x"}]"#,
        r#"[{"op":"replace","path":"/name"}]"#,
        r#"[{"op":"add","path":"/name","value":["x"]}]"#,
    ] {
        assert_ims(&raw(body).await, 400, "IMG.0001");
    }
    // Syntax is checked before lookup.
    assert_ims(
        &hw.call(
            "PATCH",
            "/v2/cloudimages/00000000-0000-4000-8000-000000000000",
            None,
            b"[1]",
        )
        .await,
        400,
        "IMG.0001",
    );
    assert_ims(
        &hw.update(
            "00000000-0000-4000-8000-000000000000",
            &op("add", "/name", json!("x")),
        )
        .await,
        404,
        "IMG.0144",
    );
    assert_ims(
        &hw.update(GOLD_IMAGE, &op("add", "/name", json!("x"))).await,
        403,
        "IMG.0083",
    );
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            op("replace", "/name", json!("n".repeat(129))),
            400,
            "IMG.0002",
        ),
        (op("replace", "/name", json!("bad/name")), 400, "IMG.0003"),
        (op("replace", "/name", json!(" lead")), 400, "IMG.0003"),
        (
            op("add", "/__description", json!("d".repeat(1025))),
            400,
            "IMG.0004",
        ),
        (op("add", "/__description", json!("a<b")), 400, "IMG.0054"),
        (
            op("add", "/__description", json!("line\nbreak")),
            400,
            "IMG.0054",
        ),
        (op("add", "/min_ram", json!(-1)), 400, "IMG.0055"),
        (op("add", "/min_ram", json!(1.5)), 400, "IMG.0055"),
        (op("add", "/max_ram", json!("12x")), 400, "IMG.0055"),
        (
            json!([{"op": "add", "path": "/min_ram", "value": 2048}, {"op": "add", "path": "/max_ram", "value": 1024}]),
            400,
            "IMG.0055",
        ),
        (
            op("add", "/hw_firmware_type", json!("legacy")),
            400,
            "IMG.0141",
        ),
        (
            op("add", "/enterprise_project_id", json!("proj")),
            400,
            "IMG.0155",
        ),
        (op("add", "/__support_kvm", json!("yes")), 400, "IMG.0001"),
        (op("add", "/id", json!("x")), 403, "IMG.0161"),
        (op("add", "/status", json!("queued")), 403, "IMG.0161"),
        (op("add", "/__imagetype", json!("gold")), 403, "IMG.0161"),
        (op("add", "/__secret", json!("x")), 403, "IMG.0161"),
        (op("add", "/Bad-Name", json!("x")), 400, "IMG.0001"),
        (
            op("add", "/custom", json!("v".repeat(256))),
            400,
            "IMG.0001",
        ),
        (json!([{"op": "remove", "path": "/name"}]), 403, "IMG.0161"),
        (
            json!([{"op": "remove", "path": "/min_ram"}]),
            403,
            "IMG.0161",
        ),
    ];
    for (ops, status, code) in cases {
        assert_ims(&hw.update(SEED_IMAGE, &ops).await, status, code);
    }
    // Only active images can be updated.
    let http = reqwest::Client::new();
    let set = http
        .post(format!(
            "{}/_imgemu/huawei/images/{SEED_IMAGE}/status",
            emu.url()
        ))
        .body(r#"{"status":"saving"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    assert_ims(
        &hw.update(SEED_IMAGE, &op("add", "/name", json!("x"))).await,
        400,
        "IMG.0046",
    );
}

#[tokio::test]
async fn op_semantics() {
    let emu = emulator(AuthMode::Lenient).await;
    let hw = HwClient::dev(&emu);
    // replace on a missing attribute is a conflict; add creates it; add on an existing one overwrites.
    assert_ims(
        &hw.update(
            SEED_IMAGE,
            &json!([{"op": "replace", "path": "/max_ram", "value": 1}]),
        )
        .await,
        400,
        "IMG.0035",
    );
    let got = hw
        .update(
            SEED_IMAGE,
            &json!([{"op": "add", "path": "/max_ram", "value": "2048"}]),
        )
        .await
        .json();
    assert_eq!(got["max_ram"], "2048");
    let got = hw
        .update(
            SEED_IMAGE,
            &json!([{"op": "add", "path": "/max_ram", "value": 4096}]),
        )
        .await
        .json();
    assert_eq!(got["max_ram"], "4096");
    // Custom attributes: add, replace, remove; values become strings.
    let got = hw
        .update(SEED_IMAGE, &json!([{"op": "add", "path": "/team.owner", "value": 42}, {"op": "add", "path": "/on-call", "value": true}]))
        .await
        .json();
    assert_eq!(
        (got["team.owner"].clone(), got["on-call"].clone()),
        (json!("42"), json!("true"))
    );
    let got = hw
        .update(
            SEED_IMAGE,
            &json!([{"op": "replace", "path": "/team.owner", "value": "ops"}]),
        )
        .await
        .json();
    assert_eq!(got["team.owner"], "ops");
    let got = hw
        .update(
            SEED_IMAGE,
            &json!([{"op": "remove", "path": "/team.owner"}]),
        )
        .await
        .json();
    assert!(got.get("team.owner").is_none());
    assert_ims(
        &hw.update(
            SEED_IMAGE,
            &json!([{"op": "remove", "path": "/team.owner"}]),
        )
        .await,
        400,
        "IMG.0035",
    );
    // Removing an optional base attribute, then replacing it, conflicts.
    let got = hw
        .update(
            SEED_IMAGE,
            &json!([{"op": "remove", "path": "/__description"}]),
        )
        .await
        .json();
    assert!(got.get("__description").is_none());
    assert_ims(
        &hw.update(
            SEED_IMAGE,
            &json!([{"op": "replace", "path": "/__description", "value": "x"}]),
        )
        .await,
        400,
        "IMG.0035",
    );
    // Flags accept JSON booleans and store strings.
    let got = hw
        .update(
            SEED_IMAGE,
            &json!([{"op": "add", "path": "/__support_kvm", "value": false}]),
        )
        .await
        .json();
    assert_eq!(got["__support_kvm"], "false");
    // Operations apply in order within one patch.
    let got = hw
        .update(SEED_IMAGE, &json!([{"op": "add", "path": "/x1", "value": "a"}, {"op": "replace", "path": "/x1", "value": "b"}]))
        .await
        .json();
    assert_eq!(got["x1"], "b");
}

// ------------------------------------------------------------------ list, show, delete

#[tokio::test]
async fn list_filters_sorts_and_pages_with_markers() {
    let emu = emulator(AuthMode::Lenient).await;
    let hw = HwClient::dev(&emu);
    let all = hw.list("").await.json();
    assert_eq!(ids(&all).len(), 5);
    assert_eq!(all["page_info"], json!({}));
    assert!(all.get("next").is_none());
    // Newest first by default: the gold images (2023) before the seed image (2015).
    assert_eq!(ids(&all).last().unwrap(), SEED_IMAGE);
    let mut seen = Vec::new();
    let mut page = hw.list("limit=2&sort_key=name&sort_dir=asc").await.json();
    loop {
        seen.extend(ids(&page));
        let Some(marker) = page["page_info"]["next_marker"].as_str() else {
            break;
        };
        assert!(page["next"]
            .as_str()
            .unwrap()
            .contains(&format!("marker={marker}")));
        page = hw
            .list(&format!(
                "limit=2&sort_key=name&sort_dir=asc&marker={marker}"
            ))
            .await
            .json();
    }
    assert_eq!(seen.len(), 5, "{seen:?}");
    let mut sorted = seen.clone();
    sorted.dedup();
    assert_eq!(sorted.len(), 5, "every image exactly once");
    assert_eq!(
        ids(&hw.list("__imagetype=private").await.json()),
        [SEED_IMAGE]
    );
    assert_eq!(
        ids(&hw.list("__imagetype=gold&architecture=arm").await.json()),
        ["f0e1d2c3-b4a5-4968-8776-5a4b3c2d1e04"]
    );
    assert_eq!(ids(&hw.list("name=ims_test").await.json()), [SEED_IMAGE]);
    assert_eq!(
        ids(&hw
            .list("created_at=lt%3A2020-01-01T00%3A00%3A00Z")
            .await
            .json()),
        [SEED_IMAGE]
    );
    assert_eq!(
        hw.list(&format!("id={SEED_IMAGE}")).await.json()["images"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_ims(&hw.list("limit=0").await, 400, "IMG.0001");
    assert_ims(&hw.list("sort_key=colour").await, 400, "IMG.0001");
    assert_ims(&hw.list("__imagetype=secret").await, 400, "IMG.0024");
    assert_ims(
        &hw.list("marker=00000000-0000-4000-8000-000000000000").await,
        400,
        "IMG.0027",
    );
}

#[tokio::test]
async fn show_and_delete() {
    let emu = emulator(AuthMode::Lenient).await;
    let hw = HwClient::dev(&emu);
    let gold = hw.show(GOLD_IMAGE).await;
    assert_eq!(gold.status, 200);
    assert_eq!(gold.json()["owner"], "00000000000000000000000000000000");
    assert_ims(&hw.show("nope").await, 400, "IMG.0066");
    assert_ims(
        &hw.call("DELETE", &format!("/v2/images/{GOLD_IMAGE}"), None, b"")
            .await,
        403,
        "IMG.0094",
    );
    assert_ims(
        &hw.call(
            "DELETE",
            &format!("/v2/images/{SEED_IMAGE}"),
            None,
            br#"{"delete_backup":"yes"}"#,
        )
        .await,
        400,
        "IMG.0001",
    );
    let got = hw
        .call(
            "DELETE",
            &format!("/v2/images/{SEED_IMAGE}"),
            None,
            br#"{"delete_backup":true}"#,
        )
        .await;
    assert_eq!(got.status, 204, "{}", got.text);
    assert_request_id(&got);
    assert_ims(&hw.show(SEED_IMAGE).await, 404, "IMG.0144");
    assert_ims(
        &hw.call("DELETE", &format!("/v2/images/{SEED_IMAGE}"), None, b"")
            .await,
        404,
        "IMG.0144",
    );
}

// ------------------------------------------------------------------ create-image jobs

#[tokio::test]
async fn create_image_job_lifecycle_and_the_active_only_rule() {
    let emu = emulator(AuthMode::Strict).await;
    let hw = HwClient::dev(&emu);
    let got = hw.create(&json!({"name": "web-base", "image_url": "my-bucket:images/web.qcow2", "min_disk": 40, "os_version": "CentOS 7.9 64bit"})).await;
    assert_eq!(got.status, 200, "{}", got.text);
    let job_id = got.json()["job_id"].as_str().unwrap().to_string();
    assert!(job_id.len() == 32 && job_id.bytes().all(|b| b.is_ascii_hexdigit()));
    // The image exists at once, queued, visible in lists.
    let listed = hw.list("name=web-base").await.json();
    let image_id = listed["images"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(listed["images"][0]["status"], "queued");
    assert_eq!(listed["images"][0]["__platform"], "CentOS");
    // First read: RUNNING, image saving; the image cannot be updated yet.
    let first = hw.job(DEV_PROJECT, &job_id).await.json();
    assert_eq!(
        (first["status"].as_str(), first["end_time"].as_str()),
        (Some("RUNNING"), Some(""))
    );
    assert_eq!(
        first["entities"],
        json!({"image_name": "web-base", "process_percent": 0.5})
    );
    assert_ims(
        &hw.update(
            &image_id,
            &json!([{"op": "add", "path": "/__description", "value": "x"}]),
        )
        .await,
        400,
        "IMG.0046",
    );
    assert_ims(
        &hw.call("DELETE", &format!("/v2/images/{image_id}"), None, b"")
            .await,
        400,
        "IMG.0090",
    );
    // Second read: SUCCESS, image active; the update works.
    let second = hw.job(DEV_PROJECT, &job_id).await.json();
    assert_eq!(second["status"], "SUCCESS");
    assert_eq!(second["entities"]["image_id"], image_id.as_str());
    assert_eq!(second["begin_time"], "2026-01-01T00:00:00.000Z");
    let image = hw.show(&image_id).await.json();
    assert_eq!(
        (image["status"].as_str(), image["active_at"].as_str()),
        (Some("active"), Some("2026-01-01T00:00:00Z"))
    );
    assert_eq!(
        hw.update(
            &image_id,
            &json!([{"op": "add", "path": "/__description", "value": "x"}])
        )
        .await
        .status,
        200
    );
    // ShowJobProgress reads the same job.
    let progress = hw
        .call("GET", &format!("/v1/cloudimages/job/{job_id}"), None, b"")
        .await
        .json();
    assert_eq!(
        progress["entities"],
        json!({"image_name": "web-base", "image_id": image_id, "process_percent": 1.0})
    );
    // ShowJob's path project must be the caller's; unknown jobs are 404.
    assert_ims(&hw.job("0000aaaa", &job_id).await, 400, "IMG.0067");
    assert_ims(
        &hw.job(DEV_PROJECT, "ffffffffffffffffffffffffffffffff")
            .await,
        404,
        "IMG.0121",
    );
}

#[tokio::test]
async fn forced_failure_kills_the_image() {
    let emu = Emulator::builder()
        .manual_clock()
        .transition(TransitionPolicy::Polls(3))
        .start()
        .await
        .unwrap();
    let hw = HwClient::dev(&emu);
    let job_id = hw
        .create(&json!({"name": "from-ecs", "instance_id": "0c3a5bd1-7b3e-4f2a-9d6e-1a2b3c4d5e6f"}))
        .await
        .json()["job_id"]
        .as_str()
        .unwrap()
        .to_string();
    let tasks: Value = reqwest::get(format!("{}/_imgemu/tasks", emu.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(tasks
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["vendor"] == "huawei" && t["id"] == job_id.as_str()));
    let failed = reqwest::Client::new()
        .post(format!("{}/_imgemu/tasks/{job_id}/fail", emu.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(failed.status(), 200);
    let job = hw.job(DEV_PROJECT, &job_id).await.json();
    assert_eq!(
        (job["status"].as_str(), job["error_code"].as_str()),
        (Some("FAIL"), Some("IMG.0014"))
    );
    assert_eq!(
        job["fail_reason"],
        "An exception occurred when IaaS OpenStack was executing the task."
    );
    let image_id = hw.list("name=from-ecs").await.json()["images"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(hw.show(&image_id).await.json()["status"], "killed");
}

#[tokio::test]
async fn create_image_validation_rows() {
    let emu = emulator(AuthMode::Lenient).await;
    let hw = HwClient::dev(&emu);
    assert_ims(
        &hw.call("POST", "/v2/cloudimages/action", None, b"").await,
        400,
        "IMG.0007",
    );
    let cases: Vec<(Value, &str)> = vec![
        (json!([]), "IMG.0001"),
        (json!({"name": "x"}), "IMG.0001"),
        (
            json!({"name": "x", "image_url": "b:o", "instance_id": "0c3a5bd1-7b3e-4f2a-9d6e-1a2b3c4d5e6f"}),
            "IMG.0001",
        ),
        (
            json!({"image_url": "bucket:o.qcow2", "min_disk": 40}),
            "IMG.0013",
        ),
        (
            json!({"name": "x", "image_url": "no-colon", "min_disk": 40}),
            "IMG.0017",
        ),
        (
            json!({"name": "x", "image_url": "bucket:o.qcow2", "min_disk": 0}),
            "IMG.0055",
        ),
        (
            json!({"name": "x", "instance_id": "not-a-uuid"}),
            "IMG.0005",
        ),
        (
            json!({"name": "x", "instance_id": "0c3a5bd1-7b3e-4f2a-9d6e-1a2b3c4d5e6f", "data_images": [{}]}),
            "IMG.0105",
        ),
    ];
    for (body, code) in cases {
        assert_ims(&hw.create(&body).await, 400, code);
    }
}

// ------------------------------------------------------------------ gateway, auth, tenants

#[tokio::test]
async fn gateway_routing_and_size() {
    let emu = emulator(AuthMode::Lenient).await;
    let hw = HwClient::dev(&emu);
    let msg = assert_gateway(
        &hw.call("GET", "/v2/nothing", None, b"").await,
        404,
        "APIG.0101",
    );
    assert_eq!(
        msg,
        "The API does not exist or has not been published in the environment."
    );
    let msg = assert_gateway(
        &hw.call("GET", &format!("/v2/cloudimages/{SEED_IMAGE}"), None, b"")
            .await,
        404,
        "APIG.0101",
    );
    assert_eq!(msg, "The API does not exist.");
    assert_gateway(
        &hw.call("GET", "/v2/cloudimages/", None, b"").await,
        404,
        "APIG.0101",
    );
    let big = vec![b'['; 12 * 1024 * 1024 + 1];
    let h = hw.headers(
        "PATCH",
        &format!("/v2/cloudimages/{SEED_IMAGE}"),
        None,
        b"[]",
    );
    assert_gateway(
        &hw.send(
            "PATCH",
            &format!("/v2/cloudimages/{SEED_IMAGE}"),
            None,
            &big,
            &h,
        )
        .await,
        413,
        "APIGW.0201",
    );
}

#[tokio::test]
async fn tokens_keys_and_projects() {
    let emu = emulator(AuthMode::Strict).await;
    let token = HwClient::new(&emu, Cred::Token("imgemu-dev-token".into()));
    assert_eq!(token.show(SEED_IMAGE).await.status, 200);
    let msg = assert_gateway(
        &HwClient::new(&emu, Cred::Token("nope".into()))
            .show(SEED_IMAGE)
            .await,
        401,
        "APIGW.0301",
    );
    assert_eq!(
        msg,
        "Incorrect IAM authentication information: decrypt token fail"
    );
    let msg = assert_gateway(
        &HwClient::new(&emu, Cred::None).show(SEED_IMAGE).await,
        401,
        "APIGW.0301",
    );
    assert!(msg.ends_with("x-auth-token not found"), "{msg}");
    let wrong = HwClient::new(
        &emu,
        Cred::Key {
            ak: "imgemu-dev-ak".into(),
            sk: "wrong".into(),
            project: Some(DEV_PROJECT.into()),
        },
    );
    let msg = assert_gateway(&wrong.show(SEED_IMAGE).await, 401, "APIGW.0301");
    assert!(msg.ends_with("verify aksk signature fail"), "{msg}");
    let stranger = HwClient::new(
        &emu,
        Cred::Key {
            ak: "stranger".into(),
            sk: "x".into(),
            project: None,
        },
    );
    let msg = assert_gateway(&stranger.show(SEED_IMAGE).await, 401, "APIGW.0301");
    assert!(
        msg.ends_with("Get secretKey failed,ak:stranger,err:ak not exist"),
        "{msg}"
    );
    let other_project = HwClient::new(
        &emu,
        Cred::Key {
            ak: "imgemu-dev-ak".into(),
            sk: "imgemu-dev-sk".into(),
            project: Some("someone-else".into()),
        },
    );
    let msg = assert_gateway(&other_project.show(SEED_IMAGE).await, 401, "APIGW.0301");
    assert!(
        msg.ends_with("x-project-id is not a project of this ak"),
        "{msg}"
    );
    // Without X-Project-Id the key's default project is used.
    let no_project = HwClient::new(
        &emu,
        Cred::Key {
            ak: "imgemu-dev-ak".into(),
            sk: "imgemu-dev-sk".into(),
            project: None,
        },
    );
    assert_eq!(no_project.show(SEED_IMAGE).await.status, 200);
    // Skew beyond 15 minutes.
    let hw = HwClient::dev(&emu);
    let path = format!("/v2/images/{SEED_IMAGE}");
    emu.clock()
        .advance(std::time::Duration::from_secs(16 * 60))
        .unwrap();
    let mut h = hw.headers("GET", &path, None, b"");
    let stale = common::huawei::sdk_date(emu.clock().now() - time::Duration::minutes(16));
    h.insert("x-sdk-date", stale.parse().unwrap());
    let msg = assert_gateway(
        &hw.send("GET", &path, None, b"", &h).await,
        401,
        "APIGW.0301",
    );
    assert!(msg.contains("15 minute"), "{msg}");
}

#[tokio::test]
async fn another_project_sees_only_gold_images() {
    let emu = emulator(AuthMode::Strict).await;
    emu.register_credential(imgemu::credentials::Credential {
        vendor: "huawei".into(),
        access_key: Some("second".into()),
        secret_key: Some("second-sk".into()),
        project_id: Some("11112222333344445555666677778888".into()),
        ..Default::default()
    })
    .unwrap();
    let second = HwClient::new(
        &emu,
        Cred::Key {
            ak: "second".into(),
            sk: "second-sk".into(),
            project: Some("11112222333344445555666677778888".into()),
        },
    );
    assert_ims(&second.show(SEED_IMAGE).await, 404, "IMG.0144");
    assert_ims(
        &second
            .update(
                SEED_IMAGE,
                &json!([{"op": "add", "path": "/name", "value": "x"}]),
            )
            .await,
        404,
        "IMG.0144",
    );
    assert_eq!(ids(&second.list("").await.json()).len(), 4);
    assert_ims(
        &second.list(&format!("marker={SEED_IMAGE}")).await,
        400,
        "IMG.0027",
    );
    // A job of the dev project is invisible too.
    let dev = HwClient::dev(&emu);
    let job = dev
        .create(&json!({"name": "mine", "image_url": "bucket:x.qcow2", "min_disk": 40}))
        .await
        .json()["job_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ims(
        &second
            .call("GET", &format!("/v1/cloudimages/job/{job}"), None, b"")
            .await,
        404,
        "IMG.0121",
    );
    // Tokens registered for the project act there.
    emu.register_credential(imgemu::credentials::Credential {
        vendor: "huawei".into(),
        token: Some("tok-2".into()),
        project_id: Some("11112222333344445555666677778888".into()),
        ..Default::default()
    })
    .unwrap();
    let by_token = HwClient::new(&emu, Cred::Token("tok-2".into()));
    let created = by_token
        .create(&json!({"name": "theirs", "image_url": "bucket:y.qcow2", "min_disk": 40}))
        .await;
    assert_eq!(created.status, 200, "{}", created.text);
    assert_eq!(
        ids(&second.list("__imagetype=private").await.json()).len(),
        1
    );
    assert_eq!(ids(&dev.list("__imagetype=private").await.json()).len(), 2);
}

#[tokio::test]
async fn huawei_state_round_trips() {
    let emu = emulator(AuthMode::Lenient).await;
    let hw = HwClient::dev(&emu);
    let job = hw
        .create(&json!({"name": "snap", "image_url": "bucket:s.qcow2", "min_disk": 40}))
        .await
        .json()["job_id"]
        .as_str()
        .unwrap()
        .to_string();
    hw.job(DEV_PROJECT, &job).await;
    let exported = emu.state().export();
    assert_eq!(exported["huawei"]["jobs"][0]["reads"], 1);
    let other = Emulator::builder()
        .fixtures(imgemu::Fixtures::None)
        .manual_clock()
        .start()
        .await
        .unwrap();
    other.state().replace(&exported).unwrap();
    assert_eq!(other.state().export(), exported);
    let moved = HwClient::dev(&other);
    assert_eq!(
        moved.job(DEV_PROJECT, &job).await.json()["status"],
        "SUCCESS"
    );
    let got: Got = Got::from(
        reqwest::Client::new()
            .post(format!(
                "{}/_imgemu/huawei/images/{GOLD_IMAGE}/status",
                other.url()
            ))
            .body(r#"{"status":"killed"}"#)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(got.status, 400);
}

// ------------------------------------------------------------------ bounded job table

#[tokio::test]
async fn finished_jobs_beyond_the_limit_are_forgotten_oldest_first() {
    let emu = emulator(AuthMode::Strict).await;
    emu.settings()
        .apply(&json!({"huawei.max_finished_jobs": 2}))
        .unwrap();
    assert_eq!(emu.settings().view()["huawei"]["max_finished_jobs"], 2);
    emu.settings().set_transition(TransitionPolicy::Immediate);
    let hw = HwClient::dev(&emu);
    let mut jobs = Vec::new();
    for i in 0..4 {
        let got = hw
            .create(
                &json!({"name": format!("img-{i}"), "image_url": "my-bucket:images/web.qcow2",
                             "min_disk": 40, "os_version": "CentOS 7.9 64bit"}),
            )
            .await;
        assert_eq!(got.status, 200, "{}", got.text);
        jobs.push(got.json()["job_id"].as_str().unwrap().to_string());
        emu.clock()
            .advance(std::time::Duration::from_secs(1))
            .unwrap();
    }
    for id in &jobs[..2] {
        assert_ims(&hw.job(DEV_PROJECT, id).await, 404, "IMG.0121");
    }
    for id in &jobs[2..] {
        assert_eq!(hw.job(DEV_PROJECT, id).await.json()["status"], "SUCCESS");
    }
    // The images the forgotten jobs made stay.
    assert_eq!(
        hw.list("name=img-0").await.json()["images"][0]["status"],
        "active"
    );
    assert!(emu
        .settings()
        .apply(&json!({"huawei.max_finished_jobs": "many"}))
        .is_err());
}

// ------------------------------------------------------------------ packed images

/// A fixture directory holding `huawei` as its only vendor member.
fn huawei_fixtures(name: &str, huawei: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("imgemu-hw-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("huawei.json"),
        format!(r#"{{"format":"imgemu-state","version":1,"huawei":{huawei}}}"#),
    )
    .unwrap();
    dir
}

/// A private image of the dev project.
fn private_image(id: &str, name: &str, created: &str) -> Value {
    json!({"id": id, "name": name, "owner": DEV_PROJECT, "status": "active",
           "visibility": "private", "__imagetype": "private", "protected": false,
           "created_at": created, "updated_at": created, "min_ram": 0, "tags": ["t1"],
           "__description": "é \"quoted\" \\ tab\t"})
}

/// Images loaded from a fixture file stay as their text until a request changes them (docs/
/// huawei.md, "Memory"); either way they render as one canonical body: members sorted, no
/// whitespace, the last of a repeated member.
#[tokio::test]
async fn loaded_images_read_like_changed_ones() {
    const A: &str = "0a000000-0000-4000-8000-00000000000a";
    const B: &str = "0b000000-0000-4000-8000-00000000000b";
    let a = private_image(A, "alpha", "2024-01-01T00:00:01Z");
    let b = private_image(B, "beta", "2024-01-01T00:00:02Z");
    // `a` pretty-printed in reverse member order with a stale `name` first; `b` compact.
    let Value::Object(members) = &a else { panic!() };
    let mut reversed: Vec<String> = members
        .iter()
        .rev()
        .map(|(k, v)| {
            format!(
                "\n    {} :  {}",
                json!(k),
                serde_json::to_string_pretty(v).unwrap()
            )
        })
        .collect();
    reversed.insert(0, "\n  \"name\": \"stale\"".into());
    let a_text = format!("{{{}\n}}", reversed.join(","));
    let dir = huawei_fixtures("packed", &format!(r#"{{"images":[{a_text}, {b}]}}"#));
    let emu = Emulator::builder()
        .fixtures(imgemu::Fixtures::Dir(dir))
        .manual_clock()
        .start()
        .await
        .unwrap();
    let hw = HwClient::dev(&emu);

    let shown = hw.show(A).await;
    assert_eq!(shown.status, 200);
    assert_eq!(shown.text, serde_json::to_string(&a).unwrap());
    assert_eq!(
        shown.header("content-type"),
        Some("application/json;charset=UTF-8")
    );

    // Changing `b` opens it; the list renders the packed and the open image alike.
    let renamed = hw
        .update(
            B,
            &json!([{"op": "replace", "path": "/name", "value": "beta2"}]),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    let mut b2 = renamed.json();
    assert_eq!(b2["name"], "beta2");
    assert_eq!(hw.show(B).await.text, serde_json::to_string(&b2).unwrap());
    let list = hw
        .list("sort_key=name&sort_dir=asc&__imagetype=private")
        .await;
    assert_eq!(ids(&list.json()), [A, B]);
    let text = list.text;
    let a_compact = serde_json::to_string(&a).unwrap();
    let b_compact = serde_json::to_string(&b2).unwrap();
    assert_eq!(
        text,
        format!(r#"{{"images":[{a_compact},{b_compact}],"page_info":{{}}}}"#)
    );
    // Filters and default paging read packed images without opening them.
    let list = hw.list("tag=t1&limit=1").await.json();
    assert_eq!(ids(&list), [B]);
    assert_eq!(list["page_info"]["next_marker"], B);
    let list = hw.list(&format!("tag=t1&limit=1&marker={B}")).await.json();
    assert_eq!(ids(&list), [A]);
    assert!(ids(&hw.list("__imagetype=gold").await.json()).is_empty());
    assert_eq!(ids(&hw.list("name=alpha").await.json()), [A]);

    // The state document holds both as members; a packed image is deleted like any other.
    let exported = emu.state().export();
    assert_eq!(exported["huawei"]["images"][0], a);
    b2["updated_at"] = b2["updated_at"].clone();
    assert_eq!(exported["huawei"]["images"][1], b2);
    let gone = hw
        .call("DELETE", &format!("/v2/images/{A}"), None, b"")
        .await;
    assert_eq!(gone.status, 204, "{}", gone.text);
    assert_ims(&hw.show(A).await, 404, "IMG.0144");
}

/// A fixture file (read as text, image by image) and `PUT /_imgemu/state` (a parsed document)
/// refuse the same `huawei` members with the same path and message.
#[tokio::test]
async fn fixture_files_and_state_documents_refuse_alike() {
    const A: &str = "0a000000-0000-4000-8000-00000000000a";
    let good = private_image(A, "alpha", "2024-01-01T00:00:01Z");
    let with = |key: &str, value: Value| {
        let mut image = good.clone();
        image[key] = value;
        image
    };
    let cases = [
        json!({"images": [good, 5]}),
        json!({"images": [good, "x"]}),
        json!({"images": [good, [1]]}),
        json!({"images": {"id": A}}),
        json!({"images": [with("id", json!("not-a-uuid"))]}),
        json!({"images": [with("id", json!(7))]}),
        json!({"images": [with("owner", json!(null))]}),
        json!({"images": [with("status", json!("deleted"))]}),
        json!({"images": [with("visibility", json!(true))]}),
        json!({"images": [with("__imagetype", json!("shared"))]}),
        json!({"images": [with("created_at", json!("yesterday"))]}),
        json!({"images": [good, with("id", json!(A.to_uppercase()))]}),
        // A repeated id before an invalid image is reported first, and after one it is not.
        json!({"images": [good, good, with("status", json!("x"))]}),
        json!({"images": [good, with("status", json!("x")), good]}),
        json!({"images": [], "extra": 1}),
        json!({"images": [good], "jobs": [{"job_id": "x"}]}),
    ];
    for (n, huawei) in cases.iter().enumerate() {
        let doc = json!({"format": "imgemu-state", "version": 1, "huawei": huawei});
        let emu = Emulator::builder()
            .fixtures(imgemu::Fixtures::None)
            .start()
            .await
            .unwrap();
        let parsed = emu.state().replace(&doc).expect_err("refused").to_string();
        let dir = huawei_fixtures(&format!("refuse-{n}"), &huawei.to_string());
        let from_file = Emulator::builder()
            .fixtures(imgemu::Fixtures::Dir(dir))
            .start()
            .await
            .err()
            .expect("refused")
            .to_string();
        assert!(
            from_file.ends_with(&format!("huawei.json: {parsed}")),
            "{huawei}\n  file:     {from_file}\n  document: {parsed}"
        );
        assert!(!parsed.contains(" line "), "{parsed}");
    }
}

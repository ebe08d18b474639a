//! The emulator core over real HTTP: isolation, port release, clock, reset and state round trip,
//! journal, settings, control-plane routing and protection, the blocking variant and fixtures.

mod common;

use std::time::Duration;

use common::{emulator, Aries};
use imgemu::journal::Query;
use imgemu::{AuthMode, Emulator, Fixtures, StartError};
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn two_emulators_share_nothing() {
    let a = emulator(AuthMode::Lenient).await;
    let b = emulator(AuthMode::Lenient).await;
    assert_ne!(a.addr(), b.addr());
    let (ca, cb) = (Aries::new(&a), Aries::new(&b));
    assert_eq!(
        ca.update(r#"{"id":1,"name":"only-in-a"}"#).await.status,
        200
    );
    assert_eq!(cb.describe(1).await.json()["name"], "CentOS-7.9-x64");
    a.clock().advance(Duration::from_secs(3600)).unwrap();
    assert_ne!(a.clock().now(), b.clock().now());
    assert_eq!(a.journal().count(&Query::all()), 1);
    assert_eq!(b.journal().count(&Query::all()), 1);
    a.settings().set_auth_mode(AuthMode::Strict);
    assert_eq!(b.settings().get().auth, AuthMode::Lenient);
    ca.control(
        Method::POST,
        "/credentials",
        Some(r#"{"vendor":"aries","token":"only-a","user":"u"}"#),
    )
    .await;
    assert!(b.credentials().token("aries", "only-a").is_none());
}

#[tokio::test]
async fn drop_frees_the_port_at_once() {
    let emu = emulator(AuthMode::Lenient).await;
    let addr = emu.addr();
    assert_eq!(Aries::new(&emu).describe(1).await.status, 200);
    drop(emu);
    // Binding the same port right after drop must succeed: the listener is already closed.
    let rebound = std::net::TcpListener::bind(addr);
    assert!(rebound.is_ok(), "port {addr} still taken: {rebound:?}");
    drop(rebound);
    // And an emulator can be started on it again.
    let again = Emulator::builder()
        .port(addr.port())
        .start()
        .await
        .expect("restart on same port");
    assert_eq!(again.addr(), addr);
    again.shutdown().await;
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let emu = emulator(AuthMode::Lenient).await;
    let addr = emu.addr();
    emu.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn manual_clock_drives_timestamps_through_the_control_plane() {
    let emu = emulator(AuthMode::Lenient).await;
    let aries = Aries::new(&emu);
    let clock = aries.control(Method::GET, "/clock", None).await.json();
    assert_eq!(
        clock,
        json!({"now": "2026-01-01T00:00:00Z", "frozen": true})
    );
    let got = aries
        .control(Method::POST, "/clock", Some(r#"{"advance":"90s"}"#))
        .await;
    assert_eq!(got.json()["now"], "2026-01-01T00:01:30Z");
    assert_eq!(
        aries.update(r#"{"id":1}"#).await.json()["updated_at"],
        "2026-01-01T00:01:30Z"
    );
    // Integers are milliseconds.
    aries
        .control(Method::POST, "/clock", Some(r#"{"advance":30000}"#))
        .await;
    assert_eq!(
        aries.update(r#"{"id":1}"#).await.json()["updated_at"],
        "2026-01-01T00:02:00Z"
    );
    let got = aries
        .control(
            Method::POST,
            "/clock",
            Some(r#"{"set":"2030-05-06T07:08:09+02:00"}"#),
        )
        .await;
    assert_eq!(got.json()["now"], "2030-05-06T05:08:09Z");
    assert_eq!(
        aries.update(r#"{"id":1}"#).await.json()["updated_at"],
        "2030-05-06T05:08:09Z"
    );
    // Resume: time runs on from the instant shown.
    let got = aries
        .control(Method::POST, "/clock", Some(r#"{"resume":true}"#))
        .await
        .json();
    assert_eq!(got["frozen"], false);
    let got = aries
        .control(
            Method::POST,
            "/clock",
            Some(r#"{"freeze":true,"set":"2024-03-20T11:30:00Z"}"#),
        )
        .await;
    assert_eq!(
        got.json(),
        json!({"now": "2024-03-20T11:30:00Z", "frozen": true})
    );
    for bad in [
        r#"{"advance":"5 minutes"}"#,
        r#"{"set":"yesterday"}"#,
        r#"{"warp":1}"#,
        r#"{"freeze":"yes"}"#,
        "[]",
        "{",
        r#"{"freeze":true,"resume":true}"#,
    ] {
        let got = aries.control(Method::POST, "/clock", Some(bad)).await;
        assert_eq!(got.status, 400, "{bad}");
        assert!(got.json()["error"].is_string());
    }
    assert_eq!(
        aries.control(Method::GET, "/clock", None).await.json()["now"],
        "2024-03-20T11:30:00Z"
    );
}

#[tokio::test]
async fn reset_empties_state_and_can_reload_fixtures() {
    let emu = emulator(AuthMode::Lenient).await;
    let aries = Aries::new(&emu);
    aries
        .control(
            Method::POST,
            "/credentials",
            Some(r#"{"vendor":"aries","token":"t2","user":"u2"}"#),
        )
        .await;
    aries.update(r#"{"id":1,"name":"changed"}"#).await;
    let got = aries.control(Method::POST, "/reset", None).await;
    assert_eq!(got.json(), json!({"status": "ok", "fixtures": false}));
    assert_eq!(aries.list("").await.text, "[]");
    assert_eq!(
        emu.journal().count(&Query::all()),
        1,
        "the journal restarted with the list call"
    );
    assert!(
        emu.credentials().token("aries", "t2").is_none(),
        "registered credentials are state"
    );
    assert!(
        emu.credentials()
            .token("aries", "imgemu-dev-token")
            .is_some(),
        "dev credentials are configuration"
    );
    // A new history: the counter starts at 1.
    let created = aries
        .create(r#"{"name":"n","os_type":"linux","os_name":"x","source_path":"/a.iso"}"#)
        .await;
    assert_eq!(created.json()["image"]["id"], 1);
    aries
        .control(Method::POST, "/reset?fixtures=true", None)
        .await;
    assert_eq!(aries.describe(1).await.json()["name"], "CentOS-7.9-x64");
    assert_eq!(
        aries
            .control(Method::POST, "/reset?fixtures=maybe", None)
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn state_export_replace_round_trips_exactly() {
    let emu = emulator(AuthMode::Lenient).await;
    let aries = Aries::new(&emu);
    aries.create(r#"{"name":"extra","os_type":"windows","os_name":"Windows","source_path":"C:\\x.vhd","description":"多"}"#).await;
    aries.delete("2").await;
    aries
        .control(
            Method::POST,
            "/credentials",
            Some(r#"{"vendor":"aries","user":"carol","password":"pw"}"#),
        )
        .await;
    let exported = aries.control(Method::GET, "/state", None).await.json();
    assert_eq!(exported["format"], "imgemu-state");
    assert_eq!(exported["version"], 1);
    assert_eq!(exported["aries"]["next_id"], 5);
    assert_eq!(
        exported["credentials"],
        json!([{"vendor": "aries", "user": "carol", "password": "pw"}])
    );

    // Into a fresh, empty emulator: GET returns exactly what was PUT.
    let other = Emulator::builder()
        .fixtures(Fixtures::None)
        .start()
        .await
        .unwrap();
    let other_client = Aries::new(&other);
    assert_eq!(
        other_client
            .control(Method::GET, "/state", None)
            .await
            .json()["aries"],
        json!({"next_id": 1, "tenants": {}})
    );
    let put = other_client
        .control(Method::PUT, "/state", Some(&exported.to_string()))
        .await;
    assert_eq!(put.status, 204, "{}", put.text);
    assert_eq!(
        other_client
            .control(Method::GET, "/state", None)
            .await
            .json(),
        exported
    );
    assert_eq!(other_client.describe(4).await.json()["description"], "多");
    // The counter came along: the next image is 5 there too.
    let created = other_client
        .create(r#"{"name":"n","os_type":"linux","os_name":"x","source_path":"/a.iso"}"#)
        .await;
    assert_eq!(created.json()["image"]["id"], 5);
    // And the in-process API is the same operation.
    other.state().replace(&exported).unwrap();
    assert_eq!(other.state().export(), exported);
}

#[tokio::test]
async fn state_documents_are_validated_all_or_nothing() {
    let emu = emulator(AuthMode::Lenient).await;
    let aries = Aries::new(&emu);
    let before = aries.control(Method::GET, "/state", None).await.json();
    let image = |patch: Value| {
        let mut img = json!({"id": 7, "ref": "img-aaaaaaaaaaaa", "name": "a", "os_type": "linux", "os_name": "x",
            "description": "", "source_path": "/a.iso", "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z", "in_use": false});
        for (k, v) in patch.as_object().unwrap() {
            img[k] = v.clone();
        }
        img
    };
    let doc = |images: Vec<Value>, next_id: Value| {
        json!({"format": "imgemu-state", "version": 1, "credentials": [{"vendor": "aries", "token": "new", "user": "n"}],
            "aries": {"next_id": next_id, "tenants": {"t": {"images": images}}}})
    };
    let cases = vec![
        (json!([]), "$"),
        (json!({"format": "other", "version": 1}), "$.format"),
        (json!({"version": 1}), "$.format"),
        (json!({"format": "imgemu-state", "version": 2}), "$.version"),
        (
            json!({"format": "imgemu-state", "version": 1, "gcp": {}}),
            "$.gcp",
        ),
        (
            json!({"format": "imgemu-state", "version": 1, "credentials": [{"vendor": "aries"}]}),
            "$.credentials[0]",
        ),
        (
            json!({"format": "imgemu-state", "version": 1, "credentials": [{"vendor": 5}]}),
            "$.credentials[0].vendor",
        ),
        (
            doc(vec![image(json!({"id": 0}))], Value::Null),
            "$.aries.tenants.t.images[0].id",
        ),
        (
            doc(vec![image(json!({"id": "7"}))], Value::Null),
            "$.aries.tenants.t.images[0].id",
        ),
        (
            doc(vec![image(json!({"ref": "IMG-1"}))], Value::Null),
            "$.aries.tenants.t.images[0].ref",
        ),
        (
            doc(vec![image(json!({})), image(json!({"id": 8}))], Value::Null),
            "$.aries.tenants.t.images[1].ref",
        ),
        (
            doc(
                vec![image(json!({})), image(json!({"ref": "img-bbbbbbbbbbbb"}))],
                Value::Null,
            ),
            "$.aries.tenants.t.images[1].id",
        ),
        (
            doc(vec![image(json!({"os_type": "Linux"}))], Value::Null),
            "$.aries.tenants.t.images[0].os_type",
        ),
        (
            doc(
                vec![image(json!({"created_at": "2024-01-01T00:00:00.5Z"}))],
                Value::Null,
            ),
            "$.aries.tenants.t.images[0].created_at",
        ),
        (
            doc(
                vec![image(json!({"updated_at": "2024-01-01"}))],
                Value::Null,
            ),
            "$.aries.tenants.t.images[0].updated_at",
        ),
        (
            doc(vec![image(json!({"colour": "red"}))], Value::Null),
            "$.aries.tenants.t.images[0].colour",
        ),
        (
            doc(vec![image(json!({"name": "n".repeat(129)}))], Value::Null),
            "$.aries.tenants.t.images[0].name",
        ),
        (
            doc(vec![image(json!({"os_name": " "}))], Value::Null),
            "$.aries.tenants.t.images[0].os_name",
        ),
        (
            doc(
                vec![image(json!({"description": "d".repeat(1025)}))],
                Value::Null,
            ),
            "$.aries.tenants.t.images[0].description",
        ),
        (
            doc(
                vec![image(json!({"source_path": "relative.iso"}))],
                Value::Null,
            ),
            "$.aries.tenants.t.images[0].source_path",
        ),
        (doc(vec![image(json!({}))], json!(7)), "$.aries.next_id"),
    ];
    for (bad, path) in cases {
        let got = aries
            .control(Method::PUT, "/state", Some(&bad.to_string()))
            .await;
        assert_eq!(got.status, 400, "{bad}: {}", got.text);
        let body = got.json();
        assert_eq!(body["path"], path, "{}", got.text);
        assert!(body["error"].as_str().unwrap().starts_with(path));
    }
    assert_eq!(
        aries
            .control(Method::PUT, "/state", Some("{nope"))
            .await
            .status,
        400
    );
    assert_eq!(
        aries.control(Method::GET, "/state", None).await.json(),
        before,
        "nothing changed"
    );
    // A valid document without refs or next_id gets fresh refs and max id + 1.
    let mut ok = doc(vec![image(json!({}))], Value::Null);
    ok["aries"]["tenants"]["t"]["images"][0]
        .as_object_mut()
        .unwrap()
        .remove("ref");
    ok["aries"].as_object_mut().unwrap().remove("next_id");
    assert_eq!(
        aries
            .control(Method::PUT, "/state", Some(&ok.to_string()))
            .await
            .status,
        204
    );
    let now = aries.control(Method::GET, "/state", None).await.json();
    assert_eq!(now["aries"]["next_id"], 8);
    let image_ref = now["aries"]["tenants"]["t"]["images"][0]["ref"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(image_ref.starts_with("img-") && image_ref.len() == 16);
}

#[tokio::test]
async fn the_journal_records_each_vendor_request() {
    let emu = emulator(AuthMode::Lenient).await;
    let aries = Aries::new(&emu);
    aries.describe(1).await;
    aries.describe(99).await;
    aries.update(r#"{"id":1}"#).await;
    aries
        .raw(Method::GET, "/aries/api/v1/image/1", None, None)
        .await;
    aries.raw(Method::GET, "/elsewhere", None, None).await;
    // Control-plane calls are never journaled.
    aries.control(Method::GET, "/health", None).await;
    let all = aries.control(Method::GET, "/journal", None).await.json();
    assert_eq!(all["count"], 5);
    let entries = all["entries"].as_array().unwrap();
    assert_eq!(
        entries
            .iter()
            .map(|e| e["seq"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5]
    );
    assert_eq!(entries[0]["operation"], "DescribeImage");
    assert_eq!(entries[0]["method"], "GET");
    assert_eq!(entries[0]["path"], "/aries/api/v1/image/1");
    assert_eq!(entries[0]["tenant"], "admin");
    assert_eq!(entries[0]["at"], "2026-01-01T00:00:00Z");
    assert_eq!(entries[4]["vendor"], Value::Null);
    assert_eq!(entries[4]["status"], 404);
    let q = |query: &str| {
        let aries = &aries;
        let query = query.to_string();
        async move {
            aries
                .control(Method::GET, &format!("/journal?{query}"), None)
                .await
                .json()
        }
    };
    assert_eq!(q("vendor=aries").await["count"], 4);
    assert_eq!(q("operation=DescribeImage").await["count"], 3);
    assert_eq!(q("status=404").await["count"], 2);
    assert_eq!(q("tenant=admin").await["count"], 3);
    assert_eq!(q("since=3").await["count"], 2);
    let limited = q("vendor=aries&limit=1").await;
    assert_eq!(limited["count"], 4);
    assert_eq!(limited["entries"][0]["seq"], 4);
    assert_eq!(
        aries
            .control(Method::GET, "/journal?limit=x", None)
            .await
            .status,
        400
    );
    assert_eq!(
        aries
            .control(Method::GET, "/journal?colour=red", None)
            .await
            .status,
        400
    );
    assert_eq!(
        aries.control(Method::DELETE, "/journal", None).await.status,
        204
    );
    assert_eq!(q("").await["count"], 0);
    assert_eq!(emu.journal().count(&Query::all()), 0);
}

#[tokio::test]
async fn settings_change_behaviour_at_run_time() {
    let emu = emulator(AuthMode::Lenient).await;
    let aries = Aries::new(&emu);
    let got = aries.control(Method::GET, "/settings", None).await.json();
    assert_eq!(
        got,
        json!({"auth": "lenient", "transition": "polls:1", "quotas": "on", "aliyun": {}, "aries": {}, "huawei": {"max_finished_jobs": 10000}, "jd": {"daily_quota": 5000, "qps_limit": "off", "product_status_items": "strings", "max_finished_tasks": 10000}})
    );
    assert_eq!(
        aries
            .raw(
                Method::GET,
                "/aries/api/v1/image/list",
                Some("Bearer unknown"),
                None
            )
            .await
            .status,
        200
    );
    let got = aries
        .control(
            Method::PUT,
            "/settings",
            Some(r#"{"auth":"strict","transition":"time:5s","quotas":false}"#),
        )
        .await;
    assert_eq!(
        got.json(),
        json!({"auth": "strict", "transition": "time:5s", "quotas": "off", "aliyun": {}, "aries": {}, "huawei": {"max_finished_jobs": 10000}, "jd": {"daily_quota": 5000, "qps_limit": "off", "product_status_items": "strings", "max_finished_tasks": 10000}})
    );
    assert_eq!(
        aries
            .raw(
                Method::GET,
                "/aries/api/v1/image/list",
                Some("Bearer unknown"),
                None
            )
            .await
            .status,
        401
    );
    for bad in [
        r#"{"auth":"loose"}"#,
        r#"{"transition":"later"}"#,
        r#"{"quotas":"maybe"}"#,
        r#"{"colour":1}"#,
        r#"{"aries.nothing":1}"#,
        r#"{"auth":"off","quotas":3}"#,
        "[]",
    ] {
        let got = aries.control(Method::PUT, "/settings", Some(bad)).await;
        assert_eq!(got.status, 400, "{bad}: {}", got.text);
    }
    assert_eq!(
        emu.settings().get().auth,
        AuthMode::Strict,
        "a refused document changes nothing"
    );
    // Settings are configuration: reset keeps them.
    aries.control(Method::POST, "/reset", None).await;
    assert_eq!(emu.settings().get().auth, AuthMode::Strict);
}

#[tokio::test]
async fn control_plane_routes() {
    let emu = emulator(AuthMode::Lenient).await;
    let aries = Aries::new(&emu);
    let health = aries.control(Method::GET, "/health", None).await;
    assert_eq!(health.status, 200);
    let body = health.json();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["vendors"], json!(["jd", "aliyun", "huawei", "aries"]));
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert!(body["uptime_s"].is_u64());
    assert!(health.header("x-request-id").is_some());
    assert_eq!(aries.control(Method::GET, "/tasks", None).await.text, "[]");
    let got = aries
        .control(Method::POST, "/tasks/nope/finish", None)
        .await;
    assert_eq!((got.status, got.json()["error"].is_string()), (404, true));
    assert_eq!(
        aries
            .control(Method::POST, "/tasks/nope/fail", Some(r#"{"message":"x"}"#))
            .await
            .status,
        404
    );
    assert_eq!(aries.control(Method::GET, "/faults", None).await.text, "[]");
    let empty_batch = aries.control(Method::POST, "/faults", Some("[]")).await;
    assert_eq!((empty_batch.status, empty_batch.text.as_str()), (201, "[]"));
    assert_eq!(
        aries.control(Method::DELETE, "/faults", None).await.status,
        204
    );
    assert_eq!(
        aries
            .control(Method::DELETE, "/faults/r1", None)
            .await
            .status,
        404
    );
    let got = aries.control(Method::POST, "/health", None).await;
    assert_eq!((got.status, got.header("allow")), (405, Some("GET")));
    let got = aries.control(Method::GET, "/nothing", None).await;
    assert_eq!(
        got.json(),
        json!({"error": "no route", "method": "GET", "path": "/_imgemu/nothing"})
    );
    assert_eq!(
        aries
            .control(Method::GET, "/aries/whatever", None)
            .await
            .status,
        404
    );
    let got = aries
        .raw(Method::POST, "/v9/unknown?x=1", None, Some("body"))
        .await;
    assert_eq!(got.status, 404);
    assert_eq!(
        got.json(),
        json!({"error": "no route", "method": "POST", "path": "/v9/unknown"})
    );
    assert!(got.header("x-request-id").is_some());
}

#[tokio::test]
async fn admin_token_protects_the_control_plane() {
    let emu = Emulator::builder()
        .admin_token("s3cret")
        .start()
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let health = format!("{}/_imgemu/health", emu.url());
    let status = |r: reqwest::Response| r.status().as_u16();
    assert_eq!(status(http.get(&health).send().await.unwrap()), 401);
    assert_eq!(
        status(http.get(&health).bearer_auth("wrong").send().await.unwrap()),
        401
    );
    assert_eq!(
        status(
            http.get(&health)
                .bearer_auth("s3cret")
                .send()
                .await
                .unwrap()
        ),
        200
    );
    let lower = http
        .get(&health)
        .header("Authorization", "bearer s3cret")
        .send()
        .await
        .unwrap();
    assert_eq!(status(lower), 200, "the scheme is case-insensitive");
    let refused = http.get(&health).send().await.unwrap();
    assert_eq!(
        refused.headers()["www-authenticate"],
        "Bearer realm=\"imgemu\""
    );
    // Vendor traffic is unaffected by the admin token.
    let image = http
        .get(format!("{}/aries/api/v1/image/1", emu.url()))
        .bearer_auth("imgemu-dev-token")
        .send()
        .await
        .unwrap();
    assert_eq!(status(image), 200);
}

#[tokio::test]
async fn fixtures_from_a_directory_and_their_errors() {
    let dir = std::env::temp_dir().join(format!("imgemu-fixtures-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("a.json"),
        r#"{"format":"imgemu-state","version":1,"credentials":[{"vendor":"aries","token":"fx","user":"fx-user"}]}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("b.json"),
        r#"{"format":"imgemu-state","version":1,"aries":{"tenants":{"fx-user":{"images":[
            {"id":10,"name":"only","os_type":"linux","os_name":"x","source_path":"/o.iso",
             "created_at":"2025-01-01T00:00:00Z","updated_at":"2025-01-01T00:00:00Z"}]}}}}"#,
    )
    .unwrap();
    let emu = Emulator::builder()
        .auth_mode(AuthMode::Strict)
        .fixtures(Fixtures::Dir(dir.clone()))
        .start()
        .await
        .unwrap();
    let got = reqwest::Client::new()
        .get(format!("{}/aries/api/v1/image/list", emu.url()))
        .bearer_auth("fx")
        .send()
        .await
        .unwrap();
    let list: Value = got.json().await.unwrap();
    assert_eq!(list[0]["id"], 10);
    assert_eq!(list[0]["description"], "");
    drop(emu);

    // A reload that fails (a broken file appeared) changes nothing, not even the journal.
    let emu = Emulator::builder()
        .fixtures(Fixtures::Dir(dir.clone()))
        .start()
        .await
        .unwrap();
    std::fs::write(dir.join("c.json"), "not json").unwrap();
    let client = Aries::new(&emu);
    client
        .raw(
            Method::GET,
            "/aries/api/v1/image/list",
            Some("Bearer fx"),
            None,
        )
        .await;
    let got = client
        .control(Method::POST, "/reset?fixtures=true", None)
        .await;
    assert_eq!(got.status, 400);
    assert!(got.json()["error"].as_str().unwrap().contains("c.json"));
    assert_eq!(emu.journal().count(&Query::all()), 1);
    assert_eq!(
        emu.state().export()["aries"]["tenants"]["fx-user"]["images"][0]["id"],
        10
    );
    drop(emu);

    std::fs::write(
        dir.join("c.json"),
        r#"{"format":"imgemu-state","version":1,"aries":{"tenants":{"x":{"images":[{"id":-1}]}}}}"#,
    )
    .unwrap();
    let err = Emulator::builder()
        .fixtures(Fixtures::Dir(dir.clone()))
        .start()
        .await
        .err()
        .expect("refused");
    let text = err.to_string();
    assert!(matches!(err, StartError::Fixtures(_)));
    assert!(
        text.contains("c.json") && text.contains("$.aries.tenants.x.images[0].id"),
        "{text}"
    );
    std::fs::write(dir.join("c.json"), "{\"format\": ").unwrap();
    let text = Emulator::builder()
        .fixtures(Fixtures::Dir(dir.clone()))
        .start()
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        text.contains("c.json") && text.contains("invalid JSON") && text.contains("line 1"),
        "{text}"
    );
    // JSON that is not an object is refused as a document; broken JSON of any shape is a
    // syntax error first.
    for (content, expected) in [
        ("[1]", "$: a state document must be a JSON object"),
        ("[1,", "invalid JSON"),
        ("\"x\" 2", "invalid JSON"),
    ] {
        std::fs::write(dir.join("c.json"), content).unwrap();
        let text = Emulator::builder()
            .fixtures(Fixtures::Dir(dir.clone()))
            .start()
            .await
            .err()
            .unwrap()
            .to_string();
        assert!(
            text.contains("c.json") && text.contains(expected),
            "{content}: {text}"
        );
    }
    std::fs::write(
        dir.join("c.json"),
        r#"{"format":"imgemu-state","version":1,"aries":{}}"#,
    )
    .unwrap();
    let text = Emulator::builder()
        .fixtures(Fixtures::Dir(dir.clone()))
        .start()
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        text.contains("c.json") && text.contains("already defined by") && text.contains("b.json"),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_blocking_variant_serves_synchronous_code() {
    let emu = Emulator::builder()
        .manual_clock()
        .start_blocking()
        .expect("starts");
    let addr = emu.addr();
    let body: Value = reqwest::blocking::Client::new()
        .get(format!("{}/aries/api/v1/image/2", emu.url()))
        .bearer_auth("imgemu-dev-token")
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(body["name"], "Ubuntu-22.04-x64");
    assert_eq!(emu.journal().count(&Query::vendor("aries")), 1);
    drop(emu);
    assert!(std::net::TcpListener::bind(addr).is_ok(), "port freed");
}

#[tokio::test]
async fn start_blocking_refuses_to_run_inside_a_runtime() {
    let err = Emulator::builder().start_blocking().err().expect("refused");
    assert!(matches!(err, StartError::InsideRuntime));
}

#[tokio::test]
async fn a_non_loopback_host_needs_an_admin_token() {
    let err = Emulator::builder()
        .host("0.0.0.0")
        .start()
        .await
        .err()
        .expect("refused");
    assert!(matches!(err, StartError::Unprotected(_)), "{err}");
    assert!(err.to_string().contains("--admin-token"));
    let emu = Emulator::builder()
        .host("0.0.0.0")
        .admin_token("s3cret")
        .start()
        .await
        .expect("allowed with a token");
    emu.shutdown().await;
    for host in ["localhost", "127.0.0.2", "::1"] {
        // A loopback host is never refused as unprotected (it may fail to bind where IPv6 is off).
        match Emulator::builder().host(host).start().await {
            Ok(emu) => emu.shutdown().await,
            Err(e) => assert!(!matches!(e, StartError::Unprotected(_)), "{host}: {e}"),
        }
    }
}

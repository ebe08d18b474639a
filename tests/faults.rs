//! Fault injection over real sockets: every action as a client sees it, vendor-native errors,
//! lifecycle faults, reproducibility under a seed, the journal's record and the control plane.

mod common;

use std::time::{Duration, Instant};

use common::aliyun::{ok, AliClient};
use common::jd::{b64, ramp, result, JdClient};
use common::{Aries, Got};
use imgemu::journal::Query;
use imgemu::{AuthMode, Emulator, FaultRule};
use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn emulator() -> Emulator {
    Emulator::builder().manual_clock().start().await.unwrap()
}

async fn add(emu: &Emulator, rules: Value) -> Got {
    Got::from(
        reqwest::Client::new()
            .post(format!("{}/_imgemu/faults", emu.url()))
            .body(rules.to_string())
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// Sends an Aries describe request on a raw socket and reads until the server closes (or errors).
async fn raw_describe(emu: &Emulator) -> (Vec<u8>, Option<std::io::ErrorKind>) {
    let mut stream = TcpStream::connect(emu.addr()).await.unwrap();
    stream
        .write_all(b"GET /aries/api/v1/image/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer imgemu-dev-token\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let result = tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut buf))
        .await
        .expect("server ends the exchange");
    (buf, result.err().map(|e| e.kind()))
}

fn aries_rule(action: Value) -> Value {
    json!({"match": {"vendor": "aries", "operation": "DescribeImage"}, "action": action})
}

// ------------------------------------------------------------------ vendor-native errors

/// Huawei's gateway answers `APIGW.0201` both for an oversized body (413) and for a backend it
/// cannot reach; an injected one is the backend kind: 502 by default, "Backend timeout." on 504.
#[tokio::test]
async fn huawei_injected_backend_errors_follow_the_status() {
    let emu = emulator().await;
    let show = || async {
        Got::from(
            reqwest::Client::new()
                .get(format!("{}/v2/cloudimages", emu.url()))
                .header("X-Auth-Token", "imgemu-dev-token")
                .send()
                .await
                .unwrap(),
        )
        .await
    };
    for (status, want_status, want_msg) in [
        (None, 502, "Backend unavailable."),
        (Some(504), 504, "Backend timeout."),
        (Some(413), 413, "Request entity too large."),
    ] {
        let mut action = json!({"kind": "error", "code": "APIGW.0201"});
        if let Some(s) = status {
            action["status"] = json!(s);
        }
        let added = add(
            &emu,
            json!({"match": {"vendor": "huawei"}, "trigger": {"first": 1}, "action": action}),
        )
        .await;
        assert_eq!(added.status, 201, "{}", added.text);
        let got = show().await;
        assert_eq!(got.status, want_status, "{}", got.text);
        let body = got.json();
        assert_eq!(body["error_code"], "APIGW.0201");
        assert_eq!(body["error_msg"], want_msg);
        assert!(body["request_id"].as_str().is_some_and(|id| !id.is_empty()));
        // The rule fired once; the next call reaches the handler.
        assert_eq!(show().await.status, 200);
    }
}

#[tokio::test]
async fn errors_are_rendered_natively_for_every_vendor() {
    let emu = emulator().await;
    let added = add(
        &emu,
        json!([
            {"id": "ali", "match": {"vendor": "aliyun", "operation": "UpdateImage"}, "trigger": {"first": 2}, "action": {"kind": "error", "code": "DeniedRequest"}},
            {"id": "jd", "match": {"vendor": "jd", "operation": "collection_list"}, "action": {"kind": "error", "code": "11010"}},
            {"id": "hw", "match": {"vendor": "huawei"}, "action": {"kind": "error", "code": "IMG.0061"}},
            {"id": "ar", "match": {"vendor": "aries"}, "action": {"kind": "error", "code": "InternalError"}}
        ]),
    )
    .await;
    assert_eq!(added.status, 201, "{}", added.text);
    assert_eq!(added.json().as_array().unwrap().len(), 4);
    // Alibaba: DeniedRequest twice, then the real handler.
    let ali = AliClient::dev(&emu);
    let update = [
        ("ProductId", "2092061_1"),
        ("PicName", "namexxx.jpg"),
        ("IntAttr", "5"),
    ];
    for _ in 0..2 {
        let got = ali.on_demo("UpdateImage", &update).await;
        common::aliyun::assert_error(&got, 403, "DeniedRequest");
    }
    ok(&ali.on_demo("UpdateImage", &update).await);
    // JD: an 11010 envelope, HTTP 200, no result.
    let got = JdClient::dev(&emu).get("collection_list", None).await;
    assert_eq!(got.status, 200);
    common::jd::assert_system(&got, "11010");
    // Huawei: the IMS body with status 500.
    let got = Got::from(
        reqwest::Client::new()
            .get(format!("{}/v2/cloudimages", emu.url()))
            .header("X-Auth-Token", "imgemu-dev-token")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(got.status, 500);
    assert_eq!(
        got.json(),
        json!({"error": {"code": "IMG.0061", "message": "Unknown system error."}})
    );
    // Aries: InternalError 500 in its shape.
    Aries::new(&emu)
        .describe(1)
        .await
        .assert_aries_error(500, "InternalError");
    // Counters and the journal.
    let listed: Value = reqwest::get(format!("{}/_imgemu/faults", emu.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ali_rule = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "ali")
        .unwrap();
    assert_eq!(
        (ali_rule["matched"].as_u64(), ali_rule["fired"].as_u64()),
        (Some(3), Some(2))
    );
    let faulted = emu.journal().entries(&Query::vendor("aliyun").fault(true));
    assert_eq!(faulted.len(), 2);
    assert_eq!(
        faulted[0]
            .fault
            .as_ref()
            .map(|f| (f.rule.as_str(), f.action.as_str())),
        Some(("ali", "error"))
    );
    let journal: Value = reqwest::get(format!("{}/_imgemu/journal?fault=true", emu.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(journal["count"], 5);
}

#[tokio::test]
async fn invalid_rules_are_refused_whole() {
    let emu = emulator().await;
    for (rule, needle) in [
        (
            json!({"match": {"vendor": "gcp"}, "action": {"kind": "reset"}}),
            "aliyun",
        ),
        (
            json!({"match": {"vendor": "aliyun", "operation": "Fly"}, "action": {"kind": "reset"}}),
            "UpdateImage",
        ),
        (
            json!({"match": {"vendor": "aliyun"}, "action": {"kind": "error", "code": "Nope"}}),
            "DeniedRequest",
        ),
        (
            json!({"action": {"kind": "error", "code": "DeniedRequest"}}),
            "vendor",
        ),
        (
            json!({"trigger": {"probability": 2}, "action": {"kind": "reset"}}),
            "probability",
        ),
        (json!({"action": {"kind": "explode"}}), "kind"),
    ] {
        let got = add(&emu, json!([{"action": {"kind": "close"}}, rule])).await;
        assert_eq!(got.status, 400, "{}", got.text);
        assert!(
            got.json()["error"].as_str().unwrap().contains(needle),
            "{needle}: {}",
            got.text
        );
    }
    let listed: Value = reqwest::get(format!("{}/_imgemu/faults", emu.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!([]), "nothing stored");
    let got = add(&emu, aries_rule(json!({"kind": "close"}))).await;
    let id = got.json()[0]["id"].as_str().unwrap().to_string();
    let http = reqwest::Client::new();
    assert_eq!(
        http.delete(format!("{}/_imgemu/faults/{id}", emu.url()))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        http.delete(format!("{}/_imgemu/faults/{id}", emu.url()))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    // Reset clears rules too.
    add(&emu, aries_rule(json!({"kind": "close"}))).await;
    http.post(format!("{}/_imgemu/reset?fixtures=true", emu.url()))
        .send()
        .await
        .unwrap();
    assert!(emu.faults().list().is_empty());
}

// ------------------------------------------------------------------ connection-level actions

#[tokio::test]
async fn reset_close_empty_garbage_and_truncate_as_a_client_sees_them() {
    let emu = emulator().await;
    add(&emu, aries_rule(json!({"kind": "reset"}))).await;
    let (bytes, error) = raw_describe(&emu).await;
    assert!(bytes.is_empty());
    assert_eq!(error, Some(std::io::ErrorKind::ConnectionReset), "an RST");
    emu.faults().clear();

    for kind in ["close", "empty"] {
        add(&emu, aries_rule(json!({"kind": kind}))).await;
        let (bytes, error) = raw_describe(&emu).await;
        assert!(
            bytes.is_empty() && error.is_none(),
            "{kind}: a clean FIN without a byte"
        );
        emu.faults().clear();
    }

    add(&emu, aries_rule(json!({"kind": "garbage", "bytes": 200}))).await;
    let (bytes, _) = raw_describe(&emu).await;
    assert_eq!(bytes.len(), 200);
    assert!(!bytes.starts_with(b"HTTP/1.1"));
    emu.faults().clear();

    add(
        &emu,
        aries_rule(json!({"kind": "truncate", "fraction": 0.5})),
    )
    .await;
    let (bytes, _) = raw_describe(&emu).await;
    let text = String::from_utf8_lossy(&bytes).to_string();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    let head_end = text.find("\r\n\r\n").unwrap() + 4;
    let declared: usize = text
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap();
    assert!(
        bytes.len() - head_end < declared,
        "fewer body bytes than Content-Length"
    );
    // reqwest reports the incomplete body as an error.
    let got = reqwest::Client::new()
        .get(format!("{}/aries/api/v1/image/1", emu.url()))
        .bearer_auth("imgemu-dev-token")
        .send()
        .await
        .unwrap()
        .text()
        .await;
    assert!(got.is_err());
    // The server stays healthy.
    assert_eq!(
        reqwest::get(format!("{}/_imgemu/health", emu.url()))
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn dribble_and_latency_take_at_least_their_duration() {
    let emu = emulator().await;
    add(
        &emu,
        aries_rule(json!({"kind": "dribble", "chunks": 4, "over": "400ms"})),
    )
    .await;
    let started = Instant::now();
    let body = Aries::new(&emu).describe(1).await;
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert_eq!(
        body.json()["name"],
        "CentOS-7.9-x64",
        "the body arrives whole"
    );
    emu.faults().clear();
    add(
        &emu,
        json!({"match": {"vendor": "aries"}, "action": {"kind": "latency", "fixed": "300ms"}}),
    )
    .await;
    let started = Instant::now();
    assert_eq!(Aries::new(&emu).describe(1).await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    emu.faults().clear();
    // A latency beside another action delays it.
    add(&emu, json!({"match": {"vendor": "aries"}, "action": {"kind": "error", "code": "ImageNotFound"}, "latency": {"uniform": ["200ms", "250ms"]}})).await;
    let started = Instant::now();
    Aries::new(&emu)
        .describe(1)
        .await
        .assert_aries_error(404, "ImageNotFound");
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn hang_ends_when_the_client_gives_up_and_the_server_stays_healthy() {
    let emu = emulator().await;
    add(&emu, aries_rule(json!({"kind": "hang", "max": "2s"}))).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let got = client
        .get(format!("{}/aries/api/v1/image/1", emu.url()))
        .bearer_auth("imgemu-dev-token")
        .send()
        .await;
    assert!(got.unwrap_err().is_timeout());
    assert_eq!(
        reqwest::get(format!("{}/_imgemu/health", emu.url()))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        Aries::new(&emu)
            .call(Method::GET, "/aries/api/v1/image/list", None)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn apply_after_runs_the_handler_then_loses_the_response() {
    let emu = emulator().await;
    add(&emu, json!({"match": {"vendor": "aries", "operation": "UpdateImage"}, "trigger": {"times": 1}, "action": {"kind": "reset", "apply": "after"}})).await;
    let got = reqwest::Client::new()
        .put(format!("{}/aries/api/v1/image", emu.url()))
        .bearer_auth("imgemu-dev-token")
        .body(r#"{"id":1,"description":"did it happen?"}"#)
        .send()
        .await;
    assert!(got.is_err(), "the client sees no response");
    assert_eq!(
        Aries::new(&emu).describe(1).await.json()["description"],
        "did it happen?",
        "but the write happened"
    );
    // Before (the default): the handler does not run.
    add(&emu, json!({"match": {"vendor": "aries", "operation": "UpdateImage"}, "trigger": {"times": 1}, "action": {"kind": "close"}})).await;
    let got = reqwest::Client::new()
        .put(format!("{}/aries/api/v1/image", emu.url()))
        .bearer_auth("imgemu-dev-token")
        .body(r#"{"id":1,"description":"never"}"#)
        .send()
        .await;
    assert!(got.is_err());
    assert_eq!(
        Aries::new(&emu).describe(1).await.json()["description"],
        "did it happen?"
    );
    let entries = emu
        .journal()
        .entries(&Query::vendor("aries").operation("UpdateImage"));
    assert_eq!(
        entries.iter().map(|e| e.status).collect::<Vec<_>>(),
        [200, 0]
    );
}

// ------------------------------------------------------------------ lifecycle

#[tokio::test]
async fn task_fail_and_task_stuck_shape_the_created_task() {
    let emu = Emulator::builder()
        .auth_mode(AuthMode::Lenient)
        .manual_clock()
        .start()
        .await
        .unwrap();
    let jd = JdClient::dev(&emu);
    emu.faults()
        .add(
            FaultRule::new()
                .vendor("jd")
                .operation("index")
                .times(1)
                .action(imgemu::faults::Action::TaskFail {
                    message: Some("BACKEND_DOWN".into()),
                }),
        )
        .unwrap();
    let doc = json!({"collection_name": "food", "docs": [{"image_name": "F", "image_content": b64(&ramp())}]});
    let id = result(&jd.post("index", &doc).await)["task_id"]
        .as_str()
        .unwrap()
        .to_string();
    result(&jd.task(&id).await);
    let done = result(&jd.task(&id).await);
    assert_eq!(
        done["failed_list"],
        json!([{"image_name": "F", "message": "BACKEND_DOWN"}])
    );
    emu.faults()
        .add(
            FaultRule::new()
                .vendor("jd")
                .operation("index")
                .times(1)
                .action(imgemu::faults::Action::TaskStuck),
        )
        .unwrap();
    let doc = json!({"collection_name": "food", "docs": [{"image_name": "S", "image_content": b64(&ramp())}]});
    let id = result(&jd.post("index", &doc).await)["task_id"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..5 {
        assert_eq!(result(&jd.task(&id).await)["task_status"], "PROCESSING");
    }
    let encoded = id.replace('/', "%2F");
    let forced = reqwest::Client::new()
        .post(format!("{}/_imgemu/tasks/{encoded}/finish", emu.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(forced.status(), 200);
    assert_eq!(result(&jd.task(&id).await)["succeeded_list"], json!(["S"]));
    // Huawei: a file import fails with IMG.0057 and kills its image.
    add(&emu, json!({"match": {"vendor": "huawei", "operation": "CreateImage"}, "action": {"kind": "task_fail"}})).await;
    let http = reqwest::Client::new();
    let created: Value = http
        .post(format!("{}/v2/cloudimages/action", emu.url()))
        .header("X-Auth-Token", "imgemu-dev-token")
        .body(r#"{"name":"doomed","image_url":"bucket:d.qcow2","min_disk":40}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let job_id = created["job_id"].as_str().unwrap();
    let read = || async {
        http.get(format!("{}/v1/cloudimages/job/{job_id}", emu.url()))
            .header("X-Auth-Token", "imgemu-dev-token")
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    read().await;
    let job = read().await;
    assert_eq!(
        (job["status"].as_str(), job["error_code"].as_str()),
        (Some("FAIL"), Some("IMG.0057"))
    );
}

// ------------------------------------------------------------------ reproducibility

async fn fault_sequence(seed: u64) -> Vec<bool> {
    let emu = Emulator::builder().seed(seed).start().await.unwrap();
    emu.faults()
        .add_json(&json!({"id": "flaky", "match": {"vendor": "aries", "operation": "DescribeImage"}, "trigger": {"probability": 0.5}, "action": {"kind": "error", "code": "InternalError"}}))
        .unwrap();
    let aries = Aries::new(&emu);
    let mut seq = Vec::new();
    for i in 0..40 {
        // Unrelated traffic in between must not change which describes fault.
        if i % 3 == 0 {
            aries
                .call(Method::GET, "/aries/api/v1/image/list", None)
                .await;
            reqwest::get(format!("{}/_imgemu/health", emu.url()))
                .await
                .unwrap();
        }
        seq.push(aries.describe(1).await.status == 500);
    }
    seq
}

#[tokio::test]
async fn a_seeded_probability_rule_faults_the_same_requests_every_run() {
    let first = fault_sequence(7).await;
    assert_eq!(first, fault_sequence(7).await);
    assert!(
        first.iter().any(|f| *f) && first.iter().any(|f| !*f),
        "{first:?}"
    );
    assert_ne!(
        first,
        fault_sequence(8).await,
        "another seed, another sequence"
    );
}

#[tokio::test]
async fn raw_http_faults_and_header_or_parameter_matching() {
    let emu = emulator().await;
    add(
        &emu,
        json!([
            {"id": "hdr", "match": {"vendor": "aries", "header": {"name": "x-chaos", "value": "on"}},
             "action": {"kind": "http", "status": 503, "headers": {"retry-after": "1"}, "body": "try later"}},
            {"id": "prm", "match": {"vendor": "aries", "param": {"name": "os_type", "value": "windows"}},
             "action": {"kind": "error", "code": "InvalidParameter", "status": 422}}
        ]),
    )
    .await;
    let http = reqwest::Client::new();
    let got = Got::from(
        http.get(format!("{}/aries/api/v1/image/1", emu.url()))
            .bearer_auth("imgemu-dev-token")
            .header("X-Chaos", "on")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (got.status, got.text.as_str(), got.header("retry-after")),
        (503, "try later", Some("1"))
    );
    assert!(
        got.header("x-request-id").is_some(),
        "faulted responses carry the request id too"
    );
    // Without the header, the same request is served.
    assert_eq!(Aries::new(&emu).describe(1).await.status, 200);
    // A query parameter match, with the status overridden.
    let got = Aries::new(&emu).list("?os_type=windows").await;
    assert_eq!(got.status, 422);
    assert_eq!(got.json()["code"], "InvalidParameter");
    assert_eq!(Aries::new(&emu).list("?os_type=linux").await.status, 200);
    // A 401 is never hidden by a fault.
    let got = Aries::new(&emu)
        .raw(
            Method::GET,
            "/aries/api/v1/image/list?os_type=windows",
            None,
            None,
        )
        .await;
    got.assert_aries_error(401, "Unauthorized");
}

#[tokio::test]
async fn task_stuck_holds_even_an_immediate_task() {
    let emu = Emulator::builder()
        .manual_clock()
        .transition(imgemu::TransitionPolicy::Immediate)
        .fault(
            FaultRule::new()
                .vendor("jd")
                .operation("index")
                .action(imgemu::faults::Action::TaskStuck),
        )
        .start()
        .await
        .unwrap();
    let jd = JdClient::dev(&emu);
    let doc = json!({"collection_name": "food", "docs": [{"image_name": "H", "image_content": b64(&ramp())}]});
    let id = result(&jd.post("index", &doc).await)["task_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(result(&jd.task(&id).await)["task_status"], "PROCESSING");
}

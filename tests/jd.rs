//! JD Cloud NeuHub image search over real HTTP, every request signed with JDCLOUD2-HMAC-SHA256:
//! both families, every error row of shared/spec/jd.md, the task lifecycle, quotas on a manual
//! clock, strict-mode auth and tenant isolation.

mod common;

use std::time::Duration;

use common::jd::{
    assert_business, assert_system, b64, checker, jd_date, png, ramp, result, JdClient,
};
use common::Got;
use imgemu::{AuthMode, Emulator, TransitionPolicy};
use serde_json::{json, Value};

const MILK_INFO: &str = r#"{"Ingredients":"wheat flour, milkfat, edible salt", "price":"12.0"}"#;

async fn emulator(mode: AuthMode) -> Emulator {
    Emulator::builder()
        .auth_mode(mode)
        .manual_clock()
        .start()
        .await
        .unwrap()
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v["image_name"].as_str().unwrap().to_string())
        })
        .collect()
}

fn is_request_id(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
}

// ------------------------------------------------------------------ envelope and image_update

#[tokio::test]
async fn image_update_reproduces_the_seed_example() {
    let emu = emulator(AuthMode::Strict).await;
    let jd = JdClient::dev(&emu);
    let got = jd
        .post(
            "image_update",
            &json!({"collection_name": "food", "docs": [
                {"image_name": "Milk_salt_soda_v1", "info": MILK_INFO},
                {"image_name": "Egg", "info": "{\"price\":\"2.0\"}"}]}),
        )
        .await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(
        got.header("content-type"),
        Some("application/json;charset=UTF-8")
    );
    assert!(is_request_id(got.header("x-jdcloud-request-id").unwrap()));
    assert_eq!(
        got.json(),
        json!({"code": "10000", "charge": false, "remainTimes": 4999, "remainSeconds": -1, "msg": "查询成功",
               "result": {"status_code": 0, "message": "SUCCESS",
                          "succeeded_list": [{"image_name": "Milk_salt_soda_v1", "info": MILK_INFO}],
                          "failed_list": [{"image_name": "Egg", "message": "NO_RELATIVE_IMAGE"}]}})
    );
    // The envelope keeps the documented member order.
    assert!(got.text.starts_with(r#"{"code":"10000","charge":false,"remainTimes":4999,"remainSeconds":-1,"msg":"查询成功","result":"#));
    let fetched = result(&jd.post("image_fetch", &json!({"collection_name": "food", "image_names": ["Milk_salt_soda_v1", "Rice_cracker_v1"]})).await);
    assert_eq!(
        fetched["succeeded_list"],
        json!([{"image_name": "Milk_salt_soda_v1", "info": MILK_INFO}, {"image_name": "Rice_cracker_v1", "info": ""}])
    );
    let next = jd.post("image_update", &json!({"collection_name": "food", "docs": [{"image_name": "Green_tea_v2", "info": "x"}]})).await;
    assert_eq!(next.json()["remainTimes"], 4997);
}

#[tokio::test]
async fn image_update_rows() {
    let emu = emulator(AuthMode::Lenient).await;
    let jd = JdClient::dev(&emu);
    let long = "i".repeat(301);
    let doc = |name: Value, info: Value| json!({"image_name": name, "info": info});
    let cases: Vec<(Value, u32, &str)> = vec![
        (
            json!({"docs": [doc(json!("a"), json!("x"))]}),
            2010,
            "INVALID_COLLECTION_NAME",
        ),
        (
            json!({"collection_name": "a/b", "docs": [doc(json!("a"), json!("x"))]}),
            2010,
            "INVALID_COLLECTION_NAME",
        ),
        (
            json!({"collection_name": "x".repeat(51), "docs": [doc(json!("a"), json!("x"))]}),
            2010,
            "INVALID_COLLECTION_NAME",
        ),
        (json!({"collection_name": "food"}), 2008, "INVALID_DOCS"),
        (
            json!({"collection_name": "food", "docs": []}),
            2008,
            "INVALID_DOCS",
        ),
        (
            json!({"collection_name": "food", "docs": {}}),
            2008,
            "INVALID_DOCS",
        ),
        (
            json!({"collection_name": "food", "docs": ["a"]}),
            2008,
            "INVALID_DOCS",
        ),
        (
            json!({"collection_name": "food", "docs": vec![doc(json!("a"), json!("x")); 201]}),
            2014,
            "PARAMS_LENGTH_EXCEEDS_LIMIT",
        ),
        (
            json!({"collection_name": "food", "docs": [doc(json!(""), json!("x"))]}),
            2012,
            "INVALID_IMAGE_NAME",
        ),
        (
            json!({"collection_name": "food", "docs": [doc(json!(5), json!("x"))]}),
            2012,
            "INVALID_IMAGE_NAME",
        ),
        (
            json!({"collection_name": "food", "docs": [doc(json!("n".repeat(51)), json!("x"))]}),
            2012,
            "INVALID_IMAGE_NAME",
        ),
        (
            json!({"collection_name": "food", "docs": [doc(json!("a"), json!("x")), doc(json!("a"), json!("y"))]}),
            1033,
            "REPEAT_IMAGE_NAME_IN_PARAM",
        ),
        (
            json!({"collection_name": "drinks", "docs": [doc(json!("a"), json!("x"))]}),
            1030,
            "NO_RELATIVE_COLLECTION",
        ),
    ];
    for (body, code, name) in cases {
        assert_business(&jd.post("image_update", &body).await, code, name);
    }
    let got = result(
        &jd.post(
            "image_update",
            &json!({"collection_name": "food", "docs": [
                {"image_name": "Milk_salt_soda_v1"}, doc(json!("Green_tea_v2"), Value::Null),
                doc(json!("Rice_cracker_v1"), json!(5)), doc(json!("Egg"), json!(long)),
                doc(json!("Egg2"), json!("ok"))]}),
        )
        .await,
    );
    assert_eq!(got["succeeded_list"], json!([]));
    let messages: Vec<&str> = got["failed_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        [
            "INVALID_IMAGE_INFO",
            "INVALID_IMAGE_INFO",
            "INVALID_IMAGE_INFO",
            "INVALID_IMAGE_INFO",
            "NO_RELATIVE_IMAGE"
        ]
    );
    // 300 characters (CJK counts one) is fine.
    let ok = result(&jd.post("image_update", &json!({"collection_name": "food", "docs": [doc(json!("Rice_cracker_v1"), json!("米".repeat(300)))]})).await);
    assert_eq!(ok["succeeded_list"][0]["image_name"], "Rice_cracker_v1");
}

// ------------------------------------------------------------------ index and tasks

#[tokio::test]
async fn index_then_task_goes_processing_then_finished() {
    let emu = emulator(AuthMode::Strict).await;
    let jd = JdClient::dev(&emu);
    let tiny = png(100, 100, |x, _| x as u8);
    let got = jd
        .post(
            "index",
            &json!({"collection_name": "food", "docs": [
                {"image_name": "Ramp", "image_content": b64(&ramp()), "info": "{\"price\":\"1\"}"},
                {"image_name": "Tiny", "image_content": b64(&tiny)},
                {"image_name": "Text", "image_content": "aGVsbG8gd29ybGQ="},
                {"image_name": "Web", "image_content": "https://img.example.com/a.jpg"},
                {"image_name": "Broken", "image_content": "!!!not base64"},
                {"image_name": "Nothing"},
                {"image_name": "Ftp", "image_content": "ftp://x/y.png"},
                {"image_name": "LongInfo", "image_content": b64(&ramp()), "info": "i".repeat(301)},
                {"image_name": "Green_tea_v2", "image_content": b64(&ramp())}]}),
        )
        .await;
    let r = result(&got);
    assert_eq!(r["status_code"], 0);
    assert_eq!(r["task_id"], "11219894642824/food/1767225600.000000");
    assert_eq!(
        r["failed_list"],
        json!([{"image_name": "Broken", "message": "BROKEN_BASE64_OR_URL"},
               {"image_name": "Nothing", "message": "BROKEN_BASE64_OR_URL"},
               {"image_name": "Ftp", "message": "BROKEN_BASE64_OR_URL"},
               {"image_name": "LongInfo", "message": "INVALID_IMAGE_INFO"},
               {"image_name": "Green_tea_v2", "message": "REPEAT_IMAGE_NAME_IN_DB"}])
    );
    let task_id = r["task_id"].as_str().unwrap().to_string();

    // First read: PROCESSING, everything pending and invisible, names reserved.
    let first = result(&jd.task(&task_id).await);
    assert_eq!(first["task_status"], "PROCESSING");
    assert_eq!(
        names(&first["pending_list"]),
        ["Ramp", "Tiny", "Text", "Web"]
    );
    assert_eq!(
        (
            first["succeeded_list"].clone(),
            first["failed_list"].clone()
        ),
        (json!([]), json!([]))
    );
    let fetched = result(
        &jd.post(
            "image_fetch",
            &json!({"collection_name": "food", "image_names": ["Ramp"]}),
        )
        .await,
    );
    assert_eq!(fetched["failed_list"][0]["message"], "NO_RELATIVE_IMAGE");
    let deleted = result(
        &jd.post(
            "image_delete",
            &json!({"collection_name": "food", "image_names": ["Ramp"]}),
        )
        .await,
    );
    assert_eq!(
        deleted["failed_list"][0]["message"], "NO_RELATIVE_IMAGE",
        "pending images are untouched"
    );
    let again = result(&jd.post("index", &json!({"collection_name": "food", "docs": [{"image_name": "Ramp", "image_content": b64(&checker(32))}]})).await);
    assert_eq!(
        again["failed_list"],
        json!([{"image_name": "Ramp", "message": "REPEAT_IMAGE_NAME_IN_DB"}])
    );

    // Second read: FINISHED with per-image outcomes.
    let second = result(&jd.task(&task_id).await);
    assert_eq!(second["task_status"], "FINISHED");
    assert_eq!(second["succeeded_list"], json!(["Ramp", "Web"]));
    assert_eq!(
        second["failed_list"],
        json!([{"image_name": "Tiny", "message": "IMAGE_TOO_SMALL"}, {"image_name": "Text", "message": "NO_AVAILIABLE_FEATURE"}])
    );
    assert_eq!(second["pending_list"], json!([]));
    // Results are fixed.
    assert_eq!(result(&jd.task(&task_id).await), second);
    let fetched = result(
        &jd.post(
            "image_fetch",
            &json!({"collection_name": "food", "image_names": ["Ramp", "Web"]}),
        )
        .await,
    );
    assert_eq!(
        fetched["succeeded_list"],
        json!([{"image_name": "Ramp", "info": "{\"price\":\"1\"}"}, {"image_name": "Web", "info": ""}])
    );
    let list = result(&jd.get("collection_list", None).await);
    assert_eq!(
        list["collection_list"],
        json!([{"collection_name": "food", "indexed_image_count": 5}])
    );
}

#[tokio::test]
async fn index_rows_and_limits() {
    let emu = emulator(AuthMode::Lenient).await;
    let jd = JdClient::dev(&emu);
    let doc = |name: &str| json!({"image_name": name, "image_content": "https://x.example/a.png"});
    let cases: Vec<(Value, u32, &str)> = vec![
        (
            json!({"collection_name": "", "docs": [doc("a")]}),
            2010,
            "INVALID_COLLECTION_NAME",
        ),
        (
            json!({"collection_name": "a|b", "docs": [doc("a")]}),
            2010,
            "INVALID_COLLECTION_NAME",
        ),
        (
            json!({"collection_name": "new", "docs": []}),
            2008,
            "INVALID_DOCS",
        ),
        (
            json!({"collection_name": "new", "docs": [1]}),
            2008,
            "INVALID_DOCS",
        ),
        (
            json!({"collection_name": "new", "docs": vec![doc("a"); 201]}),
            2014,
            "PARAMS_LENGTH_EXCEEDS_LIMIT",
        ),
        (
            json!({"collection_name": "new", "docs": [{"image_content": "https://x/a"}]}),
            2012,
            "INVALID_IMAGE_NAME",
        ),
        (
            json!({"collection_name": "new", "docs": [doc("a\u{1}")]}),
            2012,
            "INVALID_IMAGE_NAME",
        ),
        (
            json!({"collection_name": "new", "docs": [doc("a"), doc("a")]}),
            1033,
            "REPEAT_IMAGE_NAME_IN_PARAM",
        ),
    ];
    for (body, code, name) in cases {
        assert_business(&jd.post("index", &body).await, code, name);
    }
    assert!(
        result(&jd.get("collection_list", None).await)["collection_list"]
            .as_array()
            .unwrap()
            .len()
            == 1,
        "no collection was created"
    );
    // Three general collections per tenant.
    for c in ["c2", "c3"] {
        assert_eq!(
            result(
                &jd.post("index", &json!({"collection_name": c, "docs": [doc("a")]}))
                    .await
            )["status_code"],
            0
        );
    }
    assert_business(
        &jd.post(
            "index",
            &json!({"collection_name": "c4", "docs": [doc("a")]}),
        )
        .await,
        2013,
        "COLLECTION_COUNT_EXCEEDS_LIMIT",
    );
    // An existing collection takes more, even with nothing accepted (an empty task).
    let r = result(
        &jd.post(
            "index",
            &json!({"collection_name": "c2", "docs": [{"image_name": "b", "image_content": ""}]}),
        )
        .await,
    );
    assert_eq!(r["failed_list"][0]["message"], "BROKEN_BASE64_OR_URL");
    let names_in_order: Vec<String> = result(&jd.get("collection_list", None).await)
        ["collection_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["collection_name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names_in_order, ["food", "c2", "c3"], "creation order");
    // With quotas off, capacity limits are not enforced.
    emu.settings().set_quotas(false);
    assert_eq!(
        result(
            &jd.post(
                "index",
                &json!({"collection_name": "c4", "docs": [doc("a")]})
            )
            .await
        )["status_code"],
        0
    );
}

#[tokio::test]
async fn thirty_thousand_images_per_collection() {
    let emu = emulator(AuthMode::Off).await;
    let images: Vec<Value> = (0..29_999)
        .map(|i| json!({"image_name": format!("i{i}"), "content_url": format!("https://x/{i}")}))
        .collect();
    let doc = json!({"format": "imgemu-state", "version": 1,
        "jd": {"tenants": {"big": {"collections": [{"collection_name": "c", "images": images}]}}}});
    emu.state().replace(&doc).unwrap();
    let jd = JdClient::with_key(&emu, "big", "unused");
    let two = json!({"collection_name": "c", "docs": [
        {"image_name": "n1", "image_content": "https://x/n1"}, {"image_name": "n2", "image_content": "https://x/n2"}]});
    assert_business(
        &jd.post("index", &two).await,
        2014,
        "PARAMS_LENGTH_EXCEEDS_LIMIT",
    );
    let one = json!({"collection_name": "c", "docs": [{"image_name": "n1", "image_content": "https://x/n1"}]});
    assert_eq!(result(&jd.post("index", &one).await)["status_code"], 0);
}

#[tokio::test]
async fn task_rows_and_policies() {
    let emu = Emulator::builder()
        .auth_mode(AuthMode::Lenient)
        .manual_clock()
        .transition(TransitionPolicy::Immediate)
        .start()
        .await
        .unwrap();
    let jd = JdClient::dev(&emu);
    for query in [
        None,
        Some("task_id="),
        Some("task_id=nope"),
        Some("other=1"),
    ] {
        assert_business(&jd.get("task", query).await, 1004, "TASK_NOT_EXIST");
    }
    let doc = json!({"collection_name": "food", "docs": [{"image_name": "R", "image_content": b64(&ramp())}]});
    let id = result(&jd.post("index", &doc).await)["task_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        result(&jd.task(&id).await)["task_status"],
        "FINISHED",
        "immediate"
    );
    // Another tenant cannot read it.
    let other = JdClient::with_key(&emu, "someone-else", "x");
    assert_business(&other.task(&id).await, 1004, "TASK_NOT_EXIST");

    // time:30s: finishes at the tenant's first request at or after creation + 30 s.
    emu.settings()
        .set_transition(TransitionPolicy::Time(Duration::from_secs(30)));
    let doc = json!({"collection_name": "food", "docs": [{"image_name": "S", "image_content": b64(&checker(32))}]});
    let id = result(&jd.post("index", &doc).await)["task_id"]
        .as_str()
        .unwrap()
        .to_string();
    emu.clock().advance(Duration::from_secs(29)).unwrap();
    assert_eq!(result(&jd.task(&id).await)["task_status"], "PROCESSING");
    emu.clock().advance(Duration::from_secs(1)).unwrap();
    let fetched = result(
        &jd.post(
            "image_fetch",
            &json!({"collection_name": "food", "image_names": ["S"]}),
        )
        .await,
    );
    assert_eq!(
        fetched["succeeded_list"][0]["image_name"], "S",
        "the due task finished before the request ran"
    );

    // polls:2
    emu.settings().set_transition(TransitionPolicy::Polls(2));
    let doc = json!({"collection_name": "food", "docs": [{"image_name": "T", "image_content": b64(&checker(64))}]});
    let id = result(&jd.post("index", &doc).await)["task_id"]
        .as_str()
        .unwrap()
        .to_string();
    let statuses: Vec<Value> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(result(&jd.task(&id).await)["task_status"].clone());
        }
        v
    };
    assert_eq!(
        statuses,
        [json!("PROCESSING"), json!("PROCESSING"), json!("FINISHED")]
    );
}

#[tokio::test]
async fn tasks_are_visible_and_forceable_through_the_control_plane() {
    let emu = emulator(AuthMode::Lenient).await;
    let jd = JdClient::dev(&emu);
    let http = reqwest::Client::new();
    let doc = json!({"collection_name": "food", "docs": [
        {"image_name": "A", "image_content": b64(&ramp())}, {"image_name": "B", "image_content": b64(&checker(32))}]});
    let first = result(&jd.post("index", &doc).await)["task_id"]
        .as_str()
        .unwrap()
        .to_string();
    let tasks: Value = http
        .get(format!("{}/_imgemu/tasks", emu.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let task = &tasks.as_array().unwrap()[0];
    assert_eq!(
        (
            task["vendor"].as_str(),
            task["id"].as_str(),
            task["status"].as_str()
        ),
        (Some("jd"), Some(first.as_str()), Some("PROCESSING"))
    );
    assert_eq!(task["tenant"], "imgemu-dev-ak");
    let raw = http
        .post(format!("{}/_imgemu/tasks/{first}/fail", emu.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        raw.status(),
        404,
        "a raw / splits the path: ids are sent percent-encoded"
    );
    // Ids contain '/', which the control plane accepts percent-encoded as one segment.
    let forced = http
        .post(format!(
            "{}/_imgemu/tasks/{}/fail",
            emu.url(),
            urlencode(&first)
        ))
        .body(r#"{"message":"BACKEND_DOWN"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(forced.status(), 200);
    let status = result(&jd.task(&first).await);
    assert_eq!(status["task_status"], "FINISHED");
    assert_eq!(
        status["failed_list"],
        json!([{"image_name": "A", "message": "BACKEND_DOWN"}, {"image_name": "B", "message": "BACKEND_DOWN"}])
    );
    let again = http
        .post(format!(
            "{}/_imgemu/tasks/{}/finish",
            emu.url(),
            urlencode(&first)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 400, "already finished");
    // Default message, and force-finish.
    let doc = json!({"collection_name": "food", "docs": [{"image_name": "C", "image_content": b64(&ramp())}]});
    let second = result(&jd.post("index", &doc).await)["task_id"]
        .as_str()
        .unwrap()
        .to_string();
    let fail = http
        .post(format!(
            "{}/_imgemu/tasks/{}/fail",
            emu.url(),
            urlencode(&second)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(fail.status(), 200);
    assert_eq!(
        result(&jd.task(&second).await)["failed_list"][0]["message"],
        "INTERNAL_SERVER_ERROR"
    );
    let doc = json!({"collection_name": "food", "docs": [{"image_name": "D", "image_content": b64(&ramp())}]});
    let third = result(&jd.post("index", &doc).await)["task_id"]
        .as_str()
        .unwrap()
        .to_string();
    let finish = http
        .post(format!(
            "{}/_imgemu/tasks/{}/finish",
            emu.url(),
            urlencode(&third)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(finish.status(), 200);
    let status = result(&jd.task(&third).await);
    assert_eq!(
        (
            status["task_status"].as_str(),
            status["succeeded_list"].clone()
        ),
        (Some("FINISHED"), json!(["D"]))
    );
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

// ------------------------------------------------------------------ search

#[tokio::test]
async fn index_search_ranks_and_validates() {
    let emu = emulator(AuthMode::Lenient).await;
    let jd = JdClient::dev(&emu);
    let state = emu.state().export();
    let milk = state["jd"]["tenants"]["imgemu-dev-ak"]["collections"][0]["images"][0]["content"]
        .as_str()
        .unwrap()
        .to_string();
    let got = result(
        &jd.post(
            "index_search",
            &json!({"collection_name": "food", "query_content": milk}),
        )
        .await,
    );
    let results = got["search_result"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(
        (
            results[0]["image_name"].as_str(),
            results[0]["similarity"].as_f64()
        ),
        (Some("Milk_salt_soda_v1"), Some(1.0))
    );
    assert_eq!(results[0]["info"], MILK_INFO);
    let scores: Vec<f64> = results
        .iter()
        .map(|r| r["similarity"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    let rice = results
        .iter()
        .find(|r| r["image_name"] == "Rice_cracker_v1")
        .unwrap();
    assert!(rice.get("info").is_none(), "no info key without info");
    let top1 = result(
        &jd.post(
            "index_search",
            &json!({"collection_name": "food", "query_content": milk, "top_k": 1}),
        )
        .await,
    );
    assert_eq!(top1["search_result"].as_array().unwrap().len(), 1);
    // A data: URI prefix and whitespace are dropped before decoding.
    let wrapped = format!("data:image/png;base64,{}\n", milk);
    let got = result(
        &jd.post(
            "index_search",
            &json!({"collection_name": "food", "query_content": wrapped}),
        )
        .await,
    );
    assert_eq!(got["search_result"][0]["similarity"], 1.0);

    let tiny = b64(&png(100, 300, |x, _| x as u8));
    let wide = b64(&png(4097, 201, |x, _| x as u8));
    let cases: Vec<(Value, u32, &str)> = vec![
        (
            json!({"query_content": milk}),
            2010,
            "INVALID_COLLECTION_NAME",
        ),
        (
            json!({"collection_name": "food"}),
            2006,
            "BROKEN_BASE64_OR_URL",
        ),
        (
            json!({"collection_name": "food", "query_content": "%%%"}),
            2006,
            "BROKEN_BASE64_OR_URL",
        ),
        (
            json!({"collection_name": "food", "query_content": milk, "top_k": 0}),
            2001,
            "INVALID_PARAM_TOP_K",
        ),
        (
            json!({"collection_name": "food", "query_content": milk, "top_k": 201}),
            2001,
            "INVALID_PARAM_TOP_K",
        ),
        (
            json!({"collection_name": "food", "query_content": milk, "top_k": 1.5}),
            2001,
            "INVALID_PARAM_TOP_K",
        ),
        (
            json!({"collection_name": "food", "query_content": milk, "top_k": "5"}),
            2001,
            "INVALID_PARAM_TOP_K",
        ),
        (
            json!({"collection_name": "food", "query_content": "aGVsbG8="}),
            2006,
            "BROKEN_BASE64_OR_URL",
        ),
        (
            json!({"collection_name": "food", "query_content": tiny}),
            2005,
            "IMAGE_TOO_SMALL",
        ),
        (
            json!({"collection_name": "food", "query_content": wide}),
            2007,
            "IMAGE_TOO_LARGE",
        ),
        (
            json!({"collection_name": "nothing", "query_content": milk}),
            1030,
            "NO_RELATIVE_COLLECTION",
        ),
    ];
    for (body, code, name) in cases {
        assert_business(&jd.post("index_search", &body).await, code, name);
    }
    // URL queries are accepted and rank by the deterministic fallback.
    let url = result(
        &jd.post(
            "index_search",
            &json!({"collection_name": "food", "query_content": "https://x/q.png", "top_k": 200}),
        )
        .await,
    );
    assert_eq!(url["search_result"].as_array().unwrap().len(), 3);
}

// ------------------------------------------------------------------ delete and fetch

#[tokio::test]
async fn image_delete_and_fetch_rows() {
    let emu = emulator(AuthMode::Lenient).await;
    let jd = JdClient::dev(&emu);
    for op in ["image_delete", "image_fetch"] {
        let cases: Vec<(Value, u32, &str)> = vec![
            (
                json!({"image_names": ["a"]}),
                2010,
                "INVALID_COLLECTION_NAME",
            ),
            (json!({"collection_name": "food"}), 2008, "INVALID_DOCS"),
            (
                json!({"collection_name": "food", "image_names": []}),
                2008,
                "INVALID_DOCS",
            ),
            (
                json!({"collection_name": "food", "image_names": [1]}),
                2008,
                "INVALID_DOCS",
            ),
            (
                json!({"collection_name": "food", "image_names": vec!["a"; 201]}),
                2014,
                "PARAMS_LENGTH_EXCEEDS_LIMIT",
            ),
            (
                json!({"collection_name": "food", "image_names": [""]}),
                2012,
                "INVALID_IMAGE_NAME",
            ),
            (
                json!({"collection_name": "food", "image_names": ["a", "a"]}),
                1033,
                "REPEAT_IMAGE_NAME_IN_PARAM",
            ),
            (
                json!({"collection_name": "drinks", "image_names": ["a"]}),
                1030,
                "NO_RELATIVE_COLLECTION",
            ),
        ];
        for (body, code, name) in cases {
            assert_business(&jd.post(op, &body).await, code, name);
        }
    }
    let got = result(
        &jd.post(
            "image_delete",
            &json!({"collection_name": "food", "image_names": ["Green_tea_v2", "Egg"]}),
        )
        .await,
    );
    assert_eq!(got["succeeded_list"], json!(["Green_tea_v2"]));
    assert_eq!(
        got["failed_list"],
        json!([{"image_name": "Egg", "message": "NO_RELATIVE_IMAGE"}])
    );
    let list = result(&jd.get("collection_list", None).await);
    assert_eq!(list["collection_list"][0]["indexed_image_count"], 2);
    let got = result(
        &jd.post(
            "image_delete",
            &json!({"collection_name": "food", "image_names": ["Green_tea_v2"]}),
        )
        .await,
    );
    assert_eq!(got["failed_list"][0]["message"], "NO_RELATIVE_IMAGE");
}

// ------------------------------------------------------------------ product family

async fn add_images(jd: &JdClient<'_>, items: Value) -> Got {
    jd.post(
        "product_image_add",
        &json!({"collection_name": "shop", "image_list": items}),
    )
    .await
}

#[tokio::test]
async fn create_product_rows() {
    let emu = emulator(AuthMode::Lenient).await;
    let jd = JdClient::dev(&emu);
    let p = |id: Value, name: Value, category: Value| json!({"product_id": id, "product_name": name, "category": category});
    let ok = p(json!("1"), json!("n"), json!("其他"));
    let cases: Vec<(Value, u32, &str)> = vec![
        (
            json!({"collection_name": "a/b", "product_list": [ok]}),
            2010,
            "INVALID_COLLECTION_NAME",
        ),
        (
            json!({"collection_name": "shop"}),
            3000,
            "INVALID_PRODUCT_LIST",
        ),
        (
            json!({"collection_name": "shop", "product_list": ["1"]}),
            3000,
            "INVALID_PRODUCT_LIST",
        ),
        (
            json!({"collection_name": "shop", "product_list": []}),
            3001,
            "PRODUCT_EMPTY",
        ),
        (
            json!({"collection_name": "shop", "product_list": vec![ok.clone(); 201]}),
            3055,
            "PRODUCT_NUM_EXCEED_LIMIT",
        ),
        (
            json!({"collection_name": "shop", "product_list": [p(json!(""), json!("n"), json!("其他"))]}),
            3003,
            "INVALID_PRODUCT_ID",
        ),
        (
            json!({"collection_name": "shop", "product_list": [p(json!("a|b"), json!("n"), json!("其他"))]}),
            3003,
            "INVALID_PRODUCT_ID",
        ),
        (
            json!({"collection_name": "shop", "product_list": [p(json!(-1), json!("n"), json!("其他"))]}),
            3003,
            "INVALID_PRODUCT_ID",
        ),
        (
            json!({"collection_name": "shop", "product_list": [p(json!(1.5), json!("n"), json!("其他"))]}),
            3003,
            "INVALID_PRODUCT_ID",
        ),
        (
            json!({"collection_name": "shop", "product_list": [p(json!("x".repeat(129)), json!("n"), json!("其他"))]}),
            3003,
            "INVALID_PRODUCT_ID",
        ),
        (
            json!({"collection_name": "shop", "product_list": [p(json!("7"), json!("n"), json!("其他")), p(json!(7), json!("m"), json!("鞋靴"))]}),
            3002,
            "DUPLICATE_PRODUCT",
        ),
        (
            json!({"collection_name": "shop", "product_list": [p(json!("1"), json!(""), json!("其他"))]}),
            3004,
            "INVALID_PRODUCT_NAME",
        ),
        (
            json!({"collection_name": "shop", "product_list": [p(json!("1"), json!("n".repeat(257)), json!("其他"))]}),
            3004,
            "INVALID_PRODUCT_NAME",
        ),
        (
            json!({"collection_name": "shop", "product_list": [p(json!("1"), json!("n"), json!("食品"))]}),
            3005,
            "INVALID_PRODUCT_CATEGORY",
        ),
        (
            json!({"collection_name": "other", "product_list": [ok]}),
            2013,
            "COLLECTION_COUNT_EXCEEDS_LIMIT",
        ),
    ];
    for (body, code, name) in cases {
        assert_business(
            &jd.post("product_image_create_product", &body).await,
            code,
            name,
        );
    }
    let got = result(
        &jd.post(
            "product_image_create_product",
            &json!({"collection_name": "shop", "product_list": [
                p(json!(102340325), json!("电视"), json!("其他")), p(json!("65337027695"), json!("dup"), json!("其他"))]}),
        )
        .await,
    );
    assert_eq!(
        got,
        json!({"code": 0, "message": "SUCCESS", "successful_list": ["102340325"],
               "failed_list": [{"message": "EXISTING_PRODUCT", "product_id": "65337027695"}]})
    );
}

#[tokio::test]
async fn product_add_status_and_both_list_forms() {
    let emu = emulator(AuthMode::Strict).await;
    let jd = JdClient::dev(&emu);
    let existing_content = emu.state().export()["jd"]["tenants"]["imgemu-dev-ak"]
        ["product_collection"]["products"][0]["images"][0]["content"]
        .as_str()
        .unwrap()
        .to_string();
    let got = add_images(
        &jd,
        json!([
            {"product_id": "65337027695", "image_id": "new.jpg", "image_content": b64(&checker(16)), "image_info": "front"},
            {"product_id": 65337027695u64, "image_id": "dup.jpg", "image_content": existing_content},
            {"product_id": "65337027696", "image_id": "text.jpg", "image_content": "aGVsbG8="},
            {"product_id": "999", "image_id": "x.jpg"},
            {"product_id": "65337027695", "image_id": "1002039492343.jpg", "image_content": "!!", "image_info": 5}
        ]),
    )
    .await;
    let r = result(&got);
    let task_id = r["task_id"].as_str().unwrap().to_string();
    assert_eq!(task_id, "11219894642824/shop/1767225600.000000");
    assert_eq!(
        r["failed_list"],
        json!([{"image_id": "x.jpg", "message": ["INVALID_IMAGE_CONTENT", "NOT_EXISTING_PRODUCT"]},
               {"image_id": "1002039492343.jpg", "message": ["BROKEN_BASE64_OR_URL", "INVALID_IMAGE_INFO", "REPEAT_IMAGE_NAME_IN_DB"]}])
    );
    let status = |body: Value| {
        let jd = &jd;
        async move { jd.post("product_image_status", &body).await }
    };
    let first = result(&status(json!({"task_id": task_id})).await);
    assert_eq!(first["task_status"], "PROCESSING");
    assert_eq!(
        first["pending_list"],
        json!([
            "11219894642824/shop|65337027695|new.jpg",
            "11219894642824/shop|65337027695|dup.jpg",
            "11219894642824/shop|65337027696|text.jpg"
        ])
    );
    let second = result(&status(json!({"task_id": task_id})).await);
    assert_eq!(
        second,
        json!({"code": 0, "message": "SUCCESS", "task_status": "FINISHED", "pending_list": [],
               "succeeded_list": ["11219894642824/shop|65337027695|new.jpg"],
               "failed_list": [{"image_id": "dup.jpg", "message": "DUPLICATE_IMAGE", "product_id": "65337027695"},
                               {"image_id": "text.jpg", "message": "NO_AVAILABLE_FEATURE", "product_id": "65337027696"}]})
    );
    // The object form, switched at run time.
    emu.settings()
        .apply(&json!({"jd": {"product_status_items": "objects"}}))
        .unwrap();
    let objects = result(&status(json!({"task_id": task_id})).await);
    assert_eq!(
        objects["succeeded_list"],
        json!([{"image_id": "new.jpg", "product_id": "65337027695"}])
    );
    let info = result(
        &jd.post(
            "product_image_info",
            &json!({"collection_name": "shop", "product_id": "65337027695"}),
        )
        .await,
    );
    assert_eq!(
        info["image_list"],
        json!([{"image_id": "1002039492343.jpg", "image_info": "salt soda"}, {"image_id": "1002039492344.jpg", "image_info": ""},
               {"image_id": "new.jpg", "image_info": "front"}])
    );
    for bad in [
        json!({}),
        json!({"task_id": 5}),
        json!({"task_id": "abc"}),
        json!({"task_id": "1/shop/1"}),
    ] {
        assert_business(&status(bad).await, 3021, "INVALID_TASK_ID");
    }
    assert_business(
        &status(json!({"task_id": "1/shop/1.5"})).await,
        1004,
        "TASK_NOT_EXIST",
    );
    // A general task id is not a product task, and vice versa.
    assert_business(&jd.task(&task_id).await, 1004, "TASK_NOT_EXIST");
}

#[tokio::test]
async fn product_add_rows_and_limits() {
    let emu = emulator(AuthMode::Lenient).await;
    let jd = JdClient::dev(&emu);
    let item = |p: Value, d: Value| json!({"product_id": p, "image_id": d, "image_content": "https://x/y.jpg"});
    let cases: Vec<(Value, u32, &str)> = vec![
        (
            json!({"collection_name": "", "image_list": [item(json!("1"), json!("a"))]}),
            2010,
            "INVALID_COLLECTION_NAME",
        ),
        (
            json!({"collection_name": "shop"}),
            3010,
            "INVALID_IMAGE_LIST",
        ),
        (
            json!({"collection_name": "shop", "image_list": "x"}),
            3010,
            "INVALID_IMAGE_LIST",
        ),
        (
            json!({"collection_name": "shop", "image_list": []}),
            3011,
            "EMPTY_IMAGE_LIST",
        ),
        (
            json!({"collection_name": "shop", "image_list": vec![item(json!("1"), json!("a")); 201]}),
            3016,
            "IMAGE_NUM_EXCEED_TOTAL_LIMIT",
        ),
        (
            json!({"collection_name": "shop", "image_list": [item(json!(""), json!("a"))]}),
            3003,
            "INVALID_PRODUCT_ID",
        ),
        (
            json!({"collection_name": "shop", "image_list": [item(json!("1"), json!("a|b"))]}),
            3013,
            "INVALID_IMAGE_ID",
        ),
        (
            json!({"collection_name": "shop", "image_list": [item(json!("1"), json!(3))]}),
            3013,
            "INVALID_IMAGE_ID",
        ),
        (
            json!({"collection_name": "shop", "image_list": [item(json!("1"), json!("a")), item(json!("2"), json!("a"))]}),
            3012,
            "DUPLICATE_IMAGE",
        ),
        (
            json!({"collection_name": "mall", "image_list": [item(json!("1"), json!("a"))]}),
            2013,
            "COLLECTION_COUNT_EXCEEDS_LIMIT",
        ),
        (
            json!({"collection_name": "shop", "image_list": [item(json!("404"), json!("a"))]}),
            3019,
            "NO_VALID_IMAGE",
        ),
    ];
    for (body, code, name) in cases {
        assert_business(&jd.post("product_image_add", &body).await, code, name);
    }
    // 30 images per product, visible + pending + accepted: product 65337027695 has 2.
    let batch: Vec<Value> = (0..28)
        .map(|i| item(json!("65337027695"), json!(format!("p{i}"))))
        .collect();
    assert!(result(&add_images(&jd, json!(batch)).await)["task_id"].is_string());
    assert_business(
        &add_images(&jd, json!([item(json!("65337027695"), json!("one-more"))])).await,
        3017,
        "IMAGE_NUM_EXCEED_PER_PRODUCT_LIMIT",
    );
    // A pending image id is reserved.
    let r = result(
        &add_images(
            &jd,
            json!([
                item(json!("65337027696"), json!("p0")),
                item(json!("65337027696"), json!("fresh"))
            ]),
        )
        .await,
    );
    assert_eq!(
        r["failed_list"],
        json!([{"image_id": "p0", "message": ["REPEAT_IMAGE_NAME_IN_DB"]}])
    );
}

#[tokio::test]
async fn product_search_ranks_filters_and_validates() {
    let emu = emulator(AuthMode::Lenient).await;
    let jd = JdClient::dev(&emu);
    let shop = emu.state().export()["jd"]["tenants"]["imgemu-dev-ak"]["product_collection"].clone();
    let shoe = shop["products"][1]["images"][0]["content"]
        .as_str()
        .unwrap()
        .to_string();
    let got = result(
        &jd.post(
            "product_image_search",
            &json!({"collection_name": "shop", "image_content": shoe}),
        )
        .await,
    );
    let images = got["images"].as_array().unwrap();
    assert_eq!(images.len(), 3);
    assert_eq!(
        images[0],
        json!({"image_id": "1002039492345.jpg", "image_info": "canvas shoe", "info": "canvas shoe",
               "product_id": "65337027696", "product_name": "帆布鞋", "similarity": 1.0})
    );
    assert_eq!(
        got["rectangle"],
        json!([{"bottom": 256.0, "left": 0.0, "right": 256.0, "top": 0.0}])
    );
    let filtered = result(&jd.post("product_image_search", &json!({"collection_name": "shop", "image_content": shoe, "category": "其他", "topk": 1})).await);
    assert_eq!(filtered["images"].as_array().unwrap().len(), 1);
    assert_eq!(filtered["images"][0]["product_id"], "65337027695");
    let url = result(
        &jd.post(
            "product_image_search",
            &json!({"collection_name": "shop", "image_content": "http://x/q.jpg"}),
        )
        .await,
    );
    assert_eq!(
        url["rectangle"],
        json!([{"bottom": 0.0, "left": 0.0, "right": 0.0, "top": 0.0}])
    );
    let tiny = b64(&png(300, 100, |x, _| x as u8));
    let cases: Vec<(Value, u32, &str)> = vec![
        (
            json!({"image_content": shoe}),
            2010,
            "INVALID_COLLECTION_NAME",
        ),
        (
            json!({"collection_name": "shop"}),
            3014,
            "INVALID_IMAGE_CONTENT",
        ),
        (
            json!({"collection_name": "shop", "image_content": "ftp://x"}),
            2006,
            "BROKEN_BASE64_OR_URL",
        ),
        (
            json!({"collection_name": "shop", "image_content": shoe, "category": "食品"}),
            3005,
            "INVALID_PRODUCT_CATEGORY",
        ),
        (
            json!({"collection_name": "shop", "image_content": shoe, "topk": 0}),
            3040,
            "INVALID_SEARCH_TOPK",
        ),
        (
            json!({"collection_name": "shop", "image_content": shoe, "topk": "3"}),
            3040,
            "INVALID_SEARCH_TOPK",
        ),
        (
            json!({"collection_name": "shop", "image_content": shoe, "topk": 201}),
            3041,
            "SEARCH_TOPK_EXCEED_LIMIT",
        ),
        (
            json!({"collection_name": "shop", "image_content": "aGVsbG8="}),
            3054,
            "NOT_SUPPORT_IMAGE",
        ),
        (
            json!({"collection_name": "shop", "image_content": tiny}),
            2005,
            "IMAGE_TOO_SMALL",
        ),
        (
            json!({"collection_name": "mall", "image_content": shoe}),
            1030,
            "NO_RELATIVE_COLLECTION",
        ),
    ];
    for (body, code, name) in cases {
        assert_business(&jd.post("product_image_search", &body).await, code, name);
    }
}

#[tokio::test]
async fn product_info_del_image_and_del_product() {
    let emu = emulator(AuthMode::Lenient).await;
    let jd = JdClient::dev(&emu);
    for (body, code, name) in [
        (json!({"product_id": "1"}), 2010, "INVALID_COLLECTION_NAME"),
        (
            json!({"collection_name": "shop", "product_id": "a|b"}),
            3003,
            "INVALID_PRODUCT_ID",
        ),
        (
            json!({"collection_name": "mall", "product_id": "1"}),
            1030,
            "NO_RELATIVE_COLLECTION",
        ),
        (
            json!({"collection_name": "shop", "product_id": "1"}),
            3007,
            "NOT_EXISTING_PRODUCT",
        ),
    ] {
        assert_business(&jd.post("product_image_info", &body).await, code, name);
    }
    let pair = |p: &str, d: &str| json!({"product_id": p, "image_id": d});
    for (body, code, name) in [
        (
            json!({"collection_name": "shop"}),
            3050,
            "INVALID_IMAGE_ID_LIST",
        ),
        (
            json!({"collection_name": "shop", "image_id_list": vec![pair("1", "a"); 201]}),
            3050,
            "INVALID_IMAGE_ID_LIST",
        ),
        (
            json!({"collection_name": "shop", "image_id_list": []}),
            3051,
            "EMPTY_IMAGE_ID_LIST",
        ),
        (
            json!({"collection_name": "shop", "image_id_list": [{"product_id": "", "image_id": "a"}]}),
            3003,
            "INVALID_PRODUCT_ID",
        ),
        (
            json!({"collection_name": "shop", "image_id_list": [{"product_id": "1"}]}),
            3013,
            "INVALID_IMAGE_ID",
        ),
        (
            json!({"collection_name": "shop", "image_id_list": [pair("1", "a"), pair("1", "a")]}),
            3052,
            "DUPLICATE_IMAGE_ID",
        ),
        (
            json!({"collection_name": "mall", "image_id_list": [pair("1", "a")]}),
            1030,
            "NO_RELATIVE_COLLECTION",
        ),
    ] {
        assert_business(&jd.post("product_image_del_image", &body).await, code, name);
    }
    let got = result(
        &jd.post(
            "product_image_del_image",
            &json!({"collection_name": "shop", "image_id_list": [
                pair("65337027695", "1002039492343.jpg"), pair("65337027695", "nope.jpg"), pair("9", "x.jpg")]}),
        )
        .await,
    );
    assert_eq!(
        got,
        json!({"code": 0, "message": "SUCCESS",
               "successful_list": [{"image_id": "1002039492343.jpg", "product_id": "65337027695"}],
               "failed_list": [{"image_id": "nope.jpg", "message": "NO_RELATIVE_IMAGE", "product_id": "65337027695"},
                               {"image_id": "x.jpg", "message": "NOT_EXISTING_PRODUCT", "product_id": "9"}]})
    );
    for (body, code, name) in [
        (
            json!({"collection_name": "shop"}),
            3000,
            "INVALID_PRODUCT_LIST",
        ),
        (
            json!({"collection_name": "shop", "product_id_list": [{}]}),
            3000,
            "INVALID_PRODUCT_LIST",
        ),
        (
            json!({"collection_name": "shop", "product_id_list": []}),
            3001,
            "PRODUCT_EMPTY",
        ),
        (
            json!({"collection_name": "shop", "product_id_list": vec!["1"; 201]}),
            3055,
            "PRODUCT_NUM_EXCEED_LIMIT",
        ),
        (
            json!({"collection_name": "shop", "product_id_list": [-5]}),
            3003,
            "INVALID_PRODUCT_ID",
        ),
        (
            json!({"collection_name": "shop", "product_id_list": ["1", 1]}),
            3002,
            "DUPLICATE_PRODUCT",
        ),
        (
            json!({"collection_name": "mall", "product_id_list": ["1"]}),
            1030,
            "NO_RELATIVE_COLLECTION",
        ),
    ] {
        assert_business(
            &jd.post("product_image_del_product", &body).await,
            code,
            name,
        );
    }
    // A pending image of a deleted product fails when its task finishes.
    let add = result(&add_images(&jd, json!([{"product_id": "65337027696", "image_id": "late.jpg", "image_content": b64(&checker(8))}])).await);
    let got = result(
        &jd.post(
            "product_image_del_product",
            &json!({"collection_name": "shop", "product_id_list": [65337027696u64, "404"]}),
        )
        .await,
    );
    assert_eq!(got["successful_list"], json!(["65337027696"]));
    assert_eq!(
        got["failed_list"],
        json!([{"message": "NOT_EXISTING_PRODUCT", "product_id": "404"}])
    );
    let task_id = add["task_id"].as_str().unwrap();
    jd.post("product_image_status", &json!({"task_id": task_id}))
        .await;
    let done = result(
        &jd.post("product_image_status", &json!({"task_id": task_id}))
            .await,
    );
    assert_eq!(
        done["failed_list"],
        json!([{"image_id": "late.jpg", "message": "NOT_EXISTING_PRODUCT", "product_id": "65337027696"}])
    );
    assert_business(
        &jd.post(
            "product_image_info",
            &json!({"collection_name": "shop", "product_id": "65337027696"}),
        )
        .await,
        3007,
        "NOT_EXISTING_PRODUCT",
    );
}

// ------------------------------------------------------------------ transport, JSON, routing

#[tokio::test]
async fn routing_size_and_json_errors() {
    let emu = emulator(AuthMode::Lenient).await;
    let jd = JdClient::dev(&emu);
    let http = reqwest::Client::new();
    let got = Got::from(
        http.post(format!("{}/jdai/nothing", emu.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(got.status, 404);
    assert_system(&got, "10003");
    assert_eq!(got.json()["remainTimes"], 5000);
    assert!(is_request_id(got.header("x-jdcloud-request-id").unwrap()));
    let got = Got::from(
        http.get(format!("{}/jdai/image_update", emu.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((got.status, got.header("allow")), (405, Some("POST")));
    assert_system(&got, "10003");
    let got = Got::from(
        http.post(format!("{}/jdai/task", emu.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((got.status, got.header("allow")), (405, Some("GET")));
    // Over 5 MiB: 413 before authentication.
    let big = vec![b'x'; 5 * 1024 * 1024 + 1];
    let got = Got::from(
        http.post(format!("{}/jdai/index", emu.url()))
            .body(big)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(got.status, 413);
    assert_system(&got, "10030");
    // A POST body that is not one JSON object: 5001 in either family (and the call is counted).
    assert_business(
        &jd.post_raw("image_fetch", b"[1,2]").await,
        5001,
        "INVALID_PARAMETER_JSON",
    );
    assert_business(
        &jd.post_raw("product_image_info", b"{not json").await,
        5001,
        "INVALID_PARAMETER_JSON",
    );
    assert_business(
        &jd.post_raw("index", b"").await,
        5001,
        "INVALID_PARAMETER_JSON",
    );
    let got = jd.post_raw("index", b"{} trailing").await;
    assert_business(&got, 5001, "INVALID_PARAMETER_JSON");
    assert_eq!(got.json()["remainTimes"], 4996);
    // Unknown members are ignored; a repeated member: the last wins.
    let got = jd.post_raw("image_fetch", br#"{"collection_name":"x","collection_name":"food","image_names":["Green_tea_v2"],"extra":1}"#).await;
    assert_eq!(
        result(&got)["succeeded_list"][0]["info"],
        "{\"price\":\"8.5\"}"
    );
}

// ------------------------------------------------------------------ authentication

#[tokio::test]
async fn lenient_and_off_auth() {
    let emu = emulator(AuthMode::Lenient).await;
    let jd = JdClient::dev(&emu);
    let http = reqwest::Client::new();
    let url = format!("{}/jdai/collection_list", emu.url());
    let got = Got::from(http.get(&url).send().await.unwrap()).await;
    assert_system(&got, "10047");
    assert_eq!(got.status, 200);
    let got = Got::from(
        http.get(&url)
            .header(
                "Authorization",
                "JDCLOUD2-HMAC-SHA256 Credential=imgemu-dev-ak/2026/x",
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_system(&got, "10047");
    // Registered key, wrong secret: verified and refused.
    let wrong = JdClient::with_key(&emu, "imgemu-dev-ak", "not-the-secret");
    assert_system(&wrong.get("collection_list", None).await, "10047");
    // Unregistered key: accepted unverified, as its own empty tenant.
    let stranger = JdClient::with_key(&emu, "stranger", "whatever");
    assert_eq!(
        result(&stranger.get("collection_list", None).await)["collection_list"],
        json!([])
    );
    // A signed request passes.
    assert_eq!(
        result(&jd.get("collection_list", None).await)["collection_list"][0]["collection_name"],
        "food"
    );
    // Off: the access key names the tenant even with a broken header; no header = "default".
    emu.settings().set_auth_mode(AuthMode::Off);
    let got = Got::from(
        http.get(&url)
            .header(
                "Authorization",
                "JDCLOUD2-HMAC-SHA256 Credential=imgemu-dev-ak/broken",
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(result(&got)["collection_list"][0]["indexed_image_count"], 3);
    let got = Got::from(http.get(&url).send().await.unwrap()).await;
    assert_eq!(result(&got)["collection_list"], json!([]));
}

#[tokio::test]
async fn strict_auth_rows() {
    let emu = emulator(AuthMode::Strict).await;
    let jd = JdClient::dev(&emu);
    let path = "/jdai/collection_list";
    let now = emu.clock().now();
    let date = jd_date(now);
    // Each case: tweak the signed headers, expect a code.
    let send = |headers: http::HeaderMap| {
        let jd = &jd;
        async move { jd.send("GET", path, None, b"", headers).await }
    };
    assert_eq!(
        result(&send(jd.headers("GET", path, None, b"", None)).await)["status_code"],
        0
    );
    let stranger = JdClient::with_key(&emu, "stranger", "whatever");
    assert_system(&stranger.get("collection_list", None).await, "10047");
    let mut h = jd.headers("GET", path, None, b"", None);
    h.remove("x-jdcloud-date");
    assert_system(&send(h).await, "10047");
    let mut h = jd.headers("GET", path, None, b"", None);
    h.insert("x-jdcloud-date", "2026-01-01T00:00:00Z".parse().unwrap());
    assert_system(&send(h).await, "10046");
    let skewed = jd_date(now + time::Duration::seconds(301));
    assert_system(
        &send(jd.headers("GET", path, None, b"", Some(&skewed))).await,
        "10045",
    );
    let within = jd_date(now - time::Duration::seconds(300));
    assert_eq!(
        result(&send(jd.headers("GET", path, None, b"", Some(&within))).await)["status_code"],
        0
    );
    // Credential date must equal the x-jdcloud-date's day.
    let mut h = jd.headers("GET", path, None, b"", None);
    let auth = h["authorization"]
        .to_str()
        .unwrap()
        .replace(&format!("/{}/", &date[..8]), "/20251231/");
    h.insert("authorization", auth.parse().unwrap());
    assert_system(&send(h).await, "10047");
    // The nonce must be signed (and fresh).
    let h = jd.headers("GET", path, None, b"", None);
    assert_eq!(result(&send(h.clone()).await)["status_code"], 0);
    assert_system(&send(h).await, "10047");
    // A content hash that does not match the body.
    let mut h = jd.headers(
        "POST",
        "/jdai/image_fetch",
        None,
        br#"{"collection_name":"food","image_names":["x"]}"#,
        None,
    );
    h.insert("x-jdcloud-content-sha256", "00".repeat(32).parse().unwrap());
    assert_system(
        &jd.send(
            "POST",
            "/jdai/image_fetch",
            None,
            br#"{"collection_name":"food","image_names":["x"]}"#,
            h,
        )
        .await,
        "10047",
    );
    // A changed body breaks the signature.
    let h = jd.headers(
        "POST",
        "/jdai/image_fetch",
        None,
        br#"{"collection_name":"food","image_names":["x"]}"#,
        None,
    );
    assert_system(
        &jd.send(
            "POST",
            "/jdai/image_fetch",
            None,
            br#"{"collection_name":"food","image_names":["y"]}"#,
            h,
        )
        .await,
        "10047",
    );
    // Auth failures are not counted, and show the tenant's current remainTimes.
    let got = JdClient::with_key(&emu, "imgemu-dev-ak", "wrong")
        .get("collection_list", None)
        .await;
    assert_eq!(got.json()["remainTimes"], 4997);
}

// ------------------------------------------------------------------ quotas and tenants

#[tokio::test]
async fn daily_quota_rolls_over_on_the_utc8_day() {
    let emu = emulator(AuthMode::Lenient).await;
    emu.settings().apply(&json!({"jd.daily_quota": 3})).unwrap();
    let jd = JdClient::dev(&emu);
    let mut remain = Vec::new();
    for _ in 0..3 {
        remain.push(jd.get("collection_list", None).await.json()["remainTimes"].clone());
    }
    assert_eq!(remain, [json!(2), json!(1), json!(0)]);
    let refused = jd.get("collection_list", None).await;
    assert_system(&refused, "10040");
    assert_eq!(refused.json()["remainTimes"], 0);
    // 2026-01-01T00:00Z is 08:00 in UTC+8: that day ends at 16:00Z.
    emu.clock()
        .advance(Duration::from_secs(16 * 3600 - 1))
        .unwrap();
    assert_system(&jd.get("collection_list", None).await, "10040");
    emu.clock().advance(Duration::from_secs(1)).unwrap();
    assert_eq!(
        jd.get("collection_list", None).await.json()["remainTimes"],
        2
    );
    // Another tenant has its own counter.
    let other = JdClient::with_key(&emu, "other", "x");
    assert_eq!(
        other.get("collection_list", None).await.json()["remainTimes"],
        2
    );
    // Quotas off: no 10040, remainTimes floors at 0.
    emu.settings().set_quotas(false);
    for _ in 0..4 {
        let got = jd.get("collection_list", None).await;
        assert_eq!(got.json()["code"], "10000");
    }
    assert_eq!(
        jd.get("collection_list", None).await.json()["remainTimes"],
        0
    );
}

#[tokio::test]
async fn qps_limit_per_emulator_second() {
    let emu = emulator(AuthMode::Lenient).await;
    emu.settings()
        .apply(&json!({"jd": {"qps_limit": 2}}))
        .unwrap();
    let jd = JdClient::dev(&emu);
    assert_eq!(
        jd.get("collection_list", None).await.json()["code"],
        "10000"
    );
    assert_eq!(
        jd.get("collection_list", None).await.json()["code"],
        "10000"
    );
    let refused = jd.get("collection_list", None).await;
    assert_system(&refused, "10043");
    assert_eq!(
        refused.json()["remainTimes"],
        4998,
        "a refused call is not counted"
    );
    emu.clock().advance(Duration::from_secs(1)).unwrap();
    assert_eq!(
        jd.get("collection_list", None).await.json()["code"],
        "10000"
    );
    assert!(emu
        .settings()
        .apply(&json!({"jd": {"qps_limit": 0}}))
        .is_err());
    // A refused document changes nothing, not even the switch listed before the bad one.
    let both = json!({"jd": {"daily_quota": 7, "qps_limit": 0}});
    assert!(emu.settings().apply(&both).is_err());
    assert_eq!(emu.settings().view()["jd"]["daily_quota"], 5000);
    assert_eq!(emu.settings().view()["jd"]["qps_limit"], 2);
    emu.settings()
        .apply(&json!({"jd": {"qps_limit": "off"}}))
        .unwrap();
}

#[tokio::test]
async fn another_access_key_sees_nothing() {
    let emu = emulator(AuthMode::Strict).await;
    emu.register_credential(imgemu::credentials::Credential {
        vendor: "jd".into(),
        access_key: Some("second-ak".into()),
        secret_key: Some("second-sk".into()),
        ..Default::default()
    })
    .unwrap();
    let dev = JdClient::dev(&emu);
    let second = JdClient::with_key(&emu, "second-ak", "second-sk");
    assert_eq!(
        result(&second.get("collection_list", None).await)["collection_list"],
        json!([])
    );
    assert_business(
        &second
            .post(
                "image_fetch",
                &json!({"collection_name": "food", "image_names": ["Green_tea_v2"]}),
            )
            .await,
        1030,
        "NO_RELATIVE_COLLECTION",
    );
    assert_business(
        &second
            .post(
                "product_image_info",
                &json!({"collection_name": "shop", "product_id": "65337027695"}),
            )
            .await,
        1030,
        "NO_RELATIVE_COLLECTION",
    );
    let id = result(&dev.post("index", &json!({"collection_name": "food", "docs": [{"image_name": "Z", "image_content": b64(&ramp())}]})).await)["task_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_business(&second.task(&id).await, 1004, "TASK_NOT_EXIST");
    // The same collection name is independent per tenant.
    let r = result(&second.post("index", &json!({"collection_name": "food", "docs": [{"image_name": "Green_tea_v2", "image_content": b64(&ramp())}]})).await);
    assert_eq!(r["failed_list"], json!([]));
    assert!(r["task_id"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{}/food/", imgemu_uid("second-ak"))));
}

fn imgemu_uid(tenant: &str) -> u64 {
    use sha2::Digest;
    let d = sha2::Sha256::digest(tenant.as_bytes());
    u64::from_be_bytes(d[..8].try_into().unwrap()) % 90_000_000_000_000 + 10_000_000_000_000
}

// ------------------------------------------------------------------ state

#[tokio::test]
async fn jd_state_round_trips_with_pending_tasks_and_quota() {
    let emu = emulator(AuthMode::Lenient).await;
    let jd = JdClient::dev(&emu);
    result(&jd.post("index", &json!({"collection_name": "food", "docs": [{"image_name": "P", "image_content": b64(&ramp())}, {"image_name": "U", "image_content": "https://x/u"}]})).await);
    let done = result(&jd.post("product_image_add", &json!({"collection_name": "shop", "image_list": [{"product_id": "65337027695", "image_id": "q.jpg", "image_content": b64(&checker(4))}]})).await);
    let pid = done["task_id"].as_str().unwrap();
    jd.post("product_image_status", &json!({"task_id": pid}))
        .await;
    jd.post("product_image_status", &json!({"task_id": pid}))
        .await;
    let exported = emu.state().export();
    let tenant = &exported["jd"]["tenants"]["imgemu-dev-ak"];
    assert_eq!(tenant["quota"], json!({"date": "2026-01-01", "count": 4}));
    assert_eq!(tenant["tasks"][0]["task_status"], "PROCESSING");
    assert_eq!(tenant["tasks"][0]["items"][1]["content_url"], "https://x/u");
    let other = Emulator::builder()
        .fixtures(imgemu::Fixtures::None)
        .manual_clock()
        .start()
        .await
        .unwrap();
    other.state().replace(&exported).unwrap();
    assert_eq!(other.state().export(), exported);
    // The pending task goes on in the other emulator.
    let moved = JdClient::dev(&other);
    let task_id = tenant["tasks"][0]["task_id"].as_str().unwrap();
    assert_eq!(tenant["tasks"][0]["policy"], "polls:1");
    assert_eq!(
        result(&moved.task(task_id).await)["task_status"],
        "PROCESSING"
    );
    assert_eq!(
        result(&moved.task(task_id).await)["task_status"],
        "FINISHED"
    );
    let bad = json!({"format": "imgemu-state", "version": 1, "jd": {"tenants": {"t": {"tasks": [{"task_id": "1/a/1.0", "family": "x",
        "collection_name": "a", "created_at": "2026-01-01T00:00:00.000000Z", "policy": "polls:1", "task_status": "PROCESSING"}]}}}});
    let err = other.state().replace(&bad).unwrap_err();
    assert_eq!(err.path, "$.jd.tenants.t.tasks[0].family");
    // Duplicates are refused at the second occurrence, and nothing changes.
    let image = |name: &str| json!({"image_name": name, "content_url": "https://x/y.png"});
    let twice = json!({"format": "imgemu-state", "version": 1, "jd": {"tenants": {"t": {"collections": [
        {"collection_name": "c", "images": [image("a"), image("b"), image("a")]}]}}}});
    let err = other.state().replace(&twice).unwrap_err();
    assert_eq!(
        err.path,
        "$.jd.tenants.t.collections[0].images[2].image_name"
    );
    assert_eq!(err.message, "duplicate image name");
    let product = |id: &str| json!({"product_id": id, "product_name": "p", "category": "其他"});
    let twice = json!({"format": "imgemu-state", "version": 1, "jd": {"tenants": {"t": {"product_collection":
        {"collection_name": "s", "products": [product("1"), product("2"), product("1")]}}}}});
    let err = other.state().replace(&twice).unwrap_err();
    assert_eq!(
        err.path,
        "$.jd.tenants.t.product_collection.products[2].product_id"
    );
    assert_eq!(err.message, "duplicate product id");
    assert_eq!(other.state().export()["jd"]["tenants"]["t"], Value::Null);
}

// ------------------------------------------------------------------ bounded task table

#[tokio::test]
async fn finished_tasks_beyond_the_limit_are_forgotten_oldest_first_and_pending_ones_never() {
    let emu = emulator(AuthMode::Strict).await;
    emu.settings()
        .apply(&json!({"jd.max_finished_tasks": 2}))
        .unwrap();
    assert_eq!(emu.settings().view()["jd"]["max_finished_tasks"], 2);
    let jd = JdClient::dev(&emu);
    let index = |name: String| json!({"collection_name": "food", "docs": [{"image_name": name, "image_content": b64(&ramp())}]});
    // Four tasks that finish at once, one second apart.
    emu.settings().set_transition(TransitionPolicy::Immediate);
    let mut finished = Vec::new();
    for i in 0..4 {
        let got = jd.post("index", &index(format!("Done{i}"))).await;
        finished.push(result(&got)["task_id"].as_str().unwrap().to_string());
        emu.clock().advance(Duration::from_secs(1)).unwrap();
    }
    // The two oldest are forgotten: the answer for a task that never existed.
    for id in &finished[..2] {
        assert_business(&jd.task(id).await, 1004, "TASK_NOT_EXIST");
    }
    for id in &finished[2..] {
        assert_eq!(result(&jd.task(id).await)["task_status"], "FINISHED");
    }
    // Pending tasks are never forgotten, however many there are.
    emu.settings().set_transition(TransitionPolicy::Polls(5));
    let mut pending = Vec::new();
    for i in 0..3 {
        let got = jd.post("index", &index(format!("Wait{i}"))).await;
        pending.push(result(&got)["task_id"].as_str().unwrap().to_string());
        emu.clock().advance(Duration::from_secs(1)).unwrap();
    }
    // Five tasks, limit two: pending ones neither count nor go, and the finished ones stay.
    for id in &pending {
        assert_eq!(result(&jd.task(id).await)["task_status"], "PROCESSING");
    }
    for id in &finished[2..] {
        assert_eq!(result(&jd.task(id).await)["task_status"], "FINISHED");
    }
    // Their images still arrive: forgetting a task never forgets what it made visible.
    let fetched = result(
        &jd.post(
            "image_fetch",
            &json!({"collection_name": "food", "image_names": ["Done0", "Done3"]}),
        )
        .await,
    );
    assert_eq!(fetched["failed_list"], json!([]));
    assert!(emu
        .settings()
        .apply(&json!({"jd.max_finished_tasks": 0}))
        .is_err());
}

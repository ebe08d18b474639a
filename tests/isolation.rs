//! Tenant isolation in strict auth mode, over real HTTP, for every operation of every vendor.
//!
//! Tenant A holds the default fixtures (plus pending tasks/jobs where the vendor has them); tenant
//! B has valid credentials registered through `POST /_imgemu/credentials`. For each vendor this
//! file proves that B:
//! - reads nothing of A's (lists lack it; describe/show/fetch/search/status/task answer the
//!   vendor's not-found or empty result, never an error that betrays A's data, such as "in use" or
//!   "not active");
//! - cannot change or delete A's data: after every attempt, A's own view is compared with the one
//!   taken before, and B's reads of A's tasks/jobs are not counted as A's status reads;
//! - writes under A's names and ids into its own space, which A in turn cannot see or touch.
//!
//! Each vendor test ends by asking the journal which operations B ran, and requires that to be the
//! vendor's whole `OPERATIONS` list, so a new operation fails here until it is covered. The
//! per-vendor test files keep their smaller isolation smoke tests; this file owns the full matrix.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::aliyun::{assert_error, ok, AliClient};
use common::huawei::{
    assert_gateway, assert_ims, Cred, HwClient, DEV_PROJECT, GOLD_IMAGE, SEED_IMAGE,
};
use common::jd::{assert_business, b64, checker, ramp, result, JdClient};
use common::{emulator, Aries, Got};
use imgemu::{AuthMode, Emulator, TransitionPolicy};
use reqwest::Method;
use serde_json::{json, Value};

// ------------------------------------------------------------------ helpers

/// A control-plane call.
async fn control(emu: &Emulator, method: Method, path: &str, body: Option<Value>) -> Got {
    let mut req = reqwest::Client::new().request(method, format!("{}/_imgemu{path}", emu.url()));
    if let Some(body) = body {
        req = req.body(body.to_string());
    }
    Got::from(req.send().await.expect("sent")).await
}

/// Registers a credential through the control plane.
async fn register(emu: &Emulator, credential: Value) {
    let got = control(emu, Method::POST, "/credentials", Some(credential)).await;
    assert_eq!(got.status, 201, "{}", got.text);
}

/// The operations the journal recorded for `tenant` of `vendor`.
async fn journaled_ops(emu: &Emulator, vendor: &str, tenant: &str) -> BTreeSet<String> {
    let got = control(
        emu,
        Method::GET,
        &format!("/journal?vendor={vendor}&tenant={tenant}"),
        None,
    )
    .await;
    got.json()["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["operation"].as_str().expect("operation").to_string())
        .collect()
}

/// Asserts that B ran every operation the vendor lists.
async fn assert_every_operation_ran(emu: &Emulator, vendor: &str, tenant: &str, ops: &[&str]) {
    let expected: BTreeSet<String> = ops.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        journaled_ops(emu, vendor, tenant).await,
        expected,
        "{vendor}: the second tenant must exercise every operation"
    );
}

/// The control plane's task/job entry `id`.
async fn task_entry(emu: &Emulator, id: &str) -> Value {
    let got = control(emu, Method::GET, "/tasks", None).await;
    got.json()
        .as_array()
        .expect("tasks")
        .iter()
        .find(|t| t["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no task {id} in {}", got.text))
}

// ------------------------------------------------------------------ JD (tenant: the access key)

const JD_FOOD: [&str; 3] = ["Milk_salt_soda_v1", "Green_tea_v2", "Rice_cracker_v1"];

/// Everything A can read of its fixtures.
async fn jd_view(a: &JdClient<'_>) -> Vec<Value> {
    let mut view = vec![result(&a.get("collection_list", None).await)];
    for (op, body) in [
        (
            "image_fetch",
            json!({"collection_name": "food", "image_names": JD_FOOD}),
        ),
        (
            "index_search",
            json!({"collection_name": "food", "query_content": b64(&ramp())}),
        ),
        (
            "product_image_info",
            json!({"collection_name": "shop", "product_id": "65337027695"}),
        ),
        (
            "product_image_info",
            json!({"collection_name": "shop", "product_id": "65337027696"}),
        ),
        (
            "product_image_search",
            json!({"collection_name": "shop", "image_content": b64(&ramp())}),
        ),
    ] {
        view.push(result(&a.post(op, &body).await));
    }
    view
}

fn task_id(got: &Got) -> String {
    result(got)["task_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no task_id: {}", got.text))
        .to_string()
}

#[tokio::test]
async fn jd_second_access_key_sees_and_changes_nothing_of_the_first() {
    let emu = emulator(AuthMode::Strict).await;
    register(
        &emu,
        json!({"vendor": "jd", "access_key": "second-ak", "secret_key": "second-sk"}),
    )
    .await;
    let a = JdClient::dev(&emu);
    let b = JdClient::with_key(&emu, "second-ak", "second-sk");

    // A has, besides the fixtures, one pending task of each family.
    let a_index = task_id(&a.post("index", &json!({"collection_name": "food", "docs": [{"image_name": "A_pending", "image_content": b64(&checker(8))}]})).await);
    let a_add = task_id(&a.post("product_image_add", &json!({"collection_name": "shop", "image_list": [{"product_id": "65337027695", "image_id": "a_pending.jpg", "image_content": b64(&checker(16))}]})).await);
    let before = jd_view(&a).await;
    let a_remain = a.get("collection_list", None).await.json()["remainTimes"].clone();

    // B names A's collections, images, products and tasks: it has none of them.
    assert_eq!(
        result(&b.get("collection_list", None).await)["collection_list"],
        json!([])
    );
    assert_business(&b.task(&a_index).await, 1004, "TASK_NOT_EXIST");
    let all_food = json!([
        "Milk_salt_soda_v1",
        "Green_tea_v2",
        "Rice_cracker_v1",
        "A_pending"
    ]);
    let refused: &[(&str, Value, u32, &str)] = &[
        (
            "index_search",
            json!({"collection_name": "food", "query_content": b64(&ramp())}),
            1030,
            "NO_RELATIVE_COLLECTION",
        ),
        (
            "image_fetch",
            json!({"collection_name": "food", "image_names": all_food}),
            1030,
            "NO_RELATIVE_COLLECTION",
        ),
        (
            "image_update",
            json!({"collection_name": "food", "docs": [{"image_name": "Green_tea_v2", "info": "stolen"}]}),
            1030,
            "NO_RELATIVE_COLLECTION",
        ),
        (
            "image_delete",
            json!({"collection_name": "food", "image_names": all_food}),
            1030,
            "NO_RELATIVE_COLLECTION",
        ),
        (
            "product_image_status",
            json!({"task_id": a_add}),
            1004,
            "TASK_NOT_EXIST",
        ),
        (
            "product_image_search",
            json!({"collection_name": "shop", "image_content": b64(&ramp())}),
            1030,
            "NO_RELATIVE_COLLECTION",
        ),
        (
            "product_image_info",
            json!({"collection_name": "shop", "product_id": "65337027695"}),
            1030,
            "NO_RELATIVE_COLLECTION",
        ),
        (
            "product_image_del_image",
            json!({"collection_name": "shop", "image_id_list": [{"product_id": "65337027695", "image_id": "1002039492343.jpg"}]}),
            1030,
            "NO_RELATIVE_COLLECTION",
        ),
        (
            "product_image_del_product",
            json!({"collection_name": "shop", "product_id_list": ["65337027695", "65337027696"]}),
            1030,
            "NO_RELATIVE_COLLECTION",
        ),
        // add never creates a collection: A's products are unknown to B.
        (
            "product_image_add",
            json!({"collection_name": "shop", "image_list": [{"product_id": "65337027695", "image_id": "b.jpg", "image_content": b64(&ramp())}]}),
            3019,
            "NO_VALID_IMAGE",
        ),
    ];
    for (op, body, code, name) in refused {
        let got = b.post(op, body).await;
        assert_eq!(got.status, 200, "{op}: {}", got.text);
        assert_business(&got, *code, name);
    }

    // B's writes under A's names land in B's own space.
    let indexed = result(
        &b.post(
            "index",
            &json!({"collection_name": "food", "docs": [
        {"image_name": "Green_tea_v2", "image_content": b64(&checker(32)), "info": "b's tea"},
        {"image_name": "A_pending", "image_content": b64(&checker(4))}]}),
        )
        .await,
    );
    assert_eq!(
        indexed["failed_list"],
        json!([]),
        "A's names are free for B"
    );
    let b_index = indexed["task_id"].as_str().unwrap().to_string();
    assert_ne!(
        b_index.split('/').next(),
        a_index.split('/').next(),
        "task ids carry the tenant's uid"
    );
    let created = result(&b.post("product_image_create_product", &json!({"collection_name": "shop",
        "product_list": [{"product_id": "65337027695", "product_name": "b's product", "category": "其他"}]})).await);
    assert_eq!(
        (&created["successful_list"], &created["failed_list"]),
        (&json!(["65337027695"]), &json!([])),
        "A's product id is free for B"
    );
    let b_add = task_id(&b.post("product_image_add", &json!({"collection_name": "shop", "image_list": [
        {"product_id": "65337027695", "image_id": "1002039492343.jpg", "image_content": b64(&checker(64)), "image_info": "b's image"}]})).await);
    // A cannot read B's tasks; B's own reads move them (polls:1).
    assert_business(&a.task(&b_index).await, 1004, "TASK_NOT_EXIST");
    assert_business(
        &a.post("product_image_status", &json!({"task_id": b_add}))
            .await,
        1004,
        "TASK_NOT_EXIST",
    );
    for expected in ["PROCESSING", "FINISHED"] {
        assert_eq!(result(&b.task(&b_index).await)["task_status"], expected);
        let status = result(
            &b.post("product_image_status", &json!({"task_id": b_add}))
                .await,
        );
        assert_eq!(status["task_status"], expected);
    }

    // B's reads now answer from B's data only.
    let lists = result(&b.get("collection_list", None).await);
    assert_eq!(
        lists["collection_list"],
        json!([{"collection_name": "food", "indexed_image_count": 2}])
    );
    let fetched = result(
        &b.post(
            "image_fetch",
            &json!({"collection_name": "food", "image_names": JD_FOOD}),
        )
        .await,
    );
    assert_eq!(
        fetched["succeeded_list"],
        json!([{"image_name": "Green_tea_v2", "info": "b's tea"}])
    );
    assert_eq!(
        fetched["failed_list"],
        json!([{"image_name": "Milk_salt_soda_v1", "message": "NO_RELATIVE_IMAGE"},
               {"image_name": "Rice_cracker_v1", "message": "NO_RELATIVE_IMAGE"}])
    );
    let found = result(
        &b.post(
            "index_search",
            &json!({"collection_name": "food", "query_content": b64(&ramp())}),
        )
        .await,
    );
    let names: BTreeSet<&str> = found["search_result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["image_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, BTreeSet::from(["A_pending", "Green_tea_v2"]));
    assert_eq!(
        result(
            &b.post(
                "product_image_info",
                &json!({"collection_name": "shop", "product_id": "65337027695"}),
            )
            .await
        )["image_list"],
        json!([{"image_id": "1002039492343.jpg", "image_info": "b's image"}])
    );
    assert_business(
        &b.post(
            "product_image_info",
            &json!({"collection_name": "shop", "product_id": "65337027696"}),
        )
        .await,
        3007,
        "NOT_EXISTING_PRODUCT",
    );
    let images = result(
        &b.post(
            "product_image_search",
            &json!({"collection_name": "shop", "image_content": b64(&ramp())}),
        )
        .await,
    )["images"]
        .clone();
    assert_eq!(images.as_array().unwrap().len(), 1, "{images}");
    assert_eq!(
        (&images[0]["image_id"], &images[0]["product_name"]),
        (&json!("1002039492343.jpg"), &json!("b's product"))
    );

    // B's changes of names only A has reach nothing; of its own copies, only its copies.
    let updated = result(&b.post("image_update", &json!({"collection_name": "food", "docs": [
        {"image_name": "Milk_salt_soda_v1", "info": "stolen"}, {"image_name": "Green_tea_v2", "info": "b2"}]})).await);
    assert_eq!(
        updated["failed_list"],
        json!([{"image_name": "Milk_salt_soda_v1", "message": "NO_RELATIVE_IMAGE"}])
    );
    assert_eq!(
        updated["succeeded_list"],
        json!([{"image_name": "Green_tea_v2", "info": "b2"}])
    );
    let deleted = result(
        &b.post(
            "image_delete",
            &json!({"collection_name": "food",
        "image_names": ["Milk_salt_soda_v1", "Rice_cracker_v1", "Green_tea_v2"]}),
        )
        .await,
    );
    assert_eq!(deleted["succeeded_list"], json!(["Green_tea_v2"]));
    assert_eq!(deleted["failed_list"].as_array().unwrap().len(), 2);
    let del_image = result(
        &b.post(
            "product_image_del_image",
            &json!({"collection_name": "shop", "image_id_list": [
        {"product_id": "65337027696", "image_id": "1002039492345.jpg"},
        {"product_id": "65337027695", "image_id": "1002039492344.jpg"},
        {"product_id": "65337027695", "image_id": "1002039492343.jpg"}]}),
        )
        .await,
    );
    assert_eq!(
        del_image["failed_list"],
        json!([{"image_id": "1002039492345.jpg", "message": "NOT_EXISTING_PRODUCT", "product_id": "65337027696"},
               {"image_id": "1002039492344.jpg", "message": "NO_RELATIVE_IMAGE", "product_id": "65337027695"}])
    );
    assert_eq!(
        del_image["successful_list"],
        json!([{"image_id": "1002039492343.jpg", "product_id": "65337027695"}])
    );
    let del_product = result(
        &b.post(
            "product_image_del_product",
            &json!({"collection_name": "shop",
        "product_id_list": ["65337027696", "65337027695"]}),
        )
        .await,
    );
    assert_eq!(
        del_product["failed_list"],
        json!([{"message": "NOT_EXISTING_PRODUCT", "product_id": "65337027696"}])
    );
    assert_eq!(del_product["successful_list"], json!(["65337027695"]));

    // Through A: nothing changed, only A's own calls (its two reads of B's tasks, and this one)
    // were counted on A's quota, and B's reads of A's tasks were not status reads.
    assert_eq!(
        a.get("collection_list", None).await.json()["remainTimes"],
        a_remain.as_u64().unwrap() - 3
    );
    assert_eq!(jd_view(&a).await, before);
    for id in [&a_index, &a_add] {
        let entry = task_entry(&emu, id).await;
        assert_eq!(
            (&entry["tenant"], &entry["reads"], &entry["status"]),
            (&json!("imgemu-dev-ak"), &json!(0), &json!("PROCESSING")),
            "{entry}"
        );
    }
    assert_eq!(result(&a.task(&a_index).await)["task_status"], "PROCESSING");
    let status = result(
        &a.post("product_image_status", &json!({"task_id": a_add}))
            .await,
    );
    assert_eq!(status["task_status"], "PROCESSING");

    assert_every_operation_ran(&emu, "jd", "second-ak", imgemu::vendors::jd::OPERATIONS).await;
}

#[tokio::test]
async fn jd_second_access_key_requests_do_not_finish_the_first_ones_tasks() {
    let emu = emulator(AuthMode::Strict).await;
    emu.settings()
        .set_transition(TransitionPolicy::Time(Duration::from_secs(30)));
    register(
        &emu,
        json!({"vendor": "jd", "access_key": "second-ak", "secret_key": "second-sk"}),
    )
    .await;
    let a = JdClient::dev(&emu);
    let b = JdClient::with_key(&emu, "second-ak", "second-sk");
    let a_index = task_id(&a.post("index", &json!({"collection_name": "food", "docs": [{"image_name": "Later", "image_content": b64(&checker(8))}]})).await);
    emu.clock().advance(Duration::from_secs(30)).unwrap();
    // A `time:` task finishes on its own tenant's next request, not on another tenant's.
    result(&b.get("collection_list", None).await);
    assert_business(&b.task(&a_index).await, 1004, "TASK_NOT_EXIST");
    assert_eq!(task_entry(&emu, &a_index).await["status"], "PROCESSING");
    result(&a.get("collection_list", None).await);
    assert_eq!(task_entry(&emu, &a_index).await["status"], "FINISHED");
}

// ------------------------------------------------------------------ Alibaba (tenant: the access key)

/// Matches every image.
const ALI_ALL: &str = "str_attr != \"never-set\"";

/// A's first fixture image.
const ALI_KEY: [(&str, &str); 2] = [("ProductId", "2092061_1"), ("PicName", "namexxx.jpg")];

/// A's key plus `more` parameters.
fn with_key<'a>(more: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut all = ALI_KEY.to_vec();
    all.extend_from_slice(more);
    all
}

/// Everything A can read of demoinstance1: every image with its attributes, and Detail.
async fn ali_view(a: &AliClient<'_>) -> Vec<Value> {
    let filtered = ok(&a
        .on_demo(
            "SearchImageByFilter",
            &[("Filter", ALI_ALL), ("Num", "100")],
        )
        .await);
    let mut detail = ok(&a.on_demo("Detail", &[]).await);
    detail.as_object_mut().unwrap().remove("RequestId");
    assert_eq!(filtered["Auctions"].as_array().unwrap().len(), 5);
    vec![filtered["Auctions"].clone(), detail]
}

#[tokio::test]
async fn aliyun_second_access_key_sees_and_changes_nothing_of_the_first() {
    let emu = emulator(AuthMode::Strict).await;
    register(
        &emu,
        json!({"vendor": "aliyun", "access_key": "second-ak", "secret_key": "second-sk"}),
    )
    .await;
    let a = AliClient::dev(&emu);
    let b = AliClient::with_key(&emu, "second-ak", "second-sk");
    let before = ali_view(&a).await;
    let pic = b64(&ramp());
    let key = ALI_KEY;

    // Every emulated action on A's instance name: B has no such instance.
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("UpdateImage", with_key(&[("StrAttr", "stolen")])),
        ("AddImage", with_key(&[("PicContent", pic.as_str())])),
        ("DeleteImage", with_key(&[])),
        (
            "DeleteImage",
            vec![("IsDeleteByFilter", "true"), ("Filter", ALI_ALL)],
        ),
        ("CheckImageExists", with_key(&[])),
        ("SearchImageByName", with_key(&[])),
        ("SearchImageByPic", vec![("PicContent", pic.as_str())]),
        ("SearchImageByFilter", vec![("Filter", ALI_ALL)]),
        ("Detail", vec![]),
    ];
    for (action, params) in &cases {
        assert_error(&b.on_demo(action, params).await, 400, "InvalidInstance");
    }
    // The legacy V2 style resolves the tenant the same way.
    let mut v2 = vec![("InstanceName", "demoinstance1")];
    v2.extend_from_slice(&key);
    assert_error(&b.v2("CheckImageExists", &v2).await, 400, "InvalidInstance");
    // Actions that hold no data answer both tenants alike.
    for action in imgemu::vendors::aliyun::OPERATIONS {
        if cases.iter().any(|(a, _)| a == action) || *action == "(unknown)" {
            continue;
        }
        for client in [&a, &b] {
            assert_error(
                &client.on_demo(action, &[]).await,
                500,
                "UnsupportedOperationType",
            );
        }
    }
    assert_error(
        &b.on_demo("AuthorizeFileUpload", &[]).await,
        404,
        "InvalidAction.NotFound",
    );

    // B gets its own instance under the same name: it starts empty.
    let created = control(
        &emu,
        Method::POST,
        "/aliyun/instances",
        Some(json!({"tenant": "second-ak", "name": "demoinstance1"})),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    emu.clock().advance(Duration::from_secs(2)).unwrap();
    assert_eq!(
        ok(&b.on_demo("Detail", &[]).await)["Instance"]["TotalCount"],
        0
    );
    // Flow control is per tenant: B used up its Detail second, A still has its own.
    assert_error(&b.on_demo("Detail", &[]).await, 403, "DeniedRequest");
    assert_eq!(
        ok(&a.on_demo("Detail", &[]).await)["Instance"]["TotalCount"],
        5
    );
    let exists = ok(&b.on_demo("CheckImageExists", &key).await);
    assert_eq!(exists["Exists"], false);
    assert!(exists.get("Auctions").is_none(), "{exists}");
    assert_error(
        &b.on_demo("SearchImageByName", &key).await,
        400,
        "PicNotExist",
    );
    let by_pic = ok(&b.on_demo("SearchImageByPic", &[("PicContent", &pic)]).await);
    assert_eq!(
        (&by_pic["Auctions"], &by_pic["Head"]["DocsReturn"]),
        (&json!([]), &json!(0))
    );
    assert_eq!(
        ok(&b
            .on_demo("SearchImageByFilter", &[("Filter", ALI_ALL)])
            .await)["Auctions"],
        json!([])
    );
    assert_error(
        &b.on_demo("UpdateImage", &with_key(&[("StrAttr", "stolen")]))
            .await,
        400,
        "PicNotExist",
    );
    for params in [
        with_key(&[]),
        vec![("ProductId", "2092061_2")],
        vec![("IsDeleteByFilter", "true"), ("Filter", ALI_ALL)],
    ] {
        assert_eq!(
            ok(&b.on_demo("DeleteImage", &params).await)["Data"]["PicNames"],
            json!([]),
            "{params:?}"
        );
    }

    // B's AddImage under A's key lands in B's instance.
    ok(&b
        .on_demo(
            "AddImage",
            &with_key(&[("PicContent", &pic), ("StrAttr", "b's"), ("IntAttr", "99")]),
        )
        .await);
    let mine = ok(&b.on_demo("CheckImageExists", &key).await)["Auctions"].clone();
    assert_eq!(
        (&mine["StrAttr"], &mine["IntAttr"], &mine["CustomContent"]),
        (&json!("b's"), &json!(99), &json!(""))
    );
    let ranked = ok(&b.on_demo("SearchImageByName", &key).await);
    assert_eq!(ranked["Head"]["DocsReturn"], 1, "{ranked}");
    let listed = ok(&b
        .on_demo("SearchImageByFilter", &[("Filter", ALI_ALL)])
        .await);
    assert_eq!(listed["Auctions"].as_array().unwrap().len(), 1);
    ok(&b
        .on_demo("UpdateImage", &with_key(&[("StrAttr", "b2")]))
        .await);
    assert_eq!(
        ok(&b
            .on_demo(
                "DeleteImage",
                &[("IsDeleteByFilter", "true"), ("Filter", ALI_ALL)]
            )
            .await)["Data"]["PicNames"],
        json!(["namexxx.jpg"])
    );

    // Through A: nothing changed.
    emu.clock().advance(Duration::from_secs(2)).unwrap();
    assert_eq!(ali_view(&a).await, before);

    assert_every_operation_ran(
        &emu,
        "aliyun",
        "second-ak",
        imgemu::vendors::aliyun::OPERATIONS,
    )
    .await;
}

// ------------------------------------------------------------------ Huawei (tenant: the project)

const P2: &str = "11112222333344445555666677778888";
const P3: &str = "99990000aaaabbbbccccddddeeeeffff";

/// A request on A's ids and its answer: method, path, query, body, status, IMS code.
type HwCase<'a> = (&'a str, String, Option<String>, &'a str, u16, &'a str);

fn hw_ids(list: &Value) -> Vec<String> {
    list["images"]
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

fn second_hw<'a>(emu: &'a Emulator, project: &str) -> HwClient<'a> {
    HwClient::new(
        emu,
        Cred::Key {
            ak: "second-ak".into(),
            sk: "second-sk".into(),
            project: Some(project.into()),
        },
    )
}

#[tokio::test]
async fn huawei_second_project_sees_and_changes_nothing_of_the_first() {
    let emu = emulator(AuthMode::Strict).await;
    register(&emu, json!({"vendor": "huawei", "access_key": "second-ak", "secret_key": "second-sk", "project_id": P2})).await;
    register(
        &emu,
        json!({"vendor": "huawei", "token": "second-token", "project_id": P2}),
    )
    .await;
    let a = HwClient::dev(&emu);
    let b = second_hw(&emu, P2);

    // A has the active seed image and a queued image whose job is pending (polls:1).
    let a_job = a
        .create(&json!({"name": "a-queued", "image_url": "bucket:a.qcow2", "min_disk": 40}))
        .await
        .json()["job_id"]
        .as_str()
        .unwrap()
        .to_string();
    let a_queued = hw_ids(&a.list("name=a-queued").await.json())[0].clone();
    let before = a.list("__imagetype=private").await.json();
    assert_eq!(hw_ids(&before).len(), 2);

    // Lists: only the gold images, which every project sees (public, read-only, owned by no
    // tenant); nothing of A, whatever the filter.
    let gold = hw_ids(&a.list("__imagetype=gold").await.json());
    assert_eq!(gold.len(), 4);
    let all = b.list("").await.json();
    assert_eq!(hw_ids(&all), gold);
    for query in [
        "__imagetype=private",
        "visibility=private",
        &format!("owner={DEV_PROJECT}"),
        "name=ims_test",
        "name=a-queued",
        "status=queued",
    ] {
        assert_eq!(
            hw_ids(&b.list(query).await.json()),
            Vec::<String>::new(),
            "{query}"
        );
    }
    for id in [SEED_IMAGE, &a_queued] {
        let got = b.list(&format!("id={id}")).await;
        assert_eq!(got.text, r#"{"images":[]}"#);
    }

    // Every image and job route on A's ids answers not-found, before any check that would betray
    // the image's state (active-only, still being created).
    let rename = json!([{"op": "replace", "path": "/name", "value": "stolen"}]).to_string();
    let seed_upper = SEED_IMAGE.to_ascii_uppercase();
    let cases: Vec<HwCase> = vec![
        (
            "GET",
            format!("/v2/images/{SEED_IMAGE}"),
            None,
            "",
            404,
            "IMG.0144",
        ),
        (
            "GET",
            format!("/v2/images/{seed_upper}"),
            None,
            "",
            404,
            "IMG.0144",
        ),
        (
            "GET",
            format!("/v2/images/{a_queued}"),
            None,
            "",
            404,
            "IMG.0144",
        ),
        (
            "PATCH",
            format!("/v2/cloudimages/{SEED_IMAGE}"),
            None,
            &rename,
            404,
            "IMG.0144",
        ),
        (
            "PATCH",
            format!("/v2/cloudimages/{a_queued}"),
            None,
            &rename,
            404,
            "IMG.0144",
        ),
        (
            "DELETE",
            format!("/v2/images/{SEED_IMAGE}"),
            None,
            "",
            404,
            "IMG.0144",
        ),
        (
            "DELETE",
            format!("/v2/images/{a_queued}"),
            None,
            "",
            404,
            "IMG.0144",
        ),
        (
            "GET",
            "/v2/cloudimages".into(),
            Some(format!("marker={SEED_IMAGE}")),
            "",
            400,
            "IMG.0027",
        ),
        (
            "GET",
            "/v2/cloudimages".into(),
            Some(format!("marker={a_queued}")),
            "",
            400,
            "IMG.0027",
        ),
        (
            "GET",
            format!("/v1/{P2}/jobs/{a_job}"),
            None,
            "",
            404,
            "IMG.0121",
        ),
        (
            "GET",
            format!("/v1/{DEV_PROJECT}/jobs/{a_job}"),
            None,
            "",
            400,
            "IMG.0067",
        ),
        (
            "GET",
            format!("/v1/cloudimages/job/{a_job}"),
            None,
            "",
            404,
            "IMG.0121",
        ),
    ];
    for (method, path, query, body, status, code) in &cases {
        let got = b
            .call(method, path, query.as_deref(), body.as_bytes())
            .await;
        assert_ims(&got, *status, code);
    }
    // Gold images are shared: B sees them and, like A, cannot change or delete them.
    assert_eq!(b.show(GOLD_IMAGE).await.status, 200);
    assert_ims(
        &b.update(
            GOLD_IMAGE,
            &json!([{"op": "replace", "path": "/name", "value": "x"}]),
        )
        .await,
        403,
        "IMG.0083",
    );
    assert_ims(
        &b.call("DELETE", &format!("/v2/images/{GOLD_IMAGE}"), None, b"")
            .await,
        403,
        "IMG.0094",
    );

    // Neither B's key nor A's can act in the other's project.
    for (client, project) in [
        (second_hw(&emu, DEV_PROJECT), DEV_PROJECT),
        (
            HwClient::new(
                &emu,
                Cred::Key {
                    ak: "imgemu-dev-ak".into(),
                    sk: "imgemu-dev-sk".into(),
                    project: Some(P2.into()),
                },
            ),
            P2,
        ),
    ] {
        let msg = assert_gateway(&client.list("").await, 401, "APIGW.0301");
        assert!(
            msg.contains("x-project-id is not a project of this ak"),
            "{project}: {msg}"
        );
    }

    // B's image under A's name lands in B's project.
    let b_job = b
        .create(&json!({"name": "ims_test", "image_url": "bucket:b.qcow2", "min_disk": 40}))
        .await
        .json()["job_id"]
        .as_str()
        .unwrap()
        .to_string();
    let b_private = b.list("__imagetype=private").await.json();
    let b_image = hw_ids(&b_private);
    assert_eq!(b_image.len(), 1);
    assert_eq!(b_private["images"][0]["owner"], P2);
    let b_image = b_image[0].clone();
    // A token of B's project acts there, whatever X-Project-Id it sends.
    let token = HwClient::new(&emu, Cred::Token("second-token".into()));
    let mut h = token.headers("GET", "/v2/cloudimages", Some("__imagetype=private"), b"");
    h.insert("x-project-id", DEV_PROJECT.parse().unwrap());
    let got = token
        .send(
            "GET",
            "/v2/cloudimages",
            Some("__imagetype=private"),
            b"",
            &h,
        )
        .await;
    assert_eq!(hw_ids(&got.json()), vec![b_image.clone()]);
    // A cannot see or touch B's image or job.
    assert_eq!(
        hw_ids(&a.list("name=ims_test").await.json()),
        vec![SEED_IMAGE.to_string()]
    );
    assert_ims(&a.show(&b_image).await, 404, "IMG.0144");
    assert_ims(&a.job(DEV_PROJECT, &b_job).await, 404, "IMG.0121");
    assert_ims(
        &a.call("GET", &format!("/v1/cloudimages/job/{b_job}"), None, b"")
            .await,
        404,
        "IMG.0121",
    );
    // B's reads move B's job; then B changes and deletes its own image.
    assert_eq!(b.job(P2, &b_job).await.json()["status"], "RUNNING");
    let progress = b
        .call("GET", &format!("/v1/cloudimages/job/{b_job}"), None, b"")
        .await;
    assert_eq!(progress.json()["status"], "SUCCESS", "{}", progress.text);
    assert_eq!(b.show(&b_image).await.json()["status"], "active");
    assert_ims(
        &a.update(
            &b_image,
            &json!([{"op": "replace", "path": "/name", "value": "x"}]),
        )
        .await,
        404,
        "IMG.0144",
    );
    assert_ims(
        &a.call("DELETE", &format!("/v2/images/{b_image}"), None, b"")
            .await,
        404,
        "IMG.0144",
    );
    let renamed = b
        .update(
            &b_image,
            &json!([{"op": "replace", "path": "/name", "value": "b-renamed"}]),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    let gone = b
        .call("DELETE", &format!("/v2/images/{b_image}"), None, b"")
        .await;
    assert_eq!(gone.status, 204, "{}", gone.text);

    // Through A: nothing changed, and B's reads of A's image and job were not status reads.
    assert_eq!(a.list("__imagetype=private").await.json(), before);
    let entry = task_entry(&emu, &a_job).await;
    assert_eq!(
        (&entry["tenant"], &entry["reads"], &entry["status"]),
        (&json!(DEV_PROJECT), &json!(0), &json!("INIT")),
        "{entry}"
    );
    assert_eq!(a.job(DEV_PROJECT, &a_job).await.json()["status"], "RUNNING");

    assert_every_operation_ran(&emu, "huawei", P2, imgemu::vendors::huawei::OPERATIONS).await;
}

#[tokio::test]
async fn huawei_projects_of_one_access_key_are_separate_tenants() {
    let emu = emulator(AuthMode::Strict).await;
    // One key (one account) with two projects: each project is its own tenant.
    for project in [P2, P3] {
        register(&emu, json!({"vendor": "huawei", "access_key": "second-ak", "secret_key": "second-sk", "project_id": project})).await;
    }
    let p2 = second_hw(&emu, P2);
    let p3 = second_hw(&emu, P3);
    let job = p2
        .create(&json!({"name": "in-p2", "image_url": "bucket:p2.qcow2", "min_disk": 40}))
        .await
        .json()["job_id"]
        .as_str()
        .unwrap()
        .to_string();
    let image = hw_ids(&p2.list("__imagetype=private").await.json());
    assert_eq!(image.len(), 1);
    assert_eq!(
        hw_ids(&p3.list("__imagetype=private").await.json()),
        Vec::<String>::new()
    );
    assert_ims(&p3.show(&image[0]).await, 404, "IMG.0144");
    assert_ims(&p3.job(P3, &job).await, 404, "IMG.0121");
    assert_ims(&p3.job(P2, &job).await, 400, "IMG.0067");
    assert_eq!(p2.job(P2, &job).await.json()["status"], "RUNNING");
}

// ------------------------------------------------------------------ Aries (tenant: the user)

const BOB: &str = "Bearer tok-bob";

/// Everything A can read: the list and each image.
async fn aries_view(a: &Aries) -> Vec<Value> {
    let mut view = vec![a.list("").await.json()];
    for id in [1, 2, 3] {
        view.push(a.describe(id).await.json());
    }
    view
}

#[tokio::test]
async fn aries_second_user_sees_and_changes_nothing_of_the_first() {
    let emu = emulator(AuthMode::Strict).await;
    register(
        &emu,
        json!({"vendor": "aries", "token": "tok-bob", "user": "bob"}),
    )
    .await;
    let a = Aries::new(&emu);
    let b = |method: Method, path: String, body: Option<Value>| {
        let a = &a;
        async move {
            a.raw(
                method,
                &path,
                Some(BOB),
                body.map(|b| b.to_string()).as_deref(),
            )
            .await
        }
    };
    let before = aries_view(&a).await;
    assert_eq!(before[0].as_array().unwrap().len(), 3);

    for query in ["", "?os_type=linux", "?os_type=windows", "?os_name=cent"] {
        let got = b(
            Method::GET,
            format!("/aries/api/v1/image/list{query}"),
            None,
        )
        .await;
        assert_eq!((got.status, got.text.as_str()), (200, "[]"), "{query}");
    }
    // A's ids and refs answer 404 before any check that would betray the image (its source path,
    // a name taken in A's space, in use).
    let put = || Method::PUT;
    let image = "/aries/api/v1/image".to_string();
    let delete = |r: &str| format!("/aries/api/v1/image/delete?image_ref={r}");
    let cases: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/aries/api/v1/image/1".into(), None),
        (Method::GET, "/aries/api/v1/image/3".into(), None),
        (Method::GET, "/aries/api/v1/image/002".into(), None),
        (
            put(),
            image.clone(),
            Some(json!({"id": 1, "name": "stolen"})),
        ),
        (
            put(),
            image.clone(),
            Some(json!({"id": 1, "source_path": "/elsewhere/x.iso"})),
        ),
        (
            put(),
            image.clone(),
            Some(json!({"id": 2, "name": "CentOS-7.9-x64"})),
        ),
        (Method::DELETE, delete("1"), None),
        (Method::DELETE, delete("3"), None),
        (Method::DELETE, delete("img-2ze4hxw8hdik"), None),
        (Method::DELETE, delete("img-ws2019dc0001"), None),
    ];
    for (method, path, body) in cases {
        b(method, path, body)
            .await
            .assert_aries_error(404, "ImageNotFound");
    }

    // B's image under A's name lands in B's space; A's names are free there.
    let created = b(
        Method::POST,
        "/aries/api/v1/image/create".into(),
        Some(json!({"name": "CentOS-7.9-x64", "os_type": "linux", "os_name": "CentOS", "source_path": "/b/centos.iso"})),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.text);
    let id = created.json()["image"]["id"].as_u64().unwrap();
    let b_ref = created.header("x-imgemu-image-ref").unwrap().to_string();
    let renamed = b(
        put(),
        image.clone(),
        Some(json!({"id": id, "name": "Ubuntu-22.04-x64"})),
    )
    .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    let listed = b(Method::GET, "/aries/api/v1/image/list".into(), None).await;
    assert_eq!(listed.json().as_array().unwrap().len(), 1);
    assert_eq!(listed.json()[0]["id"], id);
    // A cannot see or touch it.
    a.describe(id)
        .await
        .assert_aries_error(404, "ImageNotFound");
    a.update(&json!({"id": id, "name": "mine"}).to_string())
        .await
        .assert_aries_error(404, "ImageNotFound");
    for r in [id.to_string(), b_ref.clone()] {
        a.delete(&r).await.assert_aries_error(404, "ImageNotFound");
    }
    let shown = b(Method::GET, format!("/aries/api/v1/image/{id}"), None).await;
    assert_eq!(shown.json()["name"], "Ubuntu-22.04-x64");
    let deleted = b(Method::DELETE, delete(&b_ref), None).await;
    assert_eq!(deleted.text, r#"{"result":true}"#);

    // Through A: nothing changed.
    assert_eq!(aries_view(&a).await, before);

    assert_every_operation_ran(&emu, "aries", "bob", imgemu::vendors::aries::OPERATIONS).await;
}

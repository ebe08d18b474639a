//! Alibaba Cloud Image Search 2020-12-14 over real HTTP: every action, the per-field errors of
//! UpdateImage in their specified order, the gateway checks, flow control on a manual clock,
//! V3 and legacy signatures per auth mode, instances and tenant isolation.

mod common;

use std::time::Duration;

use common::aliyun::{acs_date, assert_error, form, ok, AliClient, SIGNED};
use common::jd::{b64, checker, png, ramp};
use common::Got;
use imgemu::{AuthMode, Emulator};
use serde_json::{json, Value};

async fn emulator(mode: AuthMode) -> Emulator {
    Emulator::builder()
        .auth_mode(mode)
        .manual_clock()
        .start()
        .await
        .unwrap()
}

fn fixture_content(emu: &Emulator, pic_name: &str) -> String {
    let state = emu.state().export();
    state["aliyun"]["tenants"]["imgemu-dev-ak"]["instances"][0]["Images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["PicName"] == pic_name)
        .unwrap()["PicContent"]
        .as_str()
        .unwrap()
        .to_string()
}

fn names(auctions: &Value) -> Vec<String> {
    auctions
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["PicName"].as_str().unwrap().to_string())
        .collect()
}

// ------------------------------------------------------------------ UpdateImage

#[tokio::test]
async fn update_image_changes_only_what_is_sent_and_reads_back() {
    let emu = emulator(AuthMode::Strict).await;
    let ali = AliClient::dev(&emu);
    let got = ali
        .on_demo(
            "UpdateImage",
            &[
                ("ProductId", "2092061_1"),
                ("PicName", "namexxx.jpg"),
                ("StrAttr", "red"),
                ("IntAttr3", "7"),
                ("CustomContent", ""),
            ],
        )
        .await;
    let body = ok(&got);
    assert_eq!(
        body,
        json!({"Code": 0, "Message": "success", "RequestId": body["RequestId"], "Success": true})
    );
    assert_eq!(
        got.header("content-type"),
        Some("application/json;charset=utf-8")
    );
    let rid = body["RequestId"].as_str().unwrap();
    assert!(
        rid.len() == 36
            && rid
                .chars()
                .all(|c| c == '-' || c.is_ascii_digit() || c.is_ascii_uppercase()),
        "{rid}"
    );
    let check = ok(&ali
        .on_demo(
            "CheckImageExists",
            &[("ProductId", "2092061_1"), ("PicName", "namexxx.jpg")],
        )
        .await);
    assert_eq!(check["Exists"], true);
    assert_eq!(check["Msg"], "success");
    assert_eq!(
        check["Auctions"],
        json!({"ProductId": "2092061_1", "PicName": "namexxx.jpg", "CategoryId": 88888888, "CustomContent": "",
               "IntAttr": 2, "IntAttr2": 20, "IntAttr3": 7, "IntAttr4": 33,
               "StrAttr": "red", "StrAttr2": "test", "StrAttr3": "ss", "StrAttr4": "ss"})
    );
    // No attribute at all is a successful no-op.
    ok(&ali
        .on_demo(
            "UpdateImage",
            &[("ProductId", "2092061_1"), ("PicName", "namexxx.jpg")],
        )
        .await);
    // Parameters may sit in the query (as the SDK sends IntAttr3/4, StrAttr3/4) and values are verbatim.
    let query = form(&[("StrAttr3", "a b+c")]);
    let body = form(&[
        ("InstanceName", "demoinstance1"),
        ("ProductId", "2092061_1"),
        ("PicName", "namexxx.jpg"),
    ]);
    let h = ali.v3_headers("UpdateImage", Some(&query), body.as_bytes());
    ok(&ali.send(Some(&query), body.as_bytes(), &h).await);
    let check = ok(&ali
        .on_demo(
            "CheckImageExists",
            &[("ProductId", "2092061_1"), ("PicName", "namexxx.jpg")],
        )
        .await);
    assert_eq!(check["Auctions"]["StrAttr3"], "a b+c");
}

#[tokio::test]
async fn update_image_errors_in_the_specified_order() {
    let emu = emulator(AuthMode::Strict).await;
    let ali = AliClient::dev(&emu);
    let long = "s".repeat(129);
    let key = [("ProductId", "2092061_1"), ("PicName", "namexxx.jpg")];
    let with = |extra: &[(&'static str, &str)]| {
        let mut p: Vec<(&str, String)> = key.iter().map(|(k, v)| (*k, v.to_string())).collect();
        p.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        p
    };
    let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
        (vec![("PicName", "x".into())], "NoSpecifiedProductId"),
        (
            vec![("ProductId", "".into()), ("PicName", "x".into())],
            "NoSpecifiedProductId",
        ),
        (
            vec![("ProductId", "p".repeat(257)), ("PicName", "x".into())],
            "InvalidProductId",
        ),
        (vec![("ProductId", "p".into())], "NoSpecifiedPicName"),
        (
            vec![("ProductId", "p".into()), ("PicName", "n".repeat(257))],
            "InvalidPicName",
        ),
        (with(&[("StrAttr2", &long)]), "InvalidStrAttr2"),
        (
            with(&[("StrAttr", &long), ("StrAttr2", &long)]),
            "InvalidStrAttr",
        ),
        (with(&[("StrAttr3", &long)]), "InvalidStrAttr3"),
        (
            with(&[("StrAttr4", &long), ("IntAttr", "x")]),
            "InvalidStrAttr4",
        ),
        (with(&[("IntAttr", "1.5")]), "InvalidIntAttr"),
        (with(&[("IntAttr2", "")]), "InvalidIntAttr2"),
        (with(&[("IntAttr3", "2147483648")]), "InvalidIntAttr3"),
        (
            with(&[("IntAttr4", "abc"), ("CustomContent", &"c".repeat(4097))]),
            "InvalidIntAttr4",
        ),
        (
            with(&[("CustomContent", &"c".repeat(4097))]),
            "InvalidCustomContent",
        ),
        (
            vec![
                ("ProductId", "2092061_1".into()),
                ("PicName", "nothing.jpg".into()),
            ],
            "PicNotExist",
        ),
        (
            vec![
                ("ProductId", "nothing".into()),
                ("PicName", "namexxx.jpg".into()),
                ("StrAttr", long.clone()),
            ],
            "InvalidStrAttr",
        ),
    ];
    for (params, code) in cases {
        let mut all = vec![("InstanceName", "demoinstance1".to_string())];
        all.extend(params);
        let pairs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_error(&ali.call("UpdateImage", &pairs).await, 400, code);
    }
    // 128 characters (CJK count one) is fine, and nothing above changed the image.
    ok(&ali
        .on_demo(
            "UpdateImage",
            &[
                ("ProductId", "2092061_1"),
                ("PicName", "namexxx.jpg"),
                ("StrAttr2", &"图".repeat(128)),
            ],
        )
        .await);
    let check = ok(&ali
        .on_demo(
            "CheckImageExists",
            &[("ProductId", "2092061_1"), ("PicName", "namexxx.jpg")],
        )
        .await);
    assert_eq!(check["Auctions"]["StrAttr"], "ss");
    assert_eq!(check["Auctions"]["IntAttr"], 2);
}

// ------------------------------------------------------------------ the front door

#[tokio::test]
async fn gateway_checks() {
    let emu = emulator(AuthMode::Lenient).await;
    let ali = AliClient::dev(&emu);
    assert_error(
        &ali.call("NoSuchAction", &[("InstanceName", "demoinstance1")])
            .await,
        404,
        "InvalidAction.NotFound",
    );
    assert_error(
        &ali.call("AuthorizeFileUpload", &[]).await,
        404,
        "InvalidAction.NotFound",
    );
    assert_error(
        &ali.call("DumpMeta", &[("InstanceName", "demoinstance1")])
            .await,
        500,
        "UnsupportedOperationType",
    );
    assert_error(&ali.call("Detail", &[]).await, 400, "MissingInstanceName");
    assert_error(
        &ali.call("Detail", &[("InstanceName", "nope")]).await,
        400,
        "InvalidInstance",
    );
    assert_error(
        &ali.call("Detail", &[("InstanceName", &"d".repeat(21))])
            .await,
        400,
        "InvalidInstance",
    );
    // Version must be 2020-12-14.
    let body = form(&[("InstanceName", "demoinstance1")]);
    let mut h = ali.v3_headers("Detail", None, body.as_bytes());
    h.insert("x-acs-version", "2017-01-01".parse().unwrap());
    ali.sign_v3(&mut h, None, body.as_bytes(), SIGNED);
    assert_error(
        &ali.send(None, body.as_bytes(), &h).await,
        400,
        "InvalidVersion",
    );
    // Methods other than GET and POST, and unsigned requests.
    let http = reqwest::Client::new();
    let got = Got::from(http.put(format!("{}/", emu.url())).send().await.unwrap()).await;
    assert_error(&got, 404, "InvalidAction.NotFound");
    let got = Got::from(
        http.get(format!(
            "{}/?Action=Detail&Version=2020-12-14&InstanceName=demoinstance1",
            emu.url()
        ))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_error(&got, 400, "IncompleteSignature");
    // A bad percent escape in the form body is a BadRequest before authentication.
    let got = Got::from(
        http.post(format!("{}/", emu.url()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("Action=Detail&InstanceName=%ZZ%FF")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(got.status, 400, "{}", got.text);
    // Over 8 MiB.
    let got = Got::from(
        http.post(format!("{}/", emu.url()))
            .body(vec![b'a'; 8 * 1024 * 1024 + 1])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(&got, 400, "BadRequest");
    // Unavailable instances refuse everything but Detail.
    let created = http
        .post(format!("{}/_imgemu/aliyun/instances", emu.url()))
        .body(r#"{"tenant":"imgemu-dev-ak","name":"sleepy","status":"unavailable"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_error(
        &ali.call(
            "CheckImageExists",
            &[
                ("InstanceName", "sleepy"),
                ("ProductId", "p"),
                ("PicName", "n"),
            ],
        )
        .await,
        409,
        "InstanceStatusError",
    );
    assert_eq!(
        ok(&ali.call("Detail", &[("InstanceName", "sleepy")]).await)["Instance"]["Name"],
        "sleepy"
    );
}

#[tokio::test]
async fn flow_control_slides_on_the_emulator_clock() {
    let emu = emulator(AuthMode::Lenient).await;
    let ali = AliClient::dev(&emu);
    let update = [
        ("ProductId", "2092061_1"),
        ("PicName", "namexxx.jpg"),
        ("IntAttr", "1"),
    ];
    for _ in 0..20 {
        ok(&ali.on_demo("UpdateImage", &update).await);
    }
    assert_error(
        &ali.on_demo("UpdateImage", &update).await,
        403,
        "DeniedRequest",
    );
    // Other actions have their own windows: Detail admits 1 per second.
    ok(&ali.on_demo("Detail", &[]).await);
    assert_error(&ali.on_demo("Detail", &[]).await, 403, "DeniedRequest");
    emu.clock().advance(Duration::from_millis(999)).unwrap();
    assert_error(
        &ali.on_demo("UpdateImage", &update).await,
        403,
        "DeniedRequest",
    );
    emu.clock().advance(Duration::from_millis(1)).unwrap();
    ok(&ali.on_demo("UpdateImage", &update).await);
    // Quotas off: no flow control.
    emu.settings().set_quotas(false);
    for _ in 0..25 {
        ok(&ali.on_demo("Detail", &[]).await);
    }
}

// ------------------------------------------------------------------ AddImage

#[tokio::test]
async fn add_image_stores_and_replaces() {
    let emu = emulator(AuthMode::Lenient).await;
    emu.settings().set_quotas(false);
    let ali = AliClient::dev(&emu);
    let picture = b64(&checker(8));
    let got = ok(&ali
        .on_demo(
            "AddImage",
            &[
                ("ProductId", "p9"),
                ("PicName", "a.png"),
                ("PicContent", &picture),
                ("CategoryId", "4"),
                ("Region", "10,500,20,100"),
                ("StrAttr", "x"),
                ("IntAttr2", "9"),
            ],
        )
        .await);
    assert_eq!(got["Message"], "success");
    assert_eq!(got["PicInfo"]["CategoryId"], 4);
    assert_eq!(got["PicInfo"]["Region"], "10,255,20,100", "clamped to W-1");
    assert_eq!(
        got["PicInfo"]["MultiRegion"],
        json!([{"Region": "10,255,20,100"}])
    );
    assert_eq!(
        got["PicInfo"]["AllCategories"].as_array().unwrap().len(),
        14
    );
    let check = ok(&ali
        .on_demo(
            "CheckImageExists",
            &[("ProductId", "p9"), ("PicName", "a.png")],
        )
        .await);
    assert_eq!(
        (
            check["Auctions"]["StrAttr"].clone(),
            check["Auctions"]["IntAttr2"].clone()
        ),
        (json!("x"), json!(9))
    );
    // The same key replaces the image entirely: omitted attributes reset.
    let got = ok(&ali
        .on_demo(
            "AddImage",
            &[
                ("ProductId", "p9"),
                ("PicName", "a.png"),
                ("PicContent", &picture),
            ],
        )
        .await);
    assert_eq!(got["PicInfo"]["CategoryId"], 88888888);
    assert_eq!(got["PicInfo"]["Region"], "0,255,0,255");
    let check = ok(&ali
        .on_demo(
            "CheckImageExists",
            &[("ProductId", "p9"), ("PicName", "a.png")],
        )
        .await);
    assert_eq!(
        (
            check["Auctions"]["StrAttr"].clone(),
            check["Auctions"]["IntAttr2"].clone()
        ),
        (json!(""), json!(0))
    );
    // A GIF is accepted on its header alone.
    let mut gif = b"GIF89a".to_vec();
    gif.extend_from_slice(&120u16.to_le_bytes());
    gif.extend_from_slice(&130u16.to_le_bytes());
    gif.extend_from_slice(&[0, 0, 0, 0x3B]);
    ok(&ali
        .on_demo(
            "AddImage",
            &[
                ("ProductId", "p9"),
                ("PicName", "b.gif"),
                ("PicContent", &b64(&gif)),
            ],
        )
        .await);
    let detail = ok(&ali.on_demo("Detail", &[]).await);
    assert_eq!(detail["Instance"]["TotalCount"], 7);
}

#[tokio::test]
async fn add_image_errors_in_order() {
    let emu = emulator(AuthMode::Lenient).await;
    emu.settings().set_quotas(false);
    let ali = AliClient::dev(&emu);
    let good = b64(&ramp());
    let small = b64(&png(99, 200, |x, _| x as u8));
    let big = b64(&vec![0u8; 4 * 1024 * 1024 + 1]);
    let text = b64(b"just some text");
    let base = |extra: &[(&'static str, &str)]| -> Vec<(String, String)> {
        let mut p = vec![
            ("ProductId".to_string(), "p".to_string()),
            ("PicName".to_string(), "n.png".to_string()),
        ];
        p.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        p
    };
    let cases: Vec<(Vec<(String, String)>, &str)> = vec![
        (
            vec![
                ("PicName".into(), "n".into()),
                ("PicContent".into(), good.clone()),
            ],
            "NoSpecifiedProductId",
        ),
        (
            vec![
                ("ProductId".into(), "p".into()),
                ("PicContent".into(), good.clone()),
            ],
            "NoSpecifiedPicName",
        ),
        (base(&[]), "NoSpecifiedPicContent"),
        (
            base(&[("PicContent", "https://example.com/a.jpg")]),
            "InvalidPicUrl",
        ),
        (base(&[("PicContent", "@@@@")]), "UnsupportedPicFormat"),
        (base(&[("PicContent", &big)]), "InvalidPicContent"),
        (
            base(&[("PicContent", &good), ("CategoryId", "3000")]),
            "InvalidCategory",
        ),
        (
            base(&[("PicContent", &good), ("CategoryId", "")]),
            "InvalidCategory",
        ),
        (
            base(&[("PicContent", &good), ("Crop", "maybe")]),
            "BadRequest",
        ),
        (
            base(&[("PicContent", &good), ("Region", "5,1,0,10")]),
            "InvalidRegion",
        ),
        (
            base(&[("PicContent", &good), ("Region", "0,10,0")]),
            "InvalidRegion",
        ),
        (
            base(&[("PicContent", &good), ("StrAttr3", &"s".repeat(129))]),
            "InvalidStrAttr3",
        ),
        (
            base(&[("PicContent", &good), ("IntAttr", "x")]),
            "InvalidIntAttr",
        ),
        (
            base(&[("PicContent", &text), ("IntAttr", "x")]),
            "InvalidIntAttr",
        ),
        (base(&[("PicContent", &text)]), "UnsupportedPicFormat"),
        (base(&[("PicContent", &small)]), "UnsupportedPicPixels"),
    ];
    for (params, code) in cases {
        let mut all = vec![("InstanceName".to_string(), "demoinstance1".to_string())];
        all.extend(params);
        let pairs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_error(&ali.call("AddImage", &pairs).await, 400, code);
    }
    // The image limit counts new keys only.
    let http = reqwest::Client::new();
    let created = http
        .post(format!("{}/_imgemu/aliyun/instances", emu.url()))
        .body(r#"{"tenant":"imgemu-dev-ak","name":"tiny","image_limit":1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    emu.settings().set_quotas(true);
    let add = |name: &'static str| {
        let ali = &ali;
        let good = good.clone();
        async move {
            ali.call(
                "AddImage",
                &[
                    ("InstanceName", "tiny"),
                    ("ProductId", "p"),
                    ("PicName", name),
                    ("PicContent", &good),
                ],
            )
            .await
        }
    };
    ok(&add("one.png").await);
    emu.clock().advance(Duration::from_secs(1)).unwrap();
    ok(&add("one.png").await);
    emu.clock().advance(Duration::from_secs(1)).unwrap();
    assert_error(&add("two.png").await, 400, "InstanceOverQuota");
}

// ------------------------------------------------------------------ DeleteImage

#[tokio::test]
async fn delete_image_by_key_product_and_filter() {
    let emu = emulator(AuthMode::Lenient).await;
    let ali = AliClient::dev(&emu);
    let got = ok(&ali
        .on_demo(
            "DeleteImage",
            &[("ProductId", "2092061_1"), ("PicName", "namexxx_2.jpg")],
        )
        .await);
    assert_eq!(got["Data"], json!({"PicNames": ["namexxx_2.jpg"]}));
    let got = ok(&ali
        .on_demo(
            "DeleteImage",
            &[("ProductId", "2092061_1"), ("PicName", "namexxx_2.jpg")],
        )
        .await);
    assert_eq!(
        got["Data"],
        json!({"PicNames": []}),
        "deleting nothing succeeds"
    );
    let got = ok(&ali
        .on_demo(
            "DeleteImage",
            &[
                ("IsDeleteByFilter", "true"),
                ("Filter", "int_attr2=20 OR str_attr=\"red\""),
                ("ProductId", "ignored"),
            ],
        )
        .await);
    assert_eq!(
        got["Data"]["PicNames"],
        json!(["namexxx.jpg", "red_shirt.jpg", "snack.png"])
    );
    let got = ok(&ali
        .on_demo("DeleteImage", &[("ProductId", "2092061_3")])
        .await);
    assert_eq!(got["Data"]["PicNames"], json!(["blue_shoe.png"]));
    assert_eq!(
        ok(&ali.on_demo("Detail", &[]).await)["Instance"]["TotalCount"],
        0
    );
    assert_error(
        &ali.on_demo("DeleteImage", &[("IsDeleteByFilter", "yes")])
            .await,
        400,
        "BadRequest",
    );
    assert_error(
        &ali.on_demo("DeleteImage", &[("IsDeleteByFilter", "True")])
            .await,
        400,
        "InvalidFilterClause",
    );
    assert_error(
        &ali.on_demo(
            "DeleteImage",
            &[("IsDeleteByFilter", "true"), ("Filter", "int_attr >")],
        )
        .await,
        400,
        "InvalidFilterClause",
    );
    assert_error(
        &ali.on_demo("DeleteImage", &[]).await,
        400,
        "NoSpecifiedProductId",
    );
    assert_error(
        &ali.on_demo(
            "DeleteImage",
            &[("ProductId", "p"), ("PicName", &"n".repeat(257))],
        )
        .await,
        400,
        "InvalidPicName",
    );
}

// ------------------------------------------------------------------ searches

#[tokio::test]
async fn search_by_name_ranks_pages_and_filters() {
    let emu = emulator(AuthMode::Lenient).await;
    emu.settings().set_quotas(false);
    let ali = AliClient::dev(&emu);
    let key = [("ProductId", "2092061_1"), ("PicName", "namexxx.jpg")];
    let got = ok(&ali.on_demo("SearchImageByName", &key).await);
    assert_eq!(got["Msg"], "success");
    let auctions = got["Auctions"].as_array().unwrap();
    assert_eq!(auctions.len(), 5);
    assert_eq!(
        (
            auctions[0]["PicName"].as_str(),
            auctions[0]["Score"].as_f64()
        ),
        (Some("namexxx.jpg"), Some(1.0))
    );
    assert_eq!(auctions[0]["SortExprValues"], "1.0;0");
    assert_eq!(
        auctions[1]["PicName"], "namexxx_2.jpg",
        "the nearly identical picture ranks second"
    );
    let scores: Vec<f64> = auctions
        .iter()
        .map(|a| a["Score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    assert!(scores[1] < 1.0 && scores[1] > 0.5);
    assert_eq!(got["Head"]["DocsFound"], 5);
    assert_eq!(got["Head"]["DocsReturn"], 5);
    assert_eq!(got["PicInfo"]["Region"], "0,127,0,127");
    assert_eq!(got["PicInfo"]["CategoryId"], 88888888);
    // Paging.
    let page = ok(&ali
        .on_demo(
            "SearchImageByName",
            &[key[0], key[1], ("Num", "2"), ("Start", "1")],
        )
        .await);
    assert_eq!(names(&page["Auctions"]).len(), 2);
    assert_eq!(page["Auctions"][0]["PicName"], "namexxx_2.jpg");
    assert_eq!(
        (
            page["Head"]["DocsFound"].clone(),
            page["Head"]["DocsReturn"].clone()
        ),
        (json!(2), json!(5))
    );
    // Distinct products keep their best picture only.
    let distinct = ok(&ali
        .on_demo(
            "SearchImageByName",
            &[key[0], key[1], ("DistinctProductId", "true")],
        )
        .await);
    assert_eq!(distinct["Head"]["DocsReturn"], 4);
    // A threshold, a filter and a category (ServiceType 0).
    let strict = ok(&ali
        .on_demo(
            "SearchImageByName",
            &[key[0], key[1], ("ScoreThreshold", "0.99")],
        )
        .await);
    assert_eq!(names(&strict["Auctions"]), ["namexxx.jpg"]);
    let filtered = ok(&ali
        .on_demo(
            "SearchImageByName",
            &[
                key[0],
                key[1],
                ("Filter", "int_attr3 IN (1, 33) AND str_attr2 != \"test\""),
            ],
        )
        .await);
    assert_eq!(
        names(&filtered["Auctions"]),
        ["snack.png", "blue_shoe.png"],
        "by score: the diagonal ramp is nearer"
    );
    let shoes = ok(&ali
        .on_demo("SearchImageByName", &[key[0], key[1], ("CategoryId", "4")])
        .await);
    assert_eq!(names(&shoes["Auctions"]), ["blue_shoe.png"]);
    assert_eq!(shoes["PicInfo"]["CategoryId"], 4);
    for (extra, code) in [
        (("Num", "x"), "InvalidNumParameter"),
        (("Num", "0"), "OverflowMaxReturnNum"),
        (("Num", "101"), "OverflowMaxReturnNum"),
        (("Start", "500"), "InvalidStartParameter"),
        (("Start", "-1"), "InvalidStartParameter"),
        (("ScoreThreshold", "1.5"), "BadRequest"),
        (("ScoreThreshold", "0.123"), "BadRequest"),
        (("DistinctProductId", "1"), "BadRequest"),
        (("Filter", "str_attr > \"a\""), "InvalidFilterClause"),
        (("CategoryId", "77"), "InvalidCategory"),
    ] {
        assert_error(
            &ali.on_demo("SearchImageByName", &[key[0], key[1], extra])
                .await,
            400,
            code,
        );
    }
    assert_error(
        &ali.on_demo(
            "SearchImageByName",
            &[key[0], key[1], ("Start", "450"), ("Num", "51")],
        )
        .await,
        400,
        "OverflowMaxResultNum",
    );
    assert_error(
        &ali.on_demo("SearchImageByName", &[("ProductId", "x"), ("PicName", "y")])
            .await,
        400,
        "PicNotExist",
    );
}

#[tokio::test]
async fn search_by_pic_and_by_filter() {
    let emu = emulator(AuthMode::Lenient).await;
    emu.settings().set_quotas(false);
    let ali = AliClient::dev(&emu);
    let shoe = fixture_content(&emu, "blue_shoe.png");
    let got = ok(&ali
        .on_demo("SearchImageByPic", &[("PicContent", &shoe), ("Num", "3")])
        .await);
    assert_eq!(got["Auctions"][0]["PicName"], "blue_shoe.png");
    assert_eq!(got["Auctions"][0]["Score"], 1.0);
    assert_eq!(got["Head"]["DocsFound"], 3);
    assert_eq!(got["PicInfo"]["Region"], "0,127,0,127");
    assert_eq!(
        ok(&ali.on_demo("Detail", &[]).await)["Instance"]["TotalCount"],
        5,
        "nothing stored"
    );
    assert_error(
        &ali.on_demo("SearchImageByPic", &[]).await,
        400,
        "NoSpecifiedSearchPic",
    );
    assert_error(
        &ali.on_demo("SearchImageByPic", &[("PicContent", "http://x/y.jpg")])
            .await,
        400,
        "InvalidPicUrl",
    );
    assert_error(
        &ali.on_demo("SearchImageByPic", &[("PicContent", &shoe), ("Num", "0")])
            .await,
        400,
        "OverflowMaxReturnNum",
    );
    let filtered = ok(&ali
        .on_demo("SearchImageByFilter", &[("Filter", "intAttr2>=20")])
        .await);
    assert_eq!(
        names(&filtered["Auctions"]),
        ["namexxx.jpg", "blue_shoe.png", "snack.png"]
    );
    assert!(filtered.get("Head").is_none() && filtered["Auctions"][0].get("Score").is_none());
    let page = ok(&ali
        .on_demo(
            "SearchImageByFilter",
            &[("Filter", "int_attr2>=20"), ("Start", "1"), ("Num", "1")],
        )
        .await);
    assert_eq!(names(&page["Auctions"]), ["blue_shoe.png"]);
    assert_error(
        &ali.on_demo("SearchImageByFilter", &[]).await,
        400,
        "InvalidFilterClause",
    );
    assert_error(
        &ali.on_demo("SearchImageByFilter", &[("Filter", "int_attr = \"1\"")])
            .await,
        400,
        "InvalidFilterClause",
    );
}

#[tokio::test]
async fn detail_and_check_image_exists() {
    let emu = emulator(AuthMode::Lenient).await;
    let ali = AliClient::dev(&emu);
    let detail = ok(&ali.on_demo("Detail", &[]).await);
    assert_eq!(
        detail["Instance"],
        json!({"Name": "demoinstance1", "Region": "ap-southeast-1", "ServiceType": 0, "Capacity": 10, "Qps": 10,
               "TotalCount": 5, "UtcCreate": "1767225600000", "UtcExpireTime": "1798761600000"})
    );
    assert!(detail.get("Code").is_none());
    let missing = ok(&ali
        .on_demo("CheckImageExists", &[("ProductId", "x"), ("PicName", "y")])
        .await);
    assert_eq!(missing["Exists"], false);
    assert!(missing.get("Auctions").is_none());
    assert_error(
        &ali.on_demo("CheckImageExists", &[("ProductId", "x")]).await,
        400,
        "NoSpecifiedPicName",
    );
}

// ------------------------------------------------------------------ authentication

#[tokio::test]
async fn lenient_auth_and_legacy_signatures() {
    let emu = emulator(AuthMode::Lenient).await;
    let ali = AliClient::dev(&emu);
    // Legacy V2 with the dev key.
    let got = ali.v2("Detail", &[("InstanceName", "demoinstance1")]).await;
    assert_eq!(ok(&got)["Instance"]["Name"], "demoinstance1");
    // Wrong secret, V3 and V2.
    let wrong = AliClient::with_key(&emu, "imgemu-dev-ak", "nope");
    assert_error(
        &wrong.on_demo("Detail", &[]).await,
        400,
        "SignatureDoesNotMatch",
    );
    let got = wrong
        .v2("Detail", &[("InstanceName", "demoinstance1")])
        .await;
    assert_error(&got, 400, "SignatureDoesNotMatch");
    let message = got.json()["Message"].as_str().unwrap().to_string();
    assert!(message.starts_with("Specified signature is not matched with our calculation. server string to sign is:POST&%2F&"), "{message}");
    // An unregistered key is accepted unverified, as its own tenant.
    let stranger = AliClient::with_key(&emu, "stranger", "whatever");
    assert_error(
        &stranger.on_demo("Detail", &[]).await,
        400,
        "InvalidInstance",
    );
    assert!(
        emu.state().export()["aliyun"]["tenants"]
            .get("stranger")
            .is_none(),
        "a lookup creates no tenant"
    );
    // Another algorithm.
    let body = form(&[("InstanceName", "demoinstance1")]);
    let mut h = ali.v3_headers("Detail", None, body.as_bytes());
    let auth = h["authorization"]
        .to_str()
        .unwrap()
        .replace("ACS3-HMAC-SHA256", "ACS3-HMAC-SM3");
    h.insert("authorization", auth.parse().unwrap());
    assert_error(
        &ali.send(None, body.as_bytes(), &h).await,
        400,
        "InvalidSignatureMethod",
    );
    // A body that does not match x-acs-content-sha256.
    let h = ali.v3_headers("Detail", None, body.as_bytes());
    assert_error(
        &ali.send(None, b"InstanceName=other", &h).await,
        400,
        "SignatureDoesNotMatch",
    );
}

#[tokio::test]
async fn strict_auth_rows() {
    let emu = emulator(AuthMode::Strict).await;
    let ali = AliClient::dev(&emu);
    let body = form(&[("InstanceName", "demoinstance1")]);
    let send = |h: http::HeaderMap| {
        let ali = &ali;
        let body = body.clone();
        async move { ali.send(None, body.as_bytes(), &h).await }
    };
    assert_error(
        &AliClient::with_key(&emu, "stranger", "x")
            .on_demo("Detail", &[])
            .await,
        404,
        "InvalidAccessKeyId.NotFound",
    );
    // Every required header must be signed.
    let mut h = ali.v3_headers("Detail", None, body.as_bytes());
    ali.sign_v3(
        &mut h,
        None,
        body.as_bytes(),
        "content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-version",
    );
    assert_error(&send(h).await, 400, "IncompleteSignature");
    // Timestamps: format, then the 900-second window.
    let mut h = ali.v3_headers("Detail", None, body.as_bytes());
    h.insert("x-acs-date", "2026/01/01 00:00:00".parse().unwrap());
    ali.sign_v3(&mut h, None, body.as_bytes(), SIGNED);
    assert_error(&send(h).await, 400, "InvalidTimeStamp.Format");
    let mut h = ali.v3_headers("Detail", None, body.as_bytes());
    let late = acs_date(emu.clock().now() + time::Duration::seconds(901));
    h.insert("x-acs-date", late.parse().unwrap());
    ali.sign_v3(&mut h, None, body.as_bytes(), SIGNED);
    assert_error(&send(h).await, 400, "InvalidTimeStamp.Expired");
    // Replay of a nonce.
    let h = ali.v3_headers("Detail", None, body.as_bytes());
    ok(&send(h.clone()).await);
    emu.clock().advance(Duration::from_secs(2)).unwrap();
    assert_error(&send(h).await, 400, "SignatureNonceUsed");
    // V2 in strict mode works, and its nonce is remembered too.
    emu.clock().advance(Duration::from_secs(2)).unwrap();
    ok(&ali.v2("Detail", &[("InstanceName", "demoinstance1")]).await);
}

#[tokio::test]
async fn tenants_and_instances() {
    let emu = emulator(AuthMode::Strict).await;
    emu.register_credential(imgemu::credentials::Credential {
        vendor: "aliyun".into(),
        access_key: Some("second".into()),
        secret_key: Some("second-sk".into()),
        ..Default::default()
    })
    .unwrap();
    let second = AliClient::with_key(&emu, "second", "second-sk");
    assert_error(&second.on_demo("Detail", &[]).await, 400, "InvalidInstance");
    let http = reqwest::Client::new();
    let url = format!("{}/_imgemu/aliyun/instances", emu.url());
    let created: Value = http
        .post(&url)
        .body(r#"{"tenant":"second","name":"demoinstance1","service_type":1,"capacity":1,"qps":5}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["Name"], "demoinstance1");
    assert_eq!(created["ImageLimit"], 10000);
    assert_eq!(created["UtcCreate"], 1767225600000i64);
    let detail = ok(&second.on_demo("Detail", &[]).await);
    assert_eq!(
        (
            detail["Instance"]["TotalCount"].clone(),
            detail["Instance"]["ServiceType"].clone()
        ),
        (json!(0), json!(1))
    );
    // ServiceType 1: any int32 category becomes 88888888 and AllCategories is "Other" only.
    let added = ok(&second
        .on_demo(
            "AddImage",
            &[
                ("ProductId", "p"),
                ("PicName", "n"),
                ("PicContent", &b64(&ramp())),
                ("CategoryId", "3000"),
            ],
        )
        .await);
    assert_eq!(added["PicInfo"]["CategoryId"], 88888888);
    assert_eq!(
        added["PicInfo"]["AllCategories"],
        json!([{"Id": 88888888, "Name": "Other"}])
    );
    for bad in [
        r#"{"tenant":"second","name":"demoinstance1"}"#,
        r#"{"tenant":"second","name":"this-name-is-far-too-long"}"#,
        r#"{"tenant":"second","name":"x","status":"sleeping"}"#,
        r#"{"tenant":"second","name":"x","qps":0}"#,
        r#"{"name":"x"}"#,
        r#"{"tenant":"second","name":"x","colour":"red"}"#,
    ] {
        let got = http.post(&url).body(bad).send().await.unwrap();
        assert_eq!(got.status(), 400, "{bad}");
    }
}

#[tokio::test]
async fn aliyun_state_round_trips() {
    let emu = emulator(AuthMode::Lenient).await;
    emu.settings().set_quotas(false);
    let ali = AliClient::dev(&emu);
    ok(&ali
        .on_demo(
            "AddImage",
            &[
                ("ProductId", "z"),
                ("PicName", "z.png"),
                ("PicContent", &b64(&checker(32))),
                ("StrAttr4", "four"),
            ],
        )
        .await);
    let exported = emu.state().export();
    let instance = &exported["aliyun"]["tenants"]["imgemu-dev-ak"]["instances"][0];
    assert_eq!(instance["Images"].as_array().unwrap().len(), 6);
    assert_eq!(instance["ImageLimit"], 100000);
    let other = Emulator::builder()
        .fixtures(imgemu::Fixtures::None)
        .start()
        .await
        .unwrap();
    other.state().replace(&exported).unwrap();
    assert_eq!(other.state().export(), exported);
    let mut bad = exported.clone();
    bad["aliyun"]["tenants"]["imgemu-dev-ak"]["instances"][0]["Images"][0]["PicContent"] =
        json!("bm90IGFuIGltYWdl");
    let err = other.state().replace(&bad).unwrap_err();
    assert_eq!(
        err.path,
        "$.aliyun.tenants.imgemu-dev-ak.instances[0].Images[0].PicContent"
    );
}

#[tokio::test]
async fn awkward_values_survive_both_signature_styles() {
    let emu = emulator(AuthMode::Strict).await;
    emu.settings().set_quotas(false);
    let ali = AliClient::dev(&emu);
    let awkward = "a b*c~d/é+=&中";
    let read = || async {
        ok(&ali
            .on_demo(
                "CheckImageExists",
                &[("ProductId", "2092061_1"), ("PicName", "namexxx.jpg")],
            )
            .await)["Auctions"]
            .clone()
    };
    // V3: one value in the form body, one in the query (as tea-openapi places StrAttr3).
    let query = form(&[("StrAttr3", awkward)]);
    let body = form(&[
        ("InstanceName", "demoinstance1"),
        ("ProductId", "2092061_1"),
        ("PicName", "namexxx.jpg"),
        ("StrAttr", awkward),
    ]);
    let h = ali.v3_headers("UpdateImage", Some(&query), body.as_bytes());
    ok(&ali.send(Some(&query), body.as_bytes(), &h).await);
    let auctions = read().await;
    assert_eq!(
        (auctions["StrAttr"].as_str(), auctions["StrAttr3"].as_str()),
        (Some(awkward), Some(awkward))
    );
    // V2 with the parameters in the form body.
    ok(&ali
        .v2(
            "UpdateImage",
            &[
                ("InstanceName", "demoinstance1"),
                ("ProductId", "2092061_1"),
                ("PicName", "namexxx.jpg"),
                ("StrAttr2", awkward),
            ],
        )
        .await);
    assert_eq!(read().await["StrAttr2"], awkward);
    // V2 the legacy way: everything in the query, spaces as %20, on a POST with no body.
    let mut params: Vec<(String, String)> = [
        ("Action", "UpdateImage"),
        ("Version", "2020-12-14"),
        ("Format", "JSON"),
        ("RegionId", "ap-southeast-1"),
        ("SignatureType", ""),
        ("AccessKeyId", "imgemu-dev-ak"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("InstanceName", "demoinstance1"),
        ("ProductId", "2092061_1"),
        ("PicName", "namexxx.jpg"),
        ("StrAttr4", awkward),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    params.push(("SignatureNonce".into(), uuid::Uuid::new_v4().to_string()));
    params.push(("Timestamp".into(), acs_date(emu.clock().now())));
    let signature = imgemu::vendors::aliyun::sign::sign_v2("POST", &params, "imgemu-dev-sk");
    params.push(("Signature".into(), signature));
    const RFC3986: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    let query: Vec<String> = params
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                percent_encoding::utf8_percent_encode(k, RFC3986),
                percent_encoding::utf8_percent_encode(v, RFC3986)
            )
        })
        .collect();
    let got = Got::from(
        reqwest::Client::new()
            .post(format!("{}/?{}", emu.url(), query.join("&")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    ok(&got);
    assert_eq!(read().await["StrAttr4"], awkward);
}

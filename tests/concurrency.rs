//! Concurrency (issue #7): many concurrent clients each sending sequential updates to the SAME
//! image, per vendor (no lost update, the final state is the last write of whichever client wrote
//! last, every write applied whole, journal counts exact), and async tasks/jobs polled
//! concurrently transition exactly once.
//!
//! Every test runs its own in-process emulator with auth off (fixed, well-formed credentials name
//! the dev tenants, so no request pays for signing), quotas off (JD's daily quota and Alibaba's
//! flow control stay out of the way) and a journal larger than the number of requests, so
//! journal counts are exact.
//!
//! Why "the final value is some client's last write" proves no lost update: each client's writes
//! are sequential (write i+1 is sent only after write i was acknowledged), so once all clients
//! are done, the image must hold the write applied last, and that write cannot be followed by
//! a later write of the same client: it is `c{k}-{last}` for some client k. The journal is written
//! after the handler (not atomically with the state change) but before the response goes out,
//! which gives a second, exact check: every write journaled after the winning one must have been
//! applied before it, so it must be the last write of its client.
//!
//! The suite runs the full size of the issue: 64 clients × 500 updates per vendor (about 6–11 s
//! per vendor in a debug build on 2 cores; each test prints its time with `--nocapture`).

mod common;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::aliyun::{form, ok, AliClient};
use common::huawei::{Cred, HwClient, DEV_PROJECT, SEED_IMAGE};
use common::jd::{b64, ramp, result, JdClient};
use common::{Aries, TOKEN};
use imgemu::journal::Query;
use imgemu::{AuthMode, Emulator, TransitionPolicy};
use reqwest::Client;
use serde_json::{json, Value};
use tokio::sync::Barrier;

/// Concurrent clients.
const CLIENTS: usize = 64;
/// Sequential updates per client (the size issue #7 asks for).
const UPDATES: usize = 500;
/// Status reads per client in the task/job tests.
const ROUNDS: usize = 3;
/// JD's daily quota, raised so `remainTimes` never saturates and counts every call exactly.
const JD_QUOTA: u64 = 1_000_000;
/// A well-formed JDCLOUD2 header naming the dev key (auth off: the key names the tenant).
const JD_AUTH: &str = "JDCLOUD2-HMAC-SHA256 Credential=imgemu-dev-ak/20260101/jdcloud-api/simpleclient/jdcloud2_request, SignedHeaders=content-type;host;x-jdcloud-date;x-jdcloud-nonce, Signature=0000000000000000000000000000000000000000000000000000000000000000";

/// One emulator: auth off, manual clock, quotas off, a journal that keeps every request.
async fn emulator() -> Emulator {
    Emulator::builder()
        .auth_mode(AuthMode::Off)
        .manual_clock()
        .quotas(false)
        .journal_capacity(40_000)
        .vendor_settings(json!({"jd": {"daily_quota": JD_QUOTA}}), "concurrency test")
        .start()
        .await
        .expect("emulator starts")
}

/// Runs `CLIENTS` clients at once (released together by a barrier), each with its own
/// `reqwest::Client`, each doing `steps` sequential calls of `step(http, client, i)`; returns
/// what every call returned, per client, in order.
async fn clients<T, F, Fut>(steps: usize, step: F) -> Vec<Vec<T>>
where
    T: Send + 'static,
    F: Fn(Client, usize, usize) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(CLIENTS));
    let handles: Vec<_> = (0..CLIENTS)
        .map(|k| {
            let barrier = barrier.clone();
            let step = step.clone();
            tokio::spawn(async move {
                let http = Client::new();
                barrier.wait().await;
                let mut out = Vec::with_capacity(steps);
                for i in 0..steps {
                    out.push(step(http.clone(), k, i).await);
                }
                out
            })
        })
        .collect();
    let mut all = Vec::with_capacity(CLIENTS);
    for h in handles {
        all.push(h.await.expect("client task"));
    }
    all
}

// ------------------------------------------------------------------ updates to one image

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Vendor {
    Aries,
    Jd,
    Aliyun,
    Huawei,
}

impl Vendor {
    fn name(self) -> &'static str {
        match self {
            Vendor::Aries => "aries",
            Vendor::Jd => "jd",
            Vendor::Aliyun => "aliyun",
            Vendor::Huawei => "huawei",
        }
    }

    /// The journal operation of the update.
    fn operation(self) -> &'static str {
        match self {
            Vendor::Jd => "image_update",
            _ => "UpdateImage",
        }
    }

    /// The response header carrying the request id the journal records.
    fn request_id_header(self) -> &'static str {
        match self {
            Vendor::Aries | Vendor::Huawei => "x-request-id",
            Vendor::Jd => "x-jdcloud-request-id",
            Vendor::Aliyun => "x-acs-request-id",
        }
    }
}

/// The value client `k` writes in its update `i`.
fn value(k: usize, i: usize) -> String {
    format!("c{k}-{i}")
}

/// What one acknowledged update told its client.
#[derive(Debug)]
struct Ack {
    request_id: String,
    /// JD's `remainTimes`: the tenant's call counter as this request left it.
    remain: Option<u64>,
}

/// One update of the shared image to `value`; Err describes anything but a clean success whose
/// answer shows exactly this write.
async fn update(
    vendor: Vendor,
    http: Client,
    base: Arc<str>,
    value: String,
) -> Result<Ack, String> {
    let req = match vendor {
        Vendor::Aries => http
            .put(format!("{base}/aries/api/v1/image"))
            .bearer_auth(TOKEN)
            .body(json!({"id": 1, "description": value}).to_string()),
        Vendor::Jd => http
            .post(format!("{base}/jdai/image_update"))
            .header("authorization", JD_AUTH)
            .header("content-type", "application/json")
            .body(
                json!({"collection_name": "food",
                       "docs": [{"image_name": "Milk_salt_soda_v1", "info": value}]})
                .to_string(),
            ),
        Vendor::Aliyun => http
            .post(format!("{base}/"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[
                ("Action", "UpdateImage"),
                ("Version", "2020-12-14"),
                ("AccessKeyId", "imgemu-dev-ak"),
                ("InstanceName", "demoinstance1"),
                ("ProductId", "2092061_1"),
                ("PicName", "namexxx.jpg"),
                ("StrAttr", &value),
            ])),
        Vendor::Huawei => http
            .patch(format!("{base}/v2/cloudimages/{SEED_IMAGE}"))
            .header("x-auth-token", TOKEN)
            .header("content-type", "application/json;charset=utf-8")
            .body(json!([{"op": "add", "path": "/__description", "value": value}]).to_string()),
    };
    let resp = req
        .send()
        .await
        .map_err(|e| format!("{value}: not sent: {e}"))?;
    let status = resp.status().as_u16();
    let request_id = resp
        .headers()
        .get(vendor.request_id_header())
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let text = resp
        .text()
        .await
        .map_err(|e| format!("{value}: no body: {e}"))?;
    let fail = |why: &str| format!("{value}: {why}: {status} {text}");
    if status != 200 {
        return Err(fail("not 200"));
    }
    let body: Value = serde_json::from_str(&text).map_err(|_| fail("not JSON"))?;
    let request_id = request_id.ok_or_else(|| fail("no request id header"))?;
    let mut remain = None;
    let shows_this_write = match vendor {
        // The updated object comes back: it must show this client's own write, whole.
        Vendor::Aries => body["id"] == 1 && body["description"] == value.as_str(),
        Vendor::Huawei => body["id"] == SEED_IMAGE && body["__description"] == value.as_str(),
        Vendor::Jd => {
            remain = body["remainTimes"].as_u64();
            body["code"] == "10000"
                && body["result"]["succeeded_list"]
                    == json!([{"image_name": "Milk_salt_soda_v1", "info": value}])
                && body["result"]["failed_list"] == json!([])
                && remain.is_some()
        }
        Vendor::Aliyun => {
            body["Success"] == true && body["Code"] == 0 && body["RequestId"] == request_id.as_str()
        }
    };
    if !shows_this_write {
        return Err(fail("the answer does not show this write"));
    }
    Ok(Ack { request_id, remain })
}

/// The shared image's updated field, read through the vendor API.
async fn read_back(vendor: Vendor, emu: &Emulator) -> String {
    let got = match vendor {
        Vendor::Aries => {
            let got = Aries::new(emu).describe(1).await;
            assert_eq!(got.status, 200, "{}", got.text);
            got.json()["description"].clone()
        }
        Vendor::Jd => {
            let got = JdClient::dev(emu)
                .post(
                    "image_fetch",
                    &json!({"collection_name": "food", "image_names": ["Milk_salt_soda_v1"]}),
                )
                .await;
            result(&got)["succeeded_list"][0]["info"].clone()
        }
        Vendor::Aliyun => {
            let got = AliClient::dev(emu)
                .on_demo(
                    "CheckImageExists",
                    &[("ProductId", "2092061_1"), ("PicName", "namexxx.jpg")],
                )
                .await;
            ok(&got)["Auctions"]["StrAttr"].clone()
        }
        Vendor::Huawei => {
            let got = HwClient::new(emu, Cred::Token(TOKEN.into()))
                .show(SEED_IMAGE)
                .await;
            assert_eq!(got.status, 200, "{}", got.text);
            got.json()["__description"].clone()
        }
    };
    got.as_str()
        .unwrap_or_else(|| panic!("{}: no stored value in {got}", vendor.name()))
        .to_string()
}

/// 64 clients × `updates` sequential updates of the same image, then every check of issue #7.
async fn concurrent_updates(vendor: Vendor, updates: usize) {
    let emu = emulator().await;
    let total = CLIENTS * updates;
    let last = updates - 1;
    let base: Arc<str> = emu.url().into();
    let started = Instant::now();
    let per_client = clients(updates, move |http, k, i| {
        update(vendor, http, base.clone(), value(k, i))
    })
    .await;
    let elapsed = started.elapsed();
    eprintln!(
        "{}: {CLIENTS} clients x {updates} updates = {total} requests in {:.2?} ({:.0} req/s)",
        vendor.name(),
        elapsed,
        total as f64 / elapsed.as_secs_f64()
    );

    // Every request acknowledged with success, its answer showing its own write.
    let failures: Vec<&String> = per_client
        .iter()
        .flatten()
        .filter_map(|r| r.as_ref().err())
        .collect();
    assert!(
        failures.is_empty(),
        "{}: {} of {total} updates not acknowledged cleanly, e.g. {:#?}",
        vendor.name(),
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    let acks: Vec<Vec<Ack>> = per_client
        .into_iter()
        .map(|c| c.into_iter().map(Result::unwrap).collect())
        .collect();

    // No lost update: the image holds the last write of whichever client wrote last.
    let stored = read_back(vendor, &emu).await;
    let winner = (0..CLIENTS)
        .find(|&k| stored == value(k, last))
        .unwrap_or_else(|| {
            panic!(
                "{}: lost update: after all {total} writes the image holds {stored:?}, \
                 which is no client's last write",
                vendor.name()
            )
        });
    assert_eq!(
        read_back(vendor, &emu).await,
        stored,
        "{}: reads are stable",
        vendor.name()
    );

    // Journal counts exact.
    let journal = emu.journal();
    let op = Query::vendor(vendor.name()).operation(vendor.operation());
    assert_eq!(
        journal.count(&op.clone().status(200)),
        total,
        "{}: successful {} entries",
        vendor.name(),
        vendor.operation()
    );
    assert_eq!(
        journal.count(&op),
        total,
        "{}: {} entries of any status",
        vendor.name(),
        vendor.operation()
    );
    let entries = journal.entries(&op);
    let seq_of: HashMap<&str, u64> = entries
        .iter()
        .map(|e| (e.request_id.as_str(), e.seq))
        .collect();
    assert_eq!(
        seq_of.len(),
        total,
        "{}: every journal entry has its own request id",
        vendor.name()
    );

    // Each acknowledged write is journaled once, and each client's writes in its own order.
    let mut writer_of: HashMap<u64, (usize, usize)> = HashMap::with_capacity(total);
    for (k, client) in acks.iter().enumerate() {
        let mut previous = 0;
        for (i, ack) in client.iter().enumerate() {
            let seq = *seq_of.get(ack.request_id.as_str()).unwrap_or_else(|| {
                panic!(
                    "{}: {} acknowledged as request {} but not journaled",
                    vendor.name(),
                    value(k, i),
                    ack.request_id
                )
            });
            assert!(
                seq > previous,
                "{}: {} journaled (seq {seq}) before the write acknowledged ahead of it (seq {previous})",
                vendor.name(),
                value(k, i)
            );
            previous = seq;
            writer_of.insert(seq, (k, i));
        }
    }

    // The winning write was applied last, so any write journaled after it was applied before it
    // yet was still in flight: it must be its client's last write (at most one per other client).
    let winner_seq = seq_of[acks[winner][last].request_id.as_str()];
    let after: Vec<(usize, usize)> = entries
        .iter()
        .filter(|e| e.seq > winner_seq)
        .map(|e| writer_of[&e.seq])
        .collect();
    assert!(
        after.iter().all(|&(k, i)| i == last && k != winner) && after.len() < CLIENTS,
        "{}: the image holds {stored:?} (seq {winner_seq}), but writes journaled after it were not \
         all in-flight last writes: {:?}",
        vendor.name(),
        after
            .iter()
            .map(|&(k, i)| value(k, i))
            .collect::<Vec<_>>()
    );

    // JD counts every call against the tenant's daily quota, under the same lock as the update:
    // the 'remainTimes' seen are exactly one per call, none lost or repeated.
    if vendor == Vendor::Jd {
        let mut seen = HashSet::with_capacity(total);
        for (k, client) in acks.iter().enumerate() {
            let mut previous = u64::MAX;
            for (i, ack) in client.iter().enumerate() {
                let remain = ack.remain.expect("remainTimes");
                assert!(
                    remain < previous,
                    "jd: {} saw remainTimes {remain} after {previous}",
                    value(k, i)
                );
                previous = remain;
                assert!(
                    seen.insert(remain),
                    "jd: remainTimes {remain} seen twice (a lost quota count)"
                );
            }
        }
        let expected: HashSet<u64> = (JD_QUOTA - total as u64..JD_QUOTA).collect();
        assert_eq!(
            seen, expected,
            "jd: remainTimes are exactly quota-1 down to quota-{total}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aries_concurrent_updates_to_one_image_lose_nothing() {
    concurrent_updates(Vendor::Aries, UPDATES).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jd_concurrent_updates_to_one_image_lose_nothing() {
    concurrent_updates(Vendor::Jd, UPDATES).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliyun_concurrent_updates_to_one_image_lose_nothing() {
    concurrent_updates(Vendor::Aliyun, UPDATES).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huawei_concurrent_updates_to_one_image_lose_nothing() {
    concurrent_updates(Vendor::Huawei, UPDATES).await;
}

// ------------------------------------------------------------------ tasks polled concurrently

/// Fresh tasks (jobs) per test, each polled by every client at once. A check-then-act race at the
/// transition has a window of microseconds, so one trial rarely hits it: against a deliberately
/// broken emulator (state snapshot, handled unlocked, written back) a single trial caught it about
/// one time in ten, and 48 trials caught it in 11 of 12 test runs (Huawei 6/6, JD 5/6).
const TRIALS: usize = 48;

/// The transition policy of a trial: the default `polls:1`, and every eighth trial `polls:3`
/// (several pending reads, each of which must count exactly once).
fn polls_of(trial: usize) -> u32 {
    if trial % 8 == 7 {
        3
    } else {
        1
    }
}

/// The `food` collection's indexed image count (JD).
async fn jd_food_count(http: &Client, base: &str) -> u64 {
    let got: Value = http
        .get(format!("{base}/jdai/collection_list"))
        .header("authorization", JD_AUTH)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("JSON");
    assert_eq!(got["code"], "10000", "{got}");
    got["result"]["collection_list"]
        .as_array()
        .and_then(|l| l.iter().find(|c| c["collection_name"] == "food"))
        .and_then(|c| c["indexed_image_count"].as_u64())
        .unwrap_or_else(|| panic!("no food collection in {got}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jd_task_polled_concurrently_transitions_exactly_once() {
    let emu = emulator().await;
    let base: Arc<str> = emu.url().into();
    let http = Client::new();
    let mut task_reads = 0;
    for trial in 0..TRIALS {
        let polls = polls_of(trial);
        emu.settings()
            .set_transition(TransitionPolicy::Polls(polls));
        let before = jd_food_count(&http, &base).await;
        let name = format!("Concurrent_{trial}");
        let indexed: Value = http
            .post(format!("{base}/jdai/index"))
            .header("authorization", JD_AUTH)
            .header("content-type", "application/json")
            .body(
                json!({"collection_name": "food",
                       "docs": [{"image_name": name, "image_content": b64(&ramp())}]})
                .to_string(),
            )
            .send()
            .await
            .expect("sent")
            .json()
            .await
            .expect("JSON");
        assert_eq!(indexed["result"]["failed_list"], json!([]), "{indexed}");
        let task_id = indexed["result"]["task_id"]
            .as_str()
            .unwrap_or_else(|| panic!("no task id in {indexed}"))
            .to_string();

        // Every client reads the task, then the collection's count, ROUNDS times.
        let url: Arc<str> = format!("{base}/jdai/task?task_id={task_id}").into();
        let b = base.clone();
        let reads = clients(ROUNDS, move |http, _, _| {
            let (url, base) = (url.clone(), b.clone());
            async move {
                let got: Value = http
                    .get(&*url)
                    .header("authorization", JD_AUTH)
                    .send()
                    .await
                    .expect("sent")
                    .json()
                    .await
                    .expect("JSON");
                (got, jd_food_count(&http, &base).await)
            }
        })
        .await;
        task_reads += CLIENTS * ROUNDS;

        let pending = json!({"task_status": "PROCESSING", "succeeded_list": [],
                             "failed_list": [], "pending_list": [name]});
        let finished = json!({"task_status": "FINISHED", "succeeded_list": [name],
                              "failed_list": [], "pending_list": []});
        let lists = |got: &Value| {
            let r = &got["result"];
            json!({"task_status": r["task_status"], "succeeded_list": r["succeeded_list"],
                   "failed_list": r["failed_list"], "pending_list": r["pending_list"]})
        };
        let mut processing = 0;
        let mut first_finished: Option<Value> = None;
        for (k, client) in reads.iter().enumerate() {
            let mut saw_finished = false;
            let mut last_count = before;
            for (got, count) in client {
                assert_eq!(got["code"], "10000", "trial {trial}: {got}");
                let shown = lists(got);
                if shown == pending {
                    processing += 1;
                    assert!(
                        !saw_finished,
                        "trial {trial}: client {k} read PROCESSING after FINISHED"
                    );
                } else {
                    assert_eq!(
                        shown, finished,
                        "trial {trial}: client {k}: a FINISHED task's lists changed"
                    );
                    // Every FINISHED answer is the same, whole result.
                    let first = first_finished.get_or_insert_with(|| got["result"].clone());
                    assert_eq!(&got["result"], first, "trial {trial}: client {k}");
                    saw_finished = true;
                }
                // The image becomes visible once (count +1, never +2) and stays.
                assert!(
                    *count == before || *count == before + 1,
                    "trial {trial}: client {k} counted {count} images, started from {before}"
                );
                assert!(
                    *count >= last_count,
                    "trial {trial}: client {k}: image count went from {last_count} back to {count}"
                );
                if saw_finished {
                    assert_eq!(
                        *count,
                        before + 1,
                        "trial {trial}: client {k}: FINISHED but the image is not visible"
                    );
                }
                last_count = *count;
            }
        }
        assert_eq!(
            processing,
            polls as usize,
            "trial {trial} (polls:{polls}): PROCESSING reads out of {} concurrent reads",
            CLIENTS * ROUNDS
        );
        assert_eq!(jd_food_count(&http, &base).await, before + 1);
        // The image is there once and the task's result never changes afterwards.
        let jd = JdClient::dev(&emu);
        let fetched = result(
            &jd.post(
                "image_fetch",
                &json!({"collection_name": "food", "image_names": [name]}),
            )
            .await,
        );
        assert_eq!(
            fetched["succeeded_list"],
            json!([{"image_name": name, "info": ""}])
        );
        assert_eq!(
            lists(&json!({"result": result(&jd.task(&task_id).await)})),
            finished
        );
        emu.clock().advance(Duration::from_secs(1)).unwrap();
    }
    assert_eq!(
        emu.journal()
            .count(&Query::vendor("jd").operation("task").status(200)),
        task_reads + TRIALS,
        "every task read journaled once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huawei_job_polled_concurrently_transitions_exactly_once() {
    let emu = emulator().await;
    let hw = HwClient::new(&emu, Cred::Token(TOKEN.into()));
    let base: Arc<str> = emu.url().into();
    let mut job_reads = 0;
    for trial in 0..TRIALS {
        let polls = polls_of(trial);
        emu.settings()
            .set_transition(TransitionPolicy::Polls(polls));
        let name = format!("concurrent-{trial}");
        let got = hw
            .create(
                &json!({"name": name, "image_url": "my-bucket:images/web.qcow2",
                            "min_disk": 40, "os_version": "CentOS 7.9 64bit"}),
            )
            .await;
        assert_eq!(got.status, 200, "{}", got.text);
        let job_id = got.json()["job_id"].as_str().unwrap().to_string();
        let listed = hw.list(&format!("name={name}")).await.json();
        assert_eq!(
            listed["images"].as_array().map(Vec::len),
            Some(1),
            "{listed}"
        );
        assert_eq!(listed["images"][0]["status"], "queued");
        let image_id = listed["images"][0]["id"].as_str().unwrap().to_string();

        // 64 clients read ShowJob while the emulator clock keeps moving: a second transition
        // would show up as another end_time.
        let url: Arc<str> = format!("{base}/v1/{DEV_PROJECT}/jobs/{job_id}").into();
        let done = AtomicBool::new(false);
        let storm = async {
            let reads = clients(ROUNDS, move |http, _, _| {
                let url = url.clone();
                async move {
                    let resp = http
                        .get(&*url)
                        .header("x-auth-token", TOKEN)
                        .send()
                        .await
                        .expect("sent");
                    assert_eq!(resp.status(), 200);
                    resp.json::<Value>().await.expect("JSON")
                }
            })
            .await;
            done.store(true, Ordering::SeqCst);
            reads
        };
        let ticker = async {
            while !done.load(Ordering::SeqCst) {
                emu.clock().advance(Duration::from_secs(1)).unwrap();
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        };
        let (reads, ()) = tokio::join!(storm, ticker);
        job_reads += CLIENTS * ROUNDS;

        let mut running = Vec::new();
        let mut success: Option<Value> = None;
        for (k, client) in reads.iter().enumerate() {
            let mut saw_success = false;
            for got in client {
                match got["status"].as_str() {
                    Some("RUNNING") => {
                        assert!(
                            !saw_success,
                            "trial {trial}: client {k} read RUNNING after SUCCESS"
                        );
                        assert_eq!(got["end_time"], "", "trial {trial}: {got}");
                        assert!(got["entities"].get("image_id").is_none(), "{got}");
                        running.push(got["entities"]["process_percent"].as_f64().unwrap());
                    }
                    Some("SUCCESS") => {
                        saw_success = true;
                        let first = success.get_or_insert_with(|| got.clone());
                        assert_eq!(
                            got, first,
                            "trial {trial}: client {k}: the finished job changed (end_time moved?)"
                        );
                    }
                    _ => panic!("trial {trial}: client {k}: unexpected job status in {got}"),
                }
            }
        }
        // Each RUNNING read counted once: with polls:n, reads 1..=n show k/(n+1).
        running.sort_by(f64::total_cmp);
        let expected: Vec<f64> = (1..=polls)
            .map(|r| (f64::from(r) / f64::from(polls + 1) * 100.0).floor() / 100.0)
            .collect();
        assert_eq!(
            running,
            expected,
            "trial {trial} (polls:{polls}): RUNNING reads out of {} concurrent reads",
            CLIENTS * ROUNDS
        );
        let success = success.expect("some read saw SUCCESS");
        assert_eq!(success["entities"]["image_id"], image_id.as_str());
        assert_eq!(success["entities"]["process_percent"], 1.0);
        let end_time = success["end_time"].as_str().unwrap();
        assert!(
            end_time.len() == 24 && end_time.ends_with('Z'),
            "{end_time}"
        );

        // The image went active once, at the job's end.
        emu.clock().advance(Duration::from_secs(60)).unwrap();
        let image = hw.show(&image_id).await.json();
        let end_seconds = format!("{}Z", &end_time[..19]);
        assert_eq!(image["status"], "active", "{image}");
        assert_eq!(image["active_at"], end_seconds.as_str(), "{image}");
        assert_eq!(image["updated_at"], end_seconds.as_str(), "{image}");
        let listed = hw.list(&format!("name={name}")).await.json();
        assert_eq!(
            listed["images"].as_array().map(Vec::len),
            Some(1),
            "{listed}"
        );
        assert_eq!(hw.job(DEV_PROJECT, &job_id).await.json(), success);
        job_reads += 1;
    }
    assert_eq!(
        emu.journal()
            .count(&Query::vendor("huawei").operation("ShowJob").status(200)),
        job_reads,
        "every job read journaled once"
    );
}

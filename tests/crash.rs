//! Crash safety of `--state-dir` (issue #7): the binary is killed with SIGKILL at a random point
//! while concurrent clients of all four vendors change state; after a restart on the same
//! directory every acknowledged change is there. Several kill points, one directory, so later
//! rounds also replay what compactions and earlier restarts left behind.
//!
//! The kill points come from a seed printed at the start; `IMGEMU_CRASH_SEED=<n>` replays a run.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

#[path = "common/binary.rs"]
mod binary;

use binary::{Running, BIN};
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

/// Kill rounds on the same directory.
const ROUNDS: usize = 3;
/// Acknowledged changes per round before the kill becomes possible (issue #7 asks for ≥ 2000).
const MIN_ACKED: usize = 2000;
/// The kill lands uniformly in this many further acknowledged changes.
const KILL_SPREAD: usize = 600;
const TOKEN: &str = "imgemu-dev-token";
/// The Huawei fixture image the dev project owns.
const HUAWEI_IMAGE: &str = "33ad552d-1149-471c-8190-ff6776174a00";
/// A well-formed JDCLOUD2 header naming the dev key (auth off: the key names the tenant).
const JD_AUTH: &str = "JDCLOUD2-HMAC-SHA256 Credential=imgemu-dev-ak/20260101/jdcloud-api/simpleclient/jdcloud2_request, SignedHeaders=content-type;host;x-jdcloud-date;x-jdcloud-nonce, Signature=0000000000000000000000000000000000000000000000000000000000000000";

/// One client's job: sequential writes of one kind.
#[derive(Debug, Clone)]
enum Job {
    /// Aries CreateImage with fresh names: every acknowledged name must exist.
    AriesCreate,
    /// Aries UpdateImage of this image's description.
    AriesUpdate(u64),
    /// JD image_update of this `food` image's info.
    JdUpdate(&'static str),
    /// Alibaba UpdateImage of this picture's StrAttr (ProductId, PicName).
    AliyunUpdate(&'static str, &'static str),
    /// Huawei PATCH of the dev project's image `__description`.
    HuaweiUpdate,
}

fn jobs() -> Vec<Job> {
    vec![
        Job::AriesCreate,
        Job::AriesCreate,
        Job::AriesUpdate(1),
        Job::AriesUpdate(2),
        Job::JdUpdate("Milk_salt_soda_v1"),
        Job::JdUpdate("Green_tea_v2"),
        Job::JdUpdate("Rice_cracker_v1"),
        Job::AliyunUpdate("2092061_1", "namexxx.jpg"),
        Job::AliyunUpdate("2092061_1", "namexxx_2.jpg"),
        Job::AliyunUpdate("2092061_2", "red_shirt.jpg"),
        Job::AliyunUpdate("2092061_3", "blue_shoe.png"),
        Job::HuaweiUpdate,
    ]
}

/// What one client saw in one round.
#[derive(Debug, Default, Clone)]
struct Seen {
    /// Values whose write was acknowledged, in order.
    acked: Vec<String>,
    /// The value of the write in flight when the server died (applied or not).
    in_flight: Option<String>,
}

/// A running binary and its base URL.
struct Server {
    child: Running,
    url: String,
}

fn start(dir: &Path) -> Server {
    let mut command = Command::new(BIN);
    command
        .args([
            "--port",
            "0",
            "--auth",
            "off",
            "--quotas",
            "off",
            "--log-level",
            "warn",
        ])
        .arg("--state-dir")
        .arg(dir)
        .stderr(Stdio::inherit());
    let (child, url, _) = binary::start(command);
    Server { child, url }
}

/// Sends one write; `Ok(true)` = acknowledged, `Ok(false)` = answered but refused (a bug here),
/// `Err` = no answer (the server is gone).
fn write(http: &reqwest::blocking::Client, base: &str, job: &Job, value: &str) -> Result<bool, ()> {
    let req = match job {
        Job::AriesCreate => http
            .post(format!("{base}/aries/api/v1/image/create"))
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body(
                json!({"name": value, "os_type": "linux", "os_name": "Ubuntu",
                       "source_path": "/images/crash.qcow2"})
                .to_string(),
            ),
        Job::AriesUpdate(id) => http
            .put(format!("{base}/aries/api/v1/image"))
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body(json!({"id": id, "description": value}).to_string()),
        Job::JdUpdate(name) => http
            .post(format!("{base}/jdai/image_update"))
            .header("authorization", JD_AUTH)
            .header("content-type", "application/json")
            .body(
                json!({"collection_name": "food", "docs": [{"image_name": name, "info": value}]})
                    .to_string(),
            ),
        Job::AliyunUpdate(product, pic) => http
            .post(format!("{base}/"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(
                [
                    ("Action", "UpdateImage"),
                    ("Version", "2020-12-14"),
                    ("AccessKeyId", "imgemu-dev-ak"),
                    ("InstanceName", "demoinstance1"),
                    ("ProductId", product),
                    ("PicName", pic),
                    ("StrAttr", value),
                ]
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&"),
            ),
        Job::HuaweiUpdate => http
            .patch(format!("{base}/v2/cloudimages/{HUAWEI_IMAGE}"))
            .header("x-auth-token", TOKEN)
            .header("content-type", "application/json;charset=utf-8")
            .body(json!([{"op": "add", "path": "/__description", "value": value}]).to_string()),
    };
    let resp = req.send().map_err(|_| ())?;
    let status = resp.status().as_u16();
    let body: Value = resp.json().map_err(|_| ())?;
    Ok(status == 200
        && match job {
            Job::JdUpdate(_) => {
                body["code"] == "10000" && body["result"]["failed_list"] == json!([])
            }
            Job::AliyunUpdate(..) => body["Success"] == true,
            _ => true,
        })
}

/// Runs every job on its own thread until the server dies; kills it with SIGKILL after
/// `kill_after` acknowledged writes. Returns what each client saw.
fn round(server: &mut Server, round: usize, kill_after: usize) -> Vec<Seen> {
    let acked = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(Mutex::new(Vec::new()));
    let handles: Vec<_> = jobs()
        .into_iter()
        .enumerate()
        .map(|(w, job)| {
            let (acked, refused) = (acked.clone(), refused.clone());
            let base = server.url.clone();
            thread::spawn(move || {
                let http = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(30))
                    .build()
                    .expect("client");
                let mut seen = Seen::default();
                // Until the server dies (or refuses a write, which fails the test).
                for i in 0.. {
                    let value = format!("r{round}-w{w}-{i}");
                    match write(&http, &base, &job, &value) {
                        Ok(true) => {
                            seen.acked.push(value);
                            acked.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(false) => {
                            refused.lock().unwrap().push(value);
                            break;
                        }
                        Err(()) => {
                            seen.in_flight = Some(value);
                            break;
                        }
                    }
                }
                seen
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(600);
    while acked.load(Ordering::SeqCst) < kill_after {
        assert!(Instant::now() < deadline, "round {round}: too slow");
        assert!(refused.lock().unwrap().is_empty(), "refused: {refused:?}");
        thread::sleep(Duration::from_micros(200));
    }
    // SIGKILL: no shutdown code runs, whatever was in flight is cut.
    server.child.kill().expect("SIGKILL");
    server.child.wait().expect("reaped");
    let seen: Vec<Seen> = handles
        .into_iter()
        .map(|h| h.join().expect("client thread"))
        .collect();
    let refused = refused.lock().unwrap();
    assert!(
        refused.is_empty(),
        "writes answered with an error: {refused:?}"
    );
    seen
}

/// Where client `job`'s value lives in the exported state document.
fn stored(doc: &Value, job: &Job) -> Option<String> {
    let text = |v: &Value| v.as_str().map(str::to_string);
    match job {
        Job::AriesCreate => None,
        Job::AriesUpdate(id) => doc["aries"]["tenants"]["admin"]["images"]
            .as_array()?
            .iter()
            .find(|i| i["id"] == *id)
            .and_then(|i| text(&i["description"])),
        Job::JdUpdate(name) => doc["jd"]["tenants"]["imgemu-dev-ak"]["collections"]
            .as_array()?
            .iter()
            .find(|c| c["collection_name"] == "food")?["images"]
            .as_array()?
            .iter()
            .find(|i| i["image_name"] == *name)
            .and_then(|i| text(&i["info"])),
        Job::AliyunUpdate(product, pic) => doc["aliyun"]["tenants"]["imgemu-dev-ak"]["instances"]
            .as_array()?
            .iter()
            .find(|i| i["Name"] == "demoinstance1")?["Images"]
            .as_array()?
            .iter()
            .find(|i| i["ProductId"] == *product && i["PicName"] == *pic)
            .and_then(|i| text(&i["StrAttr"])),
        Job::HuaweiUpdate => doc["huawei"]["images"]
            .as_array()?
            .iter()
            .find(|i| i["id"] == HUAWEI_IMAGE)
            .and_then(|i| text(&i["__description"])),
    }
}

fn aries_names(doc: &Value) -> std::collections::HashSet<String> {
    doc["aries"]["tenants"]
        .as_object()
        .into_iter()
        .flat_map(|t| t.values())
        .filter_map(|t| t["images"].as_array())
        .flatten()
        .filter_map(|i| i["name"].as_str().map(str::to_string))
        .collect()
}

fn scratch_dir(seed: u64) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("imgemu-crash-{}-{seed}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn every_acknowledged_change_survives_sigkill() {
    let seed = std::env::var("IMGEMU_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random::<u64>());
    eprintln!("crash test seed {seed} (IMGEMU_CRASH_SEED={seed} replays these kill points)");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let dir = scratch_dir(seed);
    let http = reqwest::blocking::Client::new();
    // Every name an Aries create acknowledged, over all rounds.
    let mut created: Vec<String> = Vec::new();
    let mut total = 0;
    for r in 0..ROUNDS {
        let kill_after = MIN_ACKED + rng.random_range(0..KILL_SPREAD);
        let mut server = start(&dir);
        let seen = round(&mut server, r, kill_after);
        let acked: usize = seen.iter().map(|s| s.acked.len()).sum();
        assert!(acked >= MIN_ACKED, "round {r}: only {acked} acknowledged");
        total += acked;

        let server = start(&dir);
        let doc: Value = http
            .get(format!("{}/_imgemu/state", server.url))
            .send()
            .expect("state")
            .json()
            .expect("state JSON");
        for (job, seen) in jobs().iter().zip(&seen) {
            if let Job::AriesCreate = job {
                created.extend(seen.acked.iter().cloned());
                continue;
            }
            // The last acknowledged write, or the one in flight if the server applied it.
            let got = stored(&doc, job);
            let last = seen.acked.last();
            let ok = got.as_ref() == last || (got.is_some() && got == seen.in_flight);
            assert!(
                ok,
                "round {r} seed {seed}, {job:?}: stored {got:?}, last acknowledged {last:?}, in flight {:?}",
                seen.in_flight
            );
        }
        let names = aries_names(&doc);
        let lost: Vec<&String> = created.iter().filter(|n| !names.contains(*n)).collect();
        assert!(
            lost.is_empty(),
            "round {r} seed {seed}: {} acknowledged Aries creates lost, e.g. {:?}",
            lost.len(),
            &lost[..lost.len().min(5)]
        );
        drop(server);
    }
    eprintln!("{ROUNDS} SIGKILLs, {total} acknowledged changes, 0 lost");
    let _ = std::fs::remove_dir_all(&dir);
}

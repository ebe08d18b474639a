//! `--state-dir` (issue #7), in process and through the binary: what survives a restart (vendor
//! changes, task lifecycles, control-plane changes), that a directory with state wins over the
//! fixtures, compaction, the final snapshot on SIGTERM, and the errors: a torn last log line is
//! skipped with a warning, a corrupt snapshot or log is refused naming the file, a directory in use
//! is refused. Crash safety under SIGKILL is in `crash.rs`.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::binary::{self, Running, BIN};
use common::jd::{b64, ramp, result, JdClient};
use common::{Aries, TOKEN};
use imgemu::{AuthMode, Emulator};
use reqwest::Method;
use serde_json::{json, Value};

/// A fresh, empty scratch directory for test `name`.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("imgemu-persist-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

async fn start(dir: &Path) -> Emulator {
    Emulator::builder()
        .auth_mode(AuthMode::Lenient)
        .manual_clock()
        .state_dir(dir)
        .start()
        .await
        .expect("emulator starts")
}

/// The files of a state directory, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The current log's path.
fn current_log(dir: &Path) -> PathBuf {
    let name = files(dir)
        .into_iter()
        .rfind(|n| n.starts_with("log-"))
        .expect("a log");
    dir.join(name)
}

#[tokio::test]
async fn vendor_changes_survive_a_restart_and_fixtures_do_not_come_back() {
    let dir = scratch("restart");
    let emu = start(&dir).await;
    let aries = Aries::new(&emu);
    assert_eq!(
        aries.update(r#"{"id":1,"name":"renamed"}"#).await.status,
        200
    );
    let created = aries
        .create(r#"{"name":"kept","os_type":"linux","os_name":"Ubuntu","source_path":"/a/b.iso"}"#)
        .await;
    assert_eq!(created.status, 200, "{}", created.text);
    let gone = aries.describe(2).await.json()["ref"].clone();
    let gone = gone.as_str().map(str::to_string);
    let deleted = aries
        .delete(gone.as_deref().unwrap_or("img-ubuntu2204x6"))
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.text);
    let before = emu.state().export();
    emu.shutdown().await;

    let emu = start(&dir).await;
    assert_eq!(emu.state().export(), before, "the whole state is back");
    let aries = Aries::new(&emu);
    assert_eq!(aries.describe(1).await.json()["name"], "renamed");
    aries
        .describe(2)
        .await
        .assert_aries_error(404, "ImageNotFound");
    // A further change continues the id counter rather than reusing an id.
    let next = aries
        .create(r#"{"name":"after","os_type":"linux","os_name":"Ubuntu","source_path":"/a/c.iso"}"#)
        .await;
    let id = |got: &common::Got| got.json()["image"]["id"].as_u64();
    assert_eq!(id(&next), id(&created).map(|n| n + 1), "{}", next.text);
    emu.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_jd_task_keeps_its_lifecycle_across_restarts() {
    let dir = scratch("jd-task");
    let emu = start(&dir).await;
    let jd = JdClient::dev(&emu);
    let got = jd
        .post(
            "index",
            &json!({"collection_name": "food", "docs": [
                {"image_name": "Ramp", "image_content": b64(&ramp())}]}),
        )
        .await;
    let task_id = result(&got)["task_id"].as_str().unwrap().to_string();
    emu.shutdown().await;

    // Restarted while PROCESSING: the first read still sees it pending (polls:1) ...
    let emu = start(&dir).await;
    let jd = JdClient::dev(&emu);
    assert_eq!(
        result(&jd.task(&task_id).await)["task_status"],
        "PROCESSING"
    );
    // ... and that read counted, so the next one finishes it, also across a restart.
    drop(emu);
    let emu = loop {
        // Drop does not wait for the server task; retry until the directory lock is free.
        match Emulator::builder()
            .auth_mode(AuthMode::Lenient)
            .manual_clock()
            .state_dir(&dir)
            .start()
            .await
        {
            Ok(emu) => break emu,
            Err(e) => {
                assert!(e.to_string().contains("in use"), "{e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    };
    let jd = JdClient::dev(&emu);
    let done = result(&jd.task(&task_id).await);
    assert_eq!(done["task_status"], "FINISHED");
    assert_eq!(done["succeeded_list"], json!(["Ramp"]));
    let fetched = result(
        &jd.post(
            "image_fetch",
            &json!({"collection_name": "food", "image_names": ["Ramp"]}),
        )
        .await,
    );
    assert_eq!(fetched["succeeded_list"][0]["image_name"], "Ramp");
    emu.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn control_plane_changes_are_persisted() {
    let dir = scratch("control");
    let emu = start(&dir).await;
    let aries = Aries::new(&emu);
    let got = aries
        .control(
            Method::POST,
            "/credentials",
            Some(r#"{"vendor":"aries","token":"t2","user":"u2"}"#),
        )
        .await;
    assert_eq!(got.status, 201, "{}", got.text);
    emu.shutdown().await;

    let emu = start(&dir).await;
    assert!(emu.credentials().token("aries", "t2").is_some());
    // A reset empties the directory's state too; the fixtures are not reloaded on restart.
    let aries = Aries::new(&emu);
    assert_eq!(
        aries.control(Method::POST, "/reset", None).await.status,
        200
    );
    emu.shutdown().await;
    let emu = start(&dir).await;
    assert_eq!(Aries::new(&emu).list("").await.text, "[]");
    assert!(emu.credentials().token("aries", "t2").is_none());
    // A whole document put through the control plane is what the next start sees.
    let mut doc = emu.state().export();
    doc["aries"] = json!({"tenants": {"admin": {"images": [
        {"id": 7, "name": "put", "os_type": "linux", "os_name": "Ubuntu", "source_path": "/p.iso",
         "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}]}}});
    let put = Aries::new(&emu)
        .control(Method::PUT, "/state", Some(&doc.to_string()))
        .await;
    assert_eq!(put.status, 204, "{}", put.text);
    emu.shutdown().await;
    let emu = start(&dir).await;
    assert_eq!(Aries::new(&emu).describe(7).await.json()["name"], "put");
    emu.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_small_compaction_threshold_rolls_generations_without_losing_anything() {
    let dir = scratch("compact");
    let emu = Emulator::builder()
        .manual_clock()
        .state_dir(&dir)
        .compact_after_bytes(1)
        .start()
        .await
        .expect("starts");
    let aries = Aries::new(&emu);
    // The threshold is never below the snapshot's size (≈ 21 KB with the fixtures), and each
    // Aries record holds the tenant (≈ 1.2 KB): 100 changes roll several generations.
    for i in 0..100 {
        let got = aries
            .update(&json!({"id": 1, "description": format!("d{i}")}).to_string())
            .await;
        assert_eq!(got.status, 200);
    }
    // One generation at a time: the old ones are removed.
    let names = files(&dir);
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(
        names[0] == "LOCK" && names[1].starts_with("log-") && names[2].starts_with("snapshot-")
    );
    assert!(
        names[2].as_str() >= "snapshot-000000000004.json",
        "{names:?}"
    );
    drop(emu);
    let mut tries = 0;
    let emu = loop {
        match Emulator::builder().state_dir(&dir).start().await {
            Ok(emu) => break emu,
            Err(_) if tries < 500 => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(
        Aries::new(&emu).describe(1).await.json()["description"],
        "d99"
    );
    emu.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

// ------------------------------------------------------------------ the binary

/// Starts the binary on `dir` (stderr captured); returns it and its URL.
fn spawn(dir: &Path) -> (Running, String) {
    let mut command = Command::new(BIN);
    command
        .args(["--port", "0", "--log-level", "warn", "--state-dir"])
        .arg(dir)
        .stderr(Stdio::piped());
    let (child, url, _) = binary::start(command);
    (child, url)
}

/// Runs the binary on `dir` expecting it to refuse to start: (exit code, stderr).
fn refused(dir: &Path) -> (Option<i32>, String) {
    let out = Command::new(BIN)
        .args(["--port", "0", "--state-dir"])
        .arg(dir)
        .stdin(Stdio::null())
        .output()
        .expect("runs");
    assert!(out.stdout.is_empty(), "no ready line");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn rename(url: &str, name: &str) {
    let got = reqwest::blocking::Client::new()
        .put(format!("{url}/aries/api/v1/image"))
        .bearer_auth(TOKEN)
        .body(json!({"id": 1, "name": name}).to_string())
        .send()
        .expect("sent");
    assert_eq!(got.status(), 200);
}

fn name_of_image_1(url: &str) -> Value {
    let got: Value = reqwest::blocking::Client::new()
        .get(format!("{url}/aries/api/v1/image/1"))
        .bearer_auth(TOKEN)
        .send()
        .expect("sent")
        .json()
        .expect("JSON");
    got["name"].clone()
}

#[test]
fn sigterm_writes_the_final_snapshot_and_a_torn_last_line_is_skipped_with_a_warning() {
    let dir = scratch("torn");
    let (mut child, url) = spawn(&dir);
    rename(&url, "before-term");
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill")
        .success());
    assert_eq!(child.wait().expect("exits").code(), Some(0));
    // The final snapshot holds the change; its log holds only the header.
    let log = current_log(&dir);
    let text = std::fs::read_to_string(&log).expect("log");
    assert_eq!(text.lines().count(), 1, "{text}");
    let snapshot = dir.join(
        log.file_name()
            .unwrap()
            .to_string_lossy()
            .replace("log-", "snapshot-")
            .replace(".jsonl", ".json"),
    );
    assert!(std::fs::read_to_string(snapshot)
        .expect("snapshot")
        .contains("before-term"));

    // A crash in the middle of appending leaves half a line: skipped, with a warning.
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .expect("log");
    file.write_all(br#"{"seq":1,"vendor":"aries","delta":{"tenants":{"admin":"#)
        .expect("write");
    drop(file);
    let (mut child, url) = spawn(&dir);
    assert_eq!(name_of_image_1(&url), "before-term");
    child.kill().expect("kill");
    let mut stderr = String::new();
    let _ = child
        .0
        .stderr
        .take()
        .map(|mut e| e.read_to_string(&mut stderr));
    assert!(
        stderr.contains("torn last line") && stderr.contains(&*log.to_string_lossy()),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn damage_is_refused_naming_the_file_and_a_directory_in_use_is_refused() {
    let dir = scratch("damage");
    let (child, url) = spawn(&dir);
    rename(&url, "first");
    // A second emulator on the same directory.
    let (code, stderr) = refused(&dir);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("in use by another imgemu"), "{stderr}");
    rename(&url, "second");
    drop(child);

    // Damage before the last line of the log: refused, naming the file and the line.
    let log = current_log(&dir);
    let text = std::fs::read_to_string(&log).expect("log");
    let mut lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "header and two records: {text}");
    lines[1] = "{not json";
    std::fs::write(&log, lines.join("\n") + "\n").expect("write");
    let (code, stderr) = refused(&dir);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&*log.to_string_lossy()) && stderr.contains("corrupt log: line 2"),
        "{stderr}"
    );
    std::fs::write(&log, text).expect("restore");

    // A corrupt snapshot: refused, naming it, never silently replaced by the fixtures.
    let snapshot = dir.join(
        files(&dir)
            .into_iter()
            .find(|n| n.starts_with("snapshot-"))
            .expect("snapshot"),
    );
    let good = std::fs::read(&snapshot).expect("snapshot");
    std::fs::write(&snapshot, &good[..good.len() / 2]).expect("truncate");
    let (code, stderr) = refused(&dir);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&*snapshot.to_string_lossy()) && stderr.contains("corrupt snapshot"),
        "{stderr}"
    );
    // A valid JSON document that is not a valid state: refused with the JSON path.
    std::fs::write(&snapshot, br#"{"format":"imgemu-state","version":9}"#).expect("write");
    let (code, stderr) = refused(&dir);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("$.version: unsupported version 9"),
        "{stderr}"
    );

    // Repaired: everything acknowledged is back.
    std::fs::write(&snapshot, &good).expect("restore");
    let (_child, url) = spawn(&dir);
    assert_eq!(name_of_image_1(&url), "second");
    let _ = std::fs::remove_dir_all(&dir);
}

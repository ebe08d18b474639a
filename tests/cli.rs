//! The `imgemu` binary: ready line, serving, graceful exit on SIGTERM, and one-line errors naming
//! the key (exit code 2) for bad flags, environment variables, config files and fixtures.

use std::process::{Command, Stdio};

#[path = "common/binary.rs"]
mod binary;

use binary::{Running, BIN};

/// Runs the binary expecting it to fail at once; returns (exit code, stderr).
fn fails(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let out = Command::new(BIN)
        .args(args)
        .envs(env.iter().copied())
        .env_remove("IMGEMU_AUTH")
        .stdin(Stdio::null())
        .output()
        .expect("binary runs");
    assert!(out.stdout.is_empty(), "no ready line on failure");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_one_line_error(stderr: &str, must_contain: &[&str]) {
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr:?}");
    assert!(stderr.starts_with("imgemu: error: "), "{stderr}");
    for needle in must_contain {
        assert!(
            stderr.contains(needle),
            "{needle:?} missing from {stderr:?}"
        );
    }
}

#[test]
fn bad_flags_and_env_give_one_line_and_exit_2() {
    let (code, err) = fails(&["--auth", "loose", "--port", "0"], &[]);
    assert_eq!(code, Some(2));
    assert_one_line_error(&err, &["--auth", "off, lenient or strict"]);
    let (code, err) = fails(&["--port", "0"], &[("IMGEMU_TRANSITION", "sometimes")]);
    assert_eq!(code, Some(2));
    assert_one_line_error(&err, &["IMGEMU_TRANSITION", "polls:N"]);
    let (code, err) = fails(&["--port", "99999"], &[]);
    assert_eq!(code, Some(2));
    assert_one_line_error(&err, &["--port", "0..=65535"]);
    let (code, err) = fails(&["--port", "0", "--max-connections", "0"], &[]);
    assert_eq!(code, Some(2));
    assert_one_line_error(&err, &["--max-connections", ">= 1"]);
    let (code, err) = fails(&["--colour", "red"], &[]);
    assert_eq!(code, Some(2));
    assert_one_line_error(&err, &["--colour"]);
    let (code, err) = fails(&["--fixtures", "/no/such/dir", "--port", "0"], &[]);
    assert_eq!(code, Some(2));
    assert_one_line_error(&err, &["--fixtures", "not a directory"]);
}

#[test]
fn config_file_errors_name_the_file_and_key() {
    let dir = std::env::temp_dir().join(format!("imgemu-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("imgemu.toml");
    std::fs::write(&file, "port = 0\nquotas = \"sometimes\"\n").unwrap();
    let (code, err) = fails(&["--config", file.to_str().unwrap()], &[]);
    assert_eq!(code, Some(2));
    assert_one_line_error(&err, &["imgemu.toml: quotas", "on or off"]);
    std::fs::write(&file, "port = 0\ncolour = 1\n").unwrap();
    let (_, err) = fails(&["--config", file.to_str().unwrap()], &[]);
    assert_one_line_error(&err, &["imgemu.toml: colour", "unknown key"]);
    std::fs::write(&file, "port = 0\n[aries]\nturbo = true\n").unwrap();
    let (code, err) = fails(&["--config", file.to_str().unwrap()], &[]);
    assert_eq!(code, Some(2));
    assert_one_line_error(&err, &["imgemu.toml", "aries.turbo"]);
    std::fs::write(&file, "port = \n").unwrap();
    let (code, err) = fails(&["--config", file.to_str().unwrap()], &[]);
    assert_eq!(code, Some(2));
    assert_one_line_error(&err, &["imgemu.toml", "invalid TOML"]);
    let fixtures = dir.join("fx");
    std::fs::create_dir_all(&fixtures).unwrap();
    std::fs::write(
        fixtures.join("bad.json"),
        r#"{"format":"imgemu-state","version":1,"aries":{"next_id":"x"}}"#,
    )
    .unwrap();
    let (code, err) = fails(
        &["--port", "0", "--fixtures", fixtures.to_str().unwrap()],
        &[],
    );
    assert_eq!(code, Some(2));
    assert_one_line_error(&err, &["bad.json", "$.aries.next_id"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A child process that is killed if a test panics before terminating it.
/// Starts the binary quietly; returns the child, its base URL and the ready line.
fn start(args: &[&str]) -> (Running, String, String) {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env("IMGEMU_LOG_LEVEL", "warn")
        .stderr(Stdio::null());
    binary::start(command)
}

fn terminate(child: &mut Running) -> Option<i32> {
    let pid = child.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    child.wait().expect("exits").code()
}

#[test]
fn serves_with_default_fixtures_and_exits_0_on_sigterm() {
    let (mut child, url, line) = start(&["--port", "0"]);
    assert!(
        line.contains("vendors=jd,aliyun,huawei,aries") && line.contains("auth=lenient"),
        "{line}"
    );
    let http = reqwest::blocking::Client::new();
    let health: serde_json::Value = http
        .get(format!("{url}/_imgemu/health"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(health["status"], "ok");
    let image: serde_json::Value = http
        .get(format!("{url}/aries/api/v1/image/1"))
        .bearer_auth("imgemu-dev-token")
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(image["source_path"], "/path/to/image/file.iso");
    assert_eq!(terminate(&mut child), Some(0));
}

#[test]
fn serve_subcommand_config_file_and_env_layers() {
    let dir = std::env::temp_dir().join(format!("imgemu-cli-ok-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("imgemu.toml");
    std::fs::write(
        &file,
        "port = 0\nauth = \"strict\"\nfixtures = \"none\"\n[aries]\n",
    )
    .unwrap();
    let (mut child, url, line) = start(&["serve", "--config", file.to_str().unwrap()]);
    assert!(line.contains("auth=strict"), "{line}");
    let http = reqwest::blocking::Client::new();
    let list = http
        .get(format!("{url}/aries/api/v1/image/list"))
        .bearer_auth("imgemu-dev-token")
        .send()
        .unwrap();
    assert_eq!(list.text().unwrap(), "[]", "fixtures = none");
    assert_eq!(terminate(&mut child), Some(0));
    // Flags win over the file.
    let (mut child, _, line) =
        start(&["serve", "--config", file.to_str().unwrap(), "--auth", "off"]);
    assert!(line.contains("auth=off"), "{line}");
    assert_eq!(terminate(&mut child), Some(0));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn fault_rules_load_from_a_file_at_start() {
    let dir = std::env::temp_dir().join(format!("imgemu-cli-faults-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("faults.json");
    std::fs::write(
        &file,
        r#"[{"id":"boom","match":{"vendor":"aries","operation":"DescribeImage"},"action":{"kind":"error","code":"InternalError"}}]"#,
    )
    .unwrap();
    let (mut child, url, _) = start(&["--port", "0", "--faults", file.to_str().unwrap()]);
    let http = reqwest::blocking::Client::new();
    let rules: serde_json::Value = http
        .get(format!("{url}/_imgemu/faults"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(rules[0]["id"], "boom");
    let got = http
        .get(format!("{url}/aries/api/v1/image/1"))
        .bearer_auth("imgemu-dev-token")
        .send()
        .unwrap();
    assert_eq!(got.status(), 500);
    assert_eq!(terminate(&mut child), Some(0));
    // A bad rule stops the start with one line naming the file and the JSON path.
    std::fs::write(
        &file,
        r#"[{"match":{"vendor":"aries"},"action":{"kind":"error","code":"Nope"}}]"#,
    )
    .unwrap();
    let (code, err) = fails(&["--port", "0", "--faults", file.to_str().unwrap()], &[]);
    assert_eq!(code, Some(2));
    assert_one_line_error(&err, &["faults.json", "$[0].action.code", "InternalError"]);
    let (code, err) = fails(&["--port", "0", "--faults", "/no/such/file.json"], &[]);
    assert_eq!(code, Some(2));
    assert_one_line_error(&err, &["--faults", "not a file"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

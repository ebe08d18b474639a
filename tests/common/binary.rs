//! The `imgemu` binary as a child process: start it, read the URL from its ready line, and kill
//! it when the handle is dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// Path of the binary Cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_imgemu");

/// A running binary; SIGKILLed and reaped on drop if still running.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

impl std::ops::Deref for Running {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

/// Starts `command` (stdout piped) and returns it with its base URL and ready line.
pub fn start(mut command: Command) -> (Running, String, String) {
    let child = command
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn imgemu");
    let mut child = Running(child);
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("ready line");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in the ready line {line:?}"))
        .to_string();
    (child, url, line)
}

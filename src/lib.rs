//! # imgemu
//!
//! A local emulator of four cloud image APIs — JD Cloud NeuHub image search, Alibaba Cloud Image
//! Search 2020-12-14, Huawei Cloud IMS and the Aries v1 image API — served by one HTTP server, for
//! integration tests of client code, local development without cloud credentials, and
//! fault-injection harnesses.
//!
//! This crate is both the `imgemu` binary and a library: start an isolated emulator per test, on a
//! random port, and point the vendor's client at [`Emulator::url`].
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use imgemu::{Emulator, TransitionPolicy};
//!
//! let emu = Emulator::builder()
//!     .manual_clock()                         // frozen at 2026-01-01T00:00:00Z
//!     .transition(TransitionPolicy::Polls(1))
//!     .seed(42)
//!     .start()
//!     .await?;
//! let client = reqwest::Client::new();
//! emu.clock().advance(Duration::from_secs(30))?;
//! let updated: serde_json::Value = client
//!     .put(format!("{}/aries/api/v1/image", emu.url()))
//!     .bearer_auth("imgemu-dev-token")
//!     .body(r#"{"id":1,"description":"patched"}"#)
//!     .send().await?
//!     .json().await?;
//! assert_eq!(updated["updated_at"], "2026-01-01T00:00:30Z");
//! emu.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! The code map is in `docs/ARCHITECTURE.md`; the control plane in `docs/control-plane.md`.

#![deny(missing_docs)]

pub mod auth;
pub mod clock;
pub mod config;
pub(crate) mod control;
pub mod credentials;
pub mod duration;
pub mod emulator;
pub mod faults;
pub mod fixtures;
pub(crate) mod ids;
pub mod instance;
pub mod journal;
mod json_out;
pub mod lifecycle;
pub mod logging;
pub mod persist;
pub(crate) mod pipeline;
pub mod quota;
pub mod replay;
pub mod reply;
pub mod server;
pub mod settings;
mod signing;
pub mod similarity;
pub mod state;
pub mod tenants;
pub mod vendor;
pub mod vendors;

pub use auth::{AuthMode, Tenant};
pub use clock::Clock;
pub use emulator::{BlockingEmulator, Emulator, EmulatorBuilder, StartError};
pub use faults::FaultRule;
pub use fixtures::Fixtures;
pub use lifecycle::TransitionPolicy;

//! Run-time settings: the switches of the config file that can change while the emulator runs
//! (`GET/PUT /_imgemu/settings`). Settings are configuration, not state: reset keeps them.

use parking_lot::RwLock;

use crate::auth::AuthMode;
use crate::lifecycle::TransitionPolicy;

/// The cross-vendor settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Credential checking.
    pub auth: AuthMode,
    /// When async tasks and jobs finish.
    pub transition: TransitionPolicy,
    /// Whether rate limits, daily quotas and capacity limits apply.
    pub quotas: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            auth: AuthMode::Lenient,
            transition: TransitionPolicy::default(),
            quotas: true,
        }
    }
}

/// A settings cell shared by the pipeline, the control plane and the in-process handle.
#[derive(Debug, Default)]
pub struct SettingsCell {
    current: RwLock<Settings>,
}

impl SettingsCell {
    /// A cell holding `settings`.
    pub fn new(settings: Settings) -> Self {
        SettingsCell {
            current: RwLock::new(settings),
        }
    }

    /// A copy of the current settings.
    pub fn get(&self) -> Settings {
        *self.current.read()
    }

    /// Changes the settings in place.
    pub fn update(&self, change: impl FnOnce(&mut Settings)) {
        change(&mut self.current.write());
    }
}

/// Parses `on`/`off` (also `true`/`false`) for the `quotas` switch.
pub fn parse_on_off(text: &str) -> Option<bool> {
    match text {
        "on" | "true" => Some(true),
        "off" | "false" => Some(false),
        _ => None,
    }
}

/// Renders a boolean switch as `on`/`off`.
pub fn on_off(value: bool) -> &'static str {
    if value {
        "on"
    } else {
        "off"
    }
}

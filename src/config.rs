//! Configuration of the `imgemu` binary: defaults, an optional TOML file, `IMGEMU_*` environment
//! variables and flags, in increasing precedence. Every value is validated in one place, and an
//! error names the key as the user wrote it (`--auth`, `IMGEMU_AUTH` or `imgemu.toml: auth`).

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::auth::AuthMode;
use crate::emulator::EmulatorBuilder;
use crate::fixtures::Fixtures;
use crate::lifecycle::TransitionPolicy;
use crate::settings::parse_on_off;

/// Default port of the binary.
pub const DEFAULT_PORT: u16 = 9650;

/// A configuration value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct ConfigError {
    /// The key as the user wrote it.
    pub key: String,
    /// What is wrong and what is accepted.
    pub message: String,
}

impl ConfigError {
    fn new(key: &str, message: impl Into<String>) -> Self {
        ConfigError {
            key: key.to_string(),
            message: message.into(),
        }
    }
}

/// One raw value and the name of the key it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raw {
    /// The value as text.
    pub value: String,
    /// Where it came from, for error messages.
    pub key: String,
}

impl Raw {
    /// A value from `key`.
    pub fn new(value: impl Into<String>, key: impl Into<String>) -> Self {
        Raw {
            value: value.into(),
            key: key.into(),
        }
    }
}

/// Unvalidated configuration from one source; `None` = not set there.
#[derive(Debug, Clone, Default)]
pub struct RawConfig {
    /// `host`
    pub host: Option<Raw>,
    /// `port`
    pub port: Option<Raw>,
    /// `fixtures`: a directory or `none`
    pub fixtures: Option<Raw>,
    /// `auth`
    pub auth: Option<Raw>,
    /// `transition`
    pub transition: Option<Raw>,
    /// `seed`
    pub seed: Option<Raw>,
    /// `quotas`
    pub quotas: Option<Raw>,
    /// `log_format`
    pub log_format: Option<Raw>,
    /// `log_level`
    pub log_level: Option<Raw>,
    /// `admin_token`
    pub admin_token: Option<Raw>,
    /// `faults`: a JSON file of fault rules loaded at start
    pub faults: Option<Raw>,
    /// `max_connections`
    pub max_connections: Option<Raw>,
    /// `state_dir`: where state is kept across restarts
    pub state_dir: Option<Raw>,
    /// Vendor tables (`[jd]`, `[aries]`, ...), as JSON.
    pub vendors: Map<String, Value>,
    /// The file vendor tables came from, for error messages.
    pub vendors_source: Option<String>,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Validated configuration of the binary.
#[derive(Debug, Clone)]
pub struct Config {
    /// Interface to bind.
    pub host: String,
    /// Port to bind (0 = any).
    pub port: u16,
    /// Fixtures to load.
    pub fixtures: Fixtures,
    /// Auth mode.
    pub auth: AuthMode,
    /// Transition policy.
    pub transition: TransitionPolicy,
    /// Seed.
    pub seed: u64,
    /// Quotas on/off.
    pub quotas: bool,
    /// Log format.
    pub log_format: LogFormat,
    /// Log level filter (`error`, `warn`, `info`, `debug`, `trace`, `off`).
    pub log_level: String,
    /// Control-plane token.
    pub admin_token: Option<String>,
    /// Fault rules file loaded at start.
    pub faults: Option<PathBuf>,
    /// Most connections served at once.
    pub max_connections: usize,
    /// Directory that keeps the state across restarts (`None` = memory only).
    pub state_dir: Option<PathBuf>,
    /// Vendor switches (`{"jd":{..}}`).
    pub vendors: Map<String, Value>,
    /// The config file the vendor switches came from, for error messages.
    pub vendors_source: Option<String>,
}

const TOP_LEVEL_KEYS: &str =
    "host, port, fixtures, auth, transition, seed, quotas, log_format, log_level, admin_token, faults, max_connections, state_dir or a vendor table";

impl RawConfig {
    /// Reads a TOML config file.
    pub fn from_toml_file(path: &Path) -> Result<RawConfig, ConfigError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new("--config", format!("cannot read {name}: {e}")))?;
        RawConfig::from_toml(&name, &text)
    }

    /// Parses TOML text; `name` names the file in errors.
    pub fn from_toml(name: &str, text: &str) -> Result<RawConfig, ConfigError> {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            let message = e.message().replace('\n', " ");
            ConfigError::new(name, format!("invalid TOML: {message}"))
        })?;
        let mut raw = RawConfig {
            vendors_source: Some(name.to_string()),
            ..RawConfig::default()
        };
        for (key, value) in table {
            let label = format!("{name}: {key}");
            let scalar = || -> Result<Raw, ConfigError> {
                match &value {
                    toml::Value::String(s) => Ok(Raw::new(s.clone(), &label)),
                    toml::Value::Integer(i) => Ok(Raw::new(i.to_string(), &label)),
                    toml::Value::Boolean(b) => Ok(Raw::new(b.to_string(), &label)),
                    other => Err(ConfigError::new(
                        &label,
                        format!(
                            "expected a string, number or boolean, found {}",
                            other.type_str()
                        ),
                    )),
                }
            };
            let slot = match key.as_str() {
                "host" => &mut raw.host,
                "port" => &mut raw.port,
                "fixtures" => &mut raw.fixtures,
                "auth" => &mut raw.auth,
                "transition" => &mut raw.transition,
                "seed" => &mut raw.seed,
                "quotas" => &mut raw.quotas,
                "log_format" => &mut raw.log_format,
                "log_level" => &mut raw.log_level,
                "admin_token" => &mut raw.admin_token,
                "faults" => &mut raw.faults,
                "max_connections" => &mut raw.max_connections,
                "state_dir" => &mut raw.state_dir,
                _ => {
                    let toml::Value::Table(vendor_table) = &value else {
                        return Err(ConfigError::new(
                            &label,
                            format!("unknown key; expected {TOP_LEVEL_KEYS}"),
                        ));
                    };
                    let json = serde_json::to_value(vendor_table)
                        .map_err(|e| ConfigError::new(&label, e.to_string()))?;
                    raw.vendors.insert(key.clone(), json);
                    continue;
                }
            };
            *slot = Some(scalar()?);
        }
        Ok(raw)
    }

    /// This configuration with every value set in `over` replaced by it.
    pub fn overlay(mut self, over: RawConfig) -> RawConfig {
        macro_rules! take {
            ($($f:ident),*) => { $( if over.$f.is_some() { self.$f = over.$f; } )* };
        }
        take!(
            host,
            port,
            fixtures,
            auth,
            transition,
            seed,
            quotas,
            log_format,
            log_level,
            admin_token,
            faults,
            max_connections,
            state_dir
        );
        if !over.vendors.is_empty() {
            self.vendors.extend(over.vendors);
            self.vendors_source = over.vendors_source;
        }
        self
    }

    /// Validates every value.
    pub fn resolve(self) -> Result<Config, ConfigError> {
        fn parse<T>(
            raw: &Option<Raw>,
            default: T,
            f: impl Fn(&str) -> Result<T, String>,
        ) -> Result<T, ConfigError> {
            match raw {
                None => Ok(default),
                Some(r) => f(&r.value).map_err(|m| ConfigError::new(&r.key, m)),
            }
        }
        let host = parse(&self.host, "127.0.0.1".to_string(), |v| {
            if v.is_empty() {
                Err("expected a host name or IP address".into())
            } else {
                Ok(v.to_string())
            }
        })?;
        let port = parse(&self.port, DEFAULT_PORT, |v| {
            v.parse::<u16>().map_err(|_| {
                format!("invalid value {v:?}; expected a port number 0..=65535 (0 = any free port)")
            })
        })?;
        let fixtures = parse(&self.fixtures, Fixtures::Default, |v| match v {
            "none" => Ok(Fixtures::None),
            "default" => Ok(Fixtures::Default),
            "" => Err("expected a directory, default or none".into()),
            dir if Path::new(dir).is_dir() => Ok(Fixtures::Dir(PathBuf::from(dir))),
            dir => Err(format!(
                "{dir:?} is not a directory; expected a directory, default or none"
            )),
        })?;
        let auth = parse(&self.auth, AuthMode::Lenient, |v| {
            v.parse::<AuthMode>()
                .map_err(|_| format!("invalid value {v:?}; expected off, lenient or strict"))
        })?;
        let transition = parse(&self.transition, TransitionPolicy::default(), |v| {
            v.parse::<TransitionPolicy>().map_err(|_| {
                format!(
                    "invalid value {v:?}; expected immediate, polls:N or time:DUR (e.g. time:5s)"
                )
            })
        })?;
        let seed = parse(&self.seed, 0, |v| {
            v.parse::<u64>()
                .map_err(|_| format!("invalid value {v:?}; expected a non-negative integer"))
        })?;
        let quotas = parse(&self.quotas, true, |v| {
            parse_on_off(v).ok_or_else(|| format!("invalid value {v:?}; expected on or off"))
        })?;
        let log_format = parse(&self.log_format, LogFormat::Pretty, |v| match v {
            "pretty" => Ok(LogFormat::Pretty),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!("invalid value {v:?}; expected pretty or json")),
        })?;
        let log_level = parse(&self.log_level, "info".to_string(), |v| match v {
            "error" | "warn" | "info" | "debug" | "trace" | "off" => Ok(v.to_string()),
            _ => Err(format!(
                "invalid value {v:?}; expected error, warn, info, debug, trace or off"
            )),
        })?;
        let admin_token = parse(&self.admin_token, None, |v| {
            if v.is_empty() {
                Err("must not be empty".into())
            } else {
                Ok(Some(v.to_string()))
            }
        })?;
        let faults = parse(&self.faults, None, |v| {
            if Path::new(v).is_file() {
                Ok(Some(PathBuf::from(v)))
            } else {
                Err(format!(
                    "{v:?} is not a file; expected a JSON file of fault rules"
                ))
            }
        })?;
        let max_connections = parse(
            &self.max_connections,
            crate::server::ServerLimits::default().max_connections,
            |v| {
                v.parse::<usize>()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| format!("invalid value {v:?}; expected an integer >= 1"))
            },
        )?;
        let state_dir = parse(&self.state_dir, None, |v| {
            let path = Path::new(v);
            if v.is_empty() {
                Err("must not be empty".into())
            } else if path.exists() && !path.is_dir() {
                Err(format!("{v:?} is not a directory"))
            } else {
                Ok(Some(PathBuf::from(v)))
            }
        })?;
        Ok(Config {
            faults,
            max_connections,
            state_dir,
            host,
            port,
            fixtures,
            auth,
            transition,
            seed,
            quotas,
            log_format,
            log_level,
            admin_token,
            vendors: self.vendors,
            vendors_source: self.vendors_source,
        })
    }
}

impl Config {
    /// An emulator builder with this configuration.
    pub fn builder(&self) -> EmulatorBuilder {
        let mut builder = EmulatorBuilder::default()
            .host(self.host.clone())
            .port(self.port)
            .fixtures(self.fixtures.clone())
            .auth_mode(self.auth)
            .transition(self.transition)
            .seed(self.seed)
            .quotas(self.quotas)
            .limits(crate::server::ServerLimits {
                max_connections: self.max_connections,
                ..crate::server::ServerLimits::default()
            });
        if let Some(token) = &self.admin_token {
            builder = builder.admin_token(token.clone());
        }
        if let Some(path) = &self.faults {
            builder = builder.faults_file(path.clone());
        }
        if let Some(dir) = &self.state_dir {
            builder = builder.state_dir(dir.clone());
        }
        if !self.vendors.is_empty() {
            let source = self.vendors_source.as_deref().unwrap_or("config");
            builder = builder.vendor_settings(Value::Object(self.vendors.clone()), source);
        }
        builder
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let c = RawConfig::default().resolve().unwrap();
        assert_eq!(
            (c.host.as_str(), c.port, c.auth, c.seed, c.quotas),
            ("127.0.0.1", 9650, AuthMode::Lenient, 0, true)
        );
        assert_eq!(c.transition, TransitionPolicy::Polls(1));
        assert_eq!(c.fixtures, Fixtures::Default);
    }

    #[test]
    fn toml_then_overlay() {
        let file = RawConfig::from_toml(
            "imgemu.toml",
            "port = 0\nauth = \"strict\"\nquotas = false\n[aries]\n",
        )
        .unwrap();
        let flags = RawConfig {
            auth: Some(Raw::new("off", "--auth")),
            ..RawConfig::default()
        };
        let c = file.overlay(flags).resolve().unwrap();
        assert_eq!((c.port, c.auth, c.quotas), (0, AuthMode::Off, false));
        assert!(c.vendors.contains_key("aries"));
    }

    #[test]
    fn errors_name_the_key() {
        let e = RawConfig::from_toml("imgemu.toml", "auth = \"loose\"")
            .unwrap()
            .resolve()
            .unwrap_err();
        assert_eq!(e.key, "imgemu.toml: auth");
        assert!(e.message.contains("off, lenient or strict"));
        let e = RawConfig::from_toml("imgemu.toml", "colour = 3").unwrap_err();
        assert_eq!(e.key, "imgemu.toml: colour");
        let e = RawConfig {
            transition: Some(Raw::new("sometimes", "IMGEMU_TRANSITION")),
            ..RawConfig::default()
        }
        .resolve()
        .unwrap_err();
        assert_eq!(e.to_string().lines().count(), 1);
        assert!(e.to_string().starts_with("IMGEMU_TRANSITION: "));
    }
}

//! The resource configuration file (TOML): which resources exist, their
//! capacities and the scheduling rules. Every key has a documented default
//! (see `coordinator/README.md`); unknown keys and impossible values are
//! refused at start with a message naming the key.

use std::{path::Path, time::Duration};

use serde::Deserialize;

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    path: String,
    message: String,
    kind: ConfigErrorKind,
}

/// What kind of problem a [`ConfigError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigErrorKind {
    /// The file could not be read.
    Unreadable,
    /// Not TOML, an unknown key, or a value of the wrong type.
    Syntax,
    /// A well-formed value that cannot work (zero capacity, say).
    Impossible,
}

impl ConfigError {
    /// What kind of problem it is.
    pub fn kind(&self) -> ConfigErrorKind {
        self.kind
    }

    fn impossible(key: &str, message: impl Into<String>) -> Self {
        Self {
            path: key.to_owned(),
            message: message.into(),
            kind: ConfigErrorKind::Impossible,
        }
    }
}

/// The whole configuration, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourcesConfig {
    /// How waiting requests are ordered and how long leases may be.
    pub scheduling: Scheduling,
    /// GPU devices; none when the machine has none.
    pub gpu: Option<Gpu>,
    /// The memory budget in bytes.
    pub memory_budget: u64,
    /// The Claude API call quota.
    pub claude_api: ClaudeApi,
    /// CPU cores handed out.
    pub cpu_cores: u64,
}

/// Scheduling rules.
#[derive(Debug, Clone, PartialEq)]
pub struct Scheduling {
    /// A waiting request rises one priority level per step waited.
    pub aging_step: Duration,
    /// Longest lease duration a request may ask for.
    pub max_lease_duration: Duration,
    /// Longest wait a request may ask for.
    pub max_wait: Duration,
}

/// The GPUs.
#[derive(Debug, Clone, PartialEq)]
pub struct Gpu {
    /// Each device's memory in bytes.
    pub devices: Vec<GpuDevice>,
    /// How long one lease on GPU time lasts before the device goes to the
    /// next waiting holder.
    pub time_slice: Duration,
}

/// One GPU.
#[derive(Debug, Clone, PartialEq)]
pub struct GpuDevice {
    /// Its name, for status.
    pub name: String,
    /// Its memory in bytes.
    pub memory: u64,
}

/// The Claude API quota (a GCRA rate limit).
#[derive(Debug, Clone, PartialEq)]
pub struct ClaudeApi {
    /// Calls allowed per hour, evenly replenished (one every hour / N).
    pub calls_per_hour: u64,
    /// Calls that may be made back to back when none were made for a while.
    pub burst: u64,
    /// Of the burst, calls only HIGH requests may use.
    pub high_reserve: u64,
}

impl Default for ResourcesConfig {
    fn default() -> Self {
        Self::from_raw(Raw::default()).expect("the defaults are valid")
    }
}

impl ResourcesConfig {
    /// Reads and validates the file at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            path: path.display().to_string(),
            message: format!("cannot read: {e}"),
            kind: ConfigErrorKind::Unreadable,
        })?;
        Self::parse(&text).map_err(|mut e| {
            e.path = format!("{}: {}", path.display(), e.path);
            e
        })
    }

    /// Parses and validates TOML text.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let raw: Raw = toml::from_str(text).map_err(|e| ConfigError {
            path: "config".to_owned(),
            message: e.message().to_owned()
                + &e.span()
                    .map(|span| format!(" (at {})", line_col(text, span.start)))
                    .unwrap_or_default(),
            kind: ConfigErrorKind::Syntax,
        })?;
        Self::from_raw(raw)
    }

    fn from_raw(raw: Raw) -> Result<Self, ConfigError> {
        let scheduling = Scheduling {
            aging_step: positive("scheduling.aging_step", raw.scheduling.aging_step)?,
            max_lease_duration: positive(
                "scheduling.max_lease_duration",
                raw.scheduling.max_lease_duration,
            )?,
            max_wait: raw.scheduling.max_wait.0,
        };
        if scheduling.max_lease_duration > MAX_DURATION {
            return Err(ConfigError::impossible(
                "scheduling.max_lease_duration",
                "must be at most 365 days",
            ));
        }
        if scheduling.max_wait > MAX_DURATION {
            return Err(ConfigError::impossible(
                "scheduling.max_wait",
                "must be at most 365 days",
            ));
        }
        let gpu = match raw.gpu {
            None => None,
            Some(gpu) => {
                if gpu.devices.is_empty() {
                    return Err(ConfigError::impossible(
                        "gpu.devices",
                        "must list at least one device (leave out [gpu] on a machine without one)",
                    ));
                }
                let mut devices = Vec::new();
                for (i, device) in gpu.devices.into_iter().enumerate() {
                    if device.memory.0 == 0 {
                        return Err(ConfigError::impossible(
                            &format!("gpu.devices[{i}].memory"),
                            "must be more than zero",
                        ));
                    }
                    devices.push(GpuDevice {
                        name: device.name.unwrap_or_else(|| format!("gpu{i}")),
                        memory: device.memory.0,
                    });
                }
                Some(Gpu {
                    devices,
                    time_slice: positive("gpu.time_slice", gpu.time_slice)?,
                })
            }
        };
        if raw.memory.budget.0 == 0 {
            return Err(ConfigError::impossible(
                "memory.budget",
                "must be more than zero",
            ));
        }
        let claude = raw.claude_api;
        if claude.calls_per_hour == 0 {
            return Err(ConfigError::impossible(
                "claude_api.calls_per_hour",
                "must be more than zero",
            ));
        }
        // One call per nanosecond at most, so the emission interval is whole.
        if claude.calls_per_hour > 3_600_000_000 {
            return Err(ConfigError::impossible(
                "claude_api.calls_per_hour",
                "must be at most 3600000000",
            ));
        }
        let burst = claude.burst.unwrap_or(claude.calls_per_hour);
        if burst == 0 || burst > claude.calls_per_hour {
            return Err(ConfigError::impossible(
                "claude_api.burst",
                format!(
                    "must be between 1 and calls_per_hour ({})",
                    claude.calls_per_hour
                ),
            ));
        }
        let high_reserve = claude.high_reserve.unwrap_or(burst / 10);
        if high_reserve >= burst {
            return Err(ConfigError::impossible(
                "claude_api.high_reserve",
                format!("must be less than the burst ({burst})"),
            ));
        }
        let cpu_cores = match raw.cpu.cores {
            Some(0) => {
                return Err(ConfigError::impossible(
                    "cpu.cores",
                    "must be more than zero",
                ));
            }
            Some(cores) => cores,
            None => std::thread::available_parallelism().map_or(1, |n| n.get() as u64),
        };
        Ok(Self {
            scheduling,
            gpu,
            memory_budget: raw.memory.budget.0,
            claude_api: ClaudeApi {
                calls_per_hour: claude.calls_per_hour,
                burst,
                high_reserve,
            },
            cpu_cores,
        })
    }
}

/// The longest lease or wait any configuration may allow.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

fn positive(key: &str, d: HumanDuration) -> Result<Duration, ConfigError> {
    if d.0.is_zero() {
        return Err(ConfigError::impossible(key, "must be longer than zero"));
    }
    Ok(d.0)
}

fn line_col(text: &str, offset: usize) -> String {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    format!("line {line}, column {col}")
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    scheduling: RawScheduling,
    gpu: Option<RawGpu>,
    #[serde(default)]
    memory: RawMemory,
    #[serde(default)]
    claude_api: RawClaude,
    #[serde(default)]
    cpu: RawCpu,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawScheduling {
    aging_step: HumanDuration,
    max_lease_duration: HumanDuration,
    max_wait: HumanDuration,
}

impl Default for RawScheduling {
    fn default() -> Self {
        Self {
            aging_step: HumanDuration(Duration::from_secs(10)),
            max_lease_duration: HumanDuration(Duration::from_secs(24 * 3600)),
            max_wait: HumanDuration(Duration::from_secs(600)),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGpu {
    devices: Vec<RawDevice>,
    #[serde(default = "default_time_slice")]
    time_slice: HumanDuration,
}

fn default_time_slice() -> HumanDuration {
    HumanDuration(Duration::from_millis(100))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDevice {
    name: Option<String>,
    memory: ByteSize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawMemory {
    budget: ByteSize,
}

impl Default for RawMemory {
    fn default() -> Self {
        Self {
            budget: ByteSize(32 * GIB),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawClaude {
    calls_per_hour: u64,
    burst: Option<u64>,
    high_reserve: Option<u64>,
}

impl Default for RawClaude {
    fn default() -> Self {
        Self {
            calls_per_hour: 100,
            burst: None,
            high_reserve: None,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCpu {
    cores: Option<u64>,
}

const GIB: u64 = 1024 * 1024 * 1024;

/// A duration written as `100ms`, `10s`, `24h`.
#[derive(Debug, Clone, Copy)]
struct HumanDuration(Duration);

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        humantime::parse_duration(&raw)
            .map(HumanDuration)
            .map_err(|e| serde::de::Error::custom(format!("{raw:?} is not a duration: {e}")))
    }
}

/// A size in bytes: an integer, or a string such as `32GiB`, `500MB`, `512 KiB`.
#[derive(Debug, Clone, Copy)]
struct ByteSize(u64);

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Bytes(u64),
            Text(String),
        }
        match Either::deserialize(d) {
            Ok(Either::Bytes(n)) => Ok(ByteSize(n)),
            Ok(Either::Text(text)) => parse_bytes(&text)
                .map(ByteSize)
                .map_err(serde::de::Error::custom),
            Err(_) => Err(serde::de::Error::custom(
                "expected a size in bytes: a non-negative integer or a string like \"32GiB\"",
            )),
        }
    }
}

/// Parses `<number>[ ]<unit>`: B, KB/MB/GB/TB (powers of 1000), KiB/MiB/GiB/TiB
/// (powers of 1024); a bare number is bytes.
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size (e.g. \"32GiB\")"))?;
    let multiplier: u64 = match unit.trim() {
        "" | "B" => 1,
        "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "TB" => 1_000_000_000_000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "TiB" => 1 << 40,
        other => {
            return Err(format!(
                "unknown size unit {other:?} in {text:?} (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)"
            ));
        }
    };
    number
        .checked_mul(multiplier)
        .ok_or_else(|| format!("{text:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_documentation() {
        let config = ResourcesConfig::parse("").unwrap();
        assert_eq!(config.memory_budget, 32 * GIB);
        assert_eq!(config.claude_api.calls_per_hour, 100);
        assert_eq!(config.claude_api.burst, 100);
        assert_eq!(config.claude_api.high_reserve, 10);
        assert_eq!(config.gpu, None);
        assert_eq!(config.scheduling.aging_step, Duration::from_secs(10));
        assert!(config.cpu_cores >= 1);
    }

    #[test]
    fn a_full_file_is_read() {
        let config = ResourcesConfig::parse(
            r#"
            [scheduling]
            aging_step = "5s"
            max_lease_duration = "1h"
            max_wait = "30s"
            [gpu]
            time_slice = "250ms"
            devices = [{ name = "cuda:0", memory = "24GiB" }, { memory = 1000 }]
            [memory]
            budget = "500 MB"
            [claude_api]
            calls_per_hour = 60
            burst = 6
            high_reserve = 2
            [cpu]
            cores = 4
            "#,
        )
        .unwrap();
        let gpu = config.gpu.unwrap();
        assert_eq!(gpu.time_slice, Duration::from_millis(250));
        assert_eq!(gpu.devices[0].memory, 24 * GIB);
        assert_eq!(gpu.devices[1].name, "gpu1");
        assert_eq!(config.memory_budget, 500_000_000);
        assert_eq!(config.claude_api.burst, 6);
        assert_eq!(config.cpu_cores, 4);
    }

    #[test]
    fn unknown_keys_and_impossible_values_name_the_key() {
        let cases = [
            ("[memory]\nbudgte = 1", "budgte"),
            ("[gpus]\n", "gpus"),
            ("[memory]\nbudget = 0", "memory.budget"),
            ("[memory]\nbudget = -1", "expected a size"),
            ("[memory]\nbudget = \"12 parsecs\"", "parsecs"),
            ("[memory]\nbudget = \"99999999999TiB\"", "too large"),
            (
                "[claude_api]\ncalls_per_hour = 0",
                "claude_api.calls_per_hour",
            ),
            ("[claude_api]\nburst = 101", "claude_api.burst"),
            ("[claude_api]\nburst = 0", "claude_api.burst"),
            (
                "[claude_api]\nhigh_reserve = 100",
                "claude_api.high_reserve",
            ),
            ("[cpu]\ncores = 0", "cpu.cores"),
            ("[gpu]\ndevices = []", "gpu.devices"),
            ("[gpu]\ndevices = [{ memory = 0 }]", "gpu.devices[0].memory"),
            (
                "[gpu]\ndevices = [{ memory = 1 }]\ntime_slice = \"0s\"",
                "gpu.time_slice",
            ),
            (
                "[gpu]\ndevices = [{ memory = 1, colour = \"red\" }]",
                "colour",
            ),
            ("[scheduling]\naging_step = \"soon\"", "soon"),
            (
                "[scheduling]\nmax_lease_duration = \"400days\"",
                "scheduling.max_lease_duration",
            ),
            (
                "[scheduling]\nmax_wait = \"400days\"",
                "scheduling.max_wait",
            ),
            ("not toml at all", "config"),
        ];
        for (text, expected) in cases {
            let err = ResourcesConfig::parse(text).expect_err(text);
            assert!(err.to_string().contains(expected), "{text:?}: {err}");
        }
        let err = ResourcesConfig::parse("[cpu]\ncores = 0").unwrap_err();
        assert_eq!(err.kind(), ConfigErrorKind::Impossible);
        let err = ResourcesConfig::parse("[cpu]\ncorez = 1").unwrap_err();
        assert_eq!(err.kind(), ConfigErrorKind::Syntax);
    }

    #[test]
    fn the_sample_config_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/dev.toml");
        let config = ResourcesConfig::load(&path).unwrap();
        assert_eq!(config.gpu.unwrap().devices[0].memory, 24 * GIB);
        assert_eq!(config.cpu_cores, 8);
    }

    #[test]
    fn a_missing_file_is_reported_with_its_path() {
        let err = ResourcesConfig::load(Path::new("/no/such/coordinator.toml")).unwrap_err();
        assert_eq!(err.kind(), ConfigErrorKind::Unreadable);
        assert!(
            err.to_string().contains("/no/such/coordinator.toml"),
            "{err}"
        );
    }

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_bytes("1024"), Ok(1024));
        assert_eq!(parse_bytes("2KiB"), Ok(2048));
        assert_eq!(parse_bytes("20 GB"), Ok(20_000_000_000));
        assert!(parse_bytes("GB").is_err());
        assert!(parse_bytes("1.5GB").is_err());
    }
}

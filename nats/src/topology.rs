//! The JetStream topology: every stream, durable consumer and key-value
//! bucket the backbone relies on, declared once.
//!
//! [`Topology::standard`] is the single declaration; [`crate::provision`]
//! makes a server match it. Limits that operators tune come in through
//! [`TopologyOptions`].

use std::time::Duration;

use async_nats::jetstream::{
    consumer::{AckPolicy, DeliverPolicy, pull},
    kv,
    stream::{self, DiscardPolicy, RetentionPolicy, StorageType},
};

use crate::subject::{self, AiTraffic};

/// Stream names.
pub mod streams {
    /// Every BalatroMCP event, per session and type.
    pub const GAME_EVENTS: &str = "GAME_EVENTS";
    /// Commands waiting to be polled by a game instance (work queue).
    pub const COMMANDS: &str = "COMMANDS";
    /// Raw input the gateway could not use, with the reason.
    pub const DEAD_LETTER: &str = "DEAD_LETTER";
    /// The resource coordinator's audit trail.
    pub const COORDINATOR: &str = "COORDINATOR";
    /// Acquire requests queued for the coordinator (work queue).
    pub const COORDINATOR_REQUESTS: &str = "COORDINATOR_REQUESTS";
    /// RL trainer traffic.
    pub const LEARNING: &str = "LEARNING";
    /// LLM strategist traffic.
    pub const STRATEGY: &str = "STRATEGY";
    /// Knowledge-graph updates.
    pub const KNOWLEDGE: &str = "KNOWLEDGE";
    /// Metrics published by the Python components.
    pub const METRICS: &str = "METRICS";
}

/// Durable consumer names.
pub mod consumers {
    /// The analytics service's consumer on `GAME_EVENTS`.
    pub const ANALYTICS: &str = "analytics";
    /// The coordinator's consumer on `COORDINATOR_REQUESTS`.
    pub const COORDINATOR: &str = "coordinator";
}

/// Key-value bucket names.
pub mod buckets {
    /// Resource leases held by the coordinator, so they survive its restarts.
    pub const COORDINATOR_LEASES: &str = "coordinator-leases";
}

const HOUR: Duration = Duration::from_secs(3600);
/// The dedup window of every stream but `GAME_EVENTS`.
pub const DEFAULT_DUPLICATE_WINDOW: Duration = Duration::from_secs(120);
const DAY: Duration = Duration::from_secs(24 * 3600);

/// The limits operators may tune; everything else is fixed by the design.
#[derive(Debug, Clone, PartialEq)]
pub struct TopologyOptions {
    /// Replicas per stream: 1 on a single server, 3 on a cluster.
    pub replicas: usize,
    /// How long game events are kept.
    pub game_events_max_age: Duration,
    /// Most bytes `GAME_EVENTS` may hold; past it, publishes are refused
    /// (discard `new`) rather than old events silently dropped.
    pub game_events_max_bytes: i64,
    /// The window in which a repeated event id is recognised as a duplicate
    /// in `GAME_EVENTS`. The mod re-sends after outages of a minute or more.
    /// (The other streams use [`DEFAULT_DUPLICATE_WINDOW`].)
    pub duplicate_window: Duration,
}

impl Default for TopologyOptions {
    fn default() -> Self {
        Self {
            replicas: 1,
            game_events_max_age: 30 * DAY,
            game_events_max_bytes: 10 * 1024 * 1024 * 1024,
            duplicate_window: DEFAULT_DUPLICATE_WINDOW,
        }
    }
}

/// A durable consumer and the stream it reads.
#[derive(Debug, Clone)]
pub struct ConsumerSpec {
    /// The stream the consumer belongs to.
    pub stream: String,
    /// Its configuration; `durable_name` is its name.
    pub config: pull::Config,
}

impl ConsumerSpec {
    /// The consumer's durable name.
    pub fn name(&self) -> &str {
        self.config.durable_name.as_deref().unwrap_or_default()
    }
}

/// Everything that must exist on the server.
#[derive(Debug, Clone)]
pub struct Topology {
    /// Streams, in creation order.
    pub streams: Vec<stream::Config>,
    /// Durable consumers; their streams come first in `streams`.
    pub consumers: Vec<ConsumerSpec>,
    /// Key-value buckets.
    pub buckets: Vec<kv::Config>,
}

impl Topology {
    /// The backbone's topology (DESIGN.md, "Subjects and streams").
    pub fn standard(options: &TopologyOptions) -> Self {
        let replicas = options.replicas.max(1);
        let limits = |name: &str, subjects: Vec<String>, max_age: Duration, description: &str| {
            stream::Config {
                name: name.to_owned(),
                description: Some(description.to_owned()),
                subjects,
                retention: RetentionPolicy::Limits,
                storage: StorageType::File,
                num_replicas: replicas,
                max_age,
                max_bytes: -1,
                max_messages: -1,
                max_messages_per_subject: -1,
                max_message_size: -1,
                // Refuse new writes when full instead of deleting old data:
                // the writer sees the error and can retry, nothing vanishes.
                discard: DiscardPolicy::New,
                // JetStream requires the window to fit in the retention.
                duplicate_window: DEFAULT_DUPLICATE_WINDOW.min(max_age),
                allow_direct: true,
                ..Default::default()
            }
        };

        let mut game_events = limits(
            streams::GAME_EVENTS,
            vec![subject::game_all()],
            options.game_events_max_age,
            "BalatroMCP game events: jimbot.game.<session>.<event_type>",
        );
        game_events.max_bytes = options.game_events_max_bytes;
        game_events.duplicate_window = options.duplicate_window;
        // One request's events can then be stored with one fsync (server 2.12+).
        game_events.allow_atomic_publish = true;

        let mut commands = limits(
            streams::COMMANDS,
            vec![subject::command_all()],
            HOUR,
            "Commands for game instances: jimbot.commands.<session>",
        );
        commands.retention = RetentionPolicy::WorkQueue;
        // A game instance that stops polling must not grow its queue forever;
        // past the limit new commands are refused, old ones never dropped.
        commands.max_messages_per_subject = 1000;
        commands.discard_new_per_subject = true;

        let mut dead_letter = limits(
            streams::DEAD_LETTER,
            vec![subject::dead_letter_all()],
            30 * DAY,
            "Raw input that could not be used, with the reason: jimbot.deadletter.<reason>",
        );
        dead_letter.max_bytes = 1024 * 1024 * 1024;

        let coordinator = limits(
            streams::COORDINATOR,
            vec![subject::coordinator_event_all()],
            7 * DAY,
            "Resource coordinator audit: jimbot.coordinator.events.<kind>",
        );

        let mut coordinator_requests = limits(
            streams::COORDINATOR_REQUESTS,
            vec![subject::coordinator_queue()],
            DAY,
            "Acquire requests queued for the coordinator: jimbot.coordinator.queue.acquire",
        );
        coordinator_requests.retention = RetentionPolicy::WorkQueue;

        let mut streams = vec![
            game_events,
            commands,
            dead_letter,
            coordinator,
            coordinator_requests,
        ];
        streams.extend(AiTraffic::ALL.into_iter().map(|family| {
            let (name, max_age) = match family {
                AiTraffic::Learning => (streams::LEARNING, 7 * DAY),
                AiTraffic::Strategy => (streams::STRATEGY, 7 * DAY),
                AiTraffic::Knowledge => (streams::KNOWLEDGE, 30 * DAY),
                AiTraffic::Metrics => (streams::METRICS, DAY),
            };
            let description = format!("AI traffic: jimbot.{}.>", family.family());
            limits(name, vec![family.all()], max_age, &description)
        }));

        let analytics = ConsumerSpec {
            stream: streams::GAME_EVENTS.to_owned(),
            config: pull::Config {
                durable_name: Some(consumers::ANALYTICS.to_owned()),
                description: Some("jimbot-analytics: runs and statistics".to_owned()),
                deliver_policy: DeliverPolicy::All,
                ack_policy: AckPolicy::Explicit,
                ack_wait: Duration::from_secs(30),
                max_deliver: -1,
                // Backpressure: the server stops delivering past this many
                // unacknowledged messages.
                max_ack_pending: 10_000,
                ..Default::default()
            },
        };

        let leases = kv::Config {
            bucket: buckets::COORDINATOR_LEASES.to_owned(),
            description: "Resource leases held by jimbot-coordinator".to_owned(),
            history: 1,
            storage: StorageType::File,
            num_replicas: replicas,
            max_bytes: -1,
            max_value_size: -1,
            ..Default::default()
        };

        Topology {
            streams,
            consumers: vec![analytics],
            buckets: vec![leases],
        }
    }

    /// The coordinator's durable consumer on `COORDINATOR_REQUESTS`. The
    /// coordinator creates it itself at start (it alone reads that stream).
    /// Unacknowledged requests are redelivered after `ack_wait`, so a
    /// restarted coordinator answers what a crashed one left; a request still
    /// waiting for capacity is kept alive with progress acknowledgements.
    pub fn coordinator_requests_consumer() -> ConsumerSpec {
        ConsumerSpec {
            stream: streams::COORDINATOR_REQUESTS.to_owned(),
            config: pull::Config {
                durable_name: Some(consumers::COORDINATOR.to_owned()),
                description: Some("jimbot-coordinator: queued acquire requests".to_owned()),
                deliver_policy: DeliverPolicy::All,
                ack_policy: AckPolicy::Explicit,
                ack_wait: Duration::from_secs(10),
                max_deliver: -1,
                max_ack_pending: 10_000,
                ..Default::default()
            },
        }
    }

    /// Names of every stream, including the buckets' `KV_` streams.
    pub fn stream_names(&self) -> Vec<String> {
        self.streams
            .iter()
            .map(|s| s.name.clone())
            .chain(self.buckets.iter().map(|b| format!("KV_{}", b.bucket)))
            .collect()
    }
}

/// The tunable limits as flags with environment fallbacks. Every service
/// provisions the same topology, so give them all the same values.
#[derive(Debug, Clone, clap::Args)]
pub struct TopologyArgs {
    /// Replicas per stream: 1 for a single server, 3 for a cluster (at most 5).
    #[arg(
        long = "stream-replicas",
        env = "JIMBOT_STREAM_REPLICAS",
        default_value_t = 1,
        value_parser = clap::value_parser!(u8).range(1..=5)
    )]
    pub replicas: u8,

    /// How long game events are kept (e.g. `30d`, `12h`).
    #[arg(
        long = "game-events-max-age",
        env = "JIMBOT_GAME_EVENTS_MAX_AGE",
        default_value = "30d",
        value_parser = parse_duration
    )]
    pub game_events_max_age: Duration,

    /// Most bytes GAME_EVENTS may hold; further publishes are refused.
    #[arg(
        long = "game-events-max-bytes",
        env = "JIMBOT_GAME_EVENTS_MAX_BYTES",
        default_value_t = 10 * 1024 * 1024 * 1024,
        value_parser = clap::value_parser!(i64).range(1..)
    )]
    pub game_events_max_bytes: i64,

    /// Window in which a repeated event id is recognised as a duplicate.
    #[arg(
        long = "duplicate-window",
        env = "JIMBOT_DUPLICATE_WINDOW",
        default_value = "2m",
        value_parser = parse_duration
    )]
    pub duplicate_window: Duration,
}

impl TopologyArgs {
    /// The options these flags describe; the duplicate window must fit in
    /// the retention period.
    pub fn options(&self) -> Result<TopologyOptions, String> {
        if self.duplicate_window > self.game_events_max_age {
            return Err(format!(
                "--duplicate-window ({}) must not exceed --game-events-max-age ({})",
                humantime::format_duration(self.duplicate_window),
                humantime::format_duration(self.game_events_max_age)
            ));
        }
        Ok(TopologyOptions {
            replicas: usize::from(self.replicas),
            game_events_max_age: self.game_events_max_age,
            game_events_max_bytes: self.game_events_max_bytes,
            duplicate_window: self.duplicate_window,
        })
    }
}

fn parse_duration(raw: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(raw).map_err(|e| e.to_string())?;
    if duration.is_zero() {
        return Err("must be longer than zero".to_owned());
    }
    Ok(duration)
}

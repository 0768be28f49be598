//! Makes a server match a [`Topology`], idempotently.
//!
//! Each resource is looked up first: missing ones are created, matching ones
//! left alone, and differing ones updated where JetStream allows it. When the
//! server refuses the update (retention or storage cannot change, say) the
//! error lists exactly which settings differ.

use std::fmt::{self, Debug};

use async_nats::jetstream::{
    self, ErrorCode,
    context::{CreateStreamErrorKind, GetStreamErrorKind},
    kv, stream,
};

use crate::topology::{ConsumerSpec, Topology};

/// What provisioning did to one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It did not exist and was created.
    Created,
    /// It existed with the declared settings.
    Unchanged,
    /// It existed with other settings and was updated.
    Updated(Vec<Difference>),
}

/// One setting whose value on the server differs from the declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The setting's name as in the JetStream API.
    pub field: &'static str,
    /// What the topology declares.
    pub declared: String,
    /// What the server has.
    pub actual: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: declared {}, server has {}",
            self.field, self.declared, self.actual
        )
    }
}

/// The kind of resource an outcome or error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    /// A stream.
    Stream,
    /// A durable consumer.
    Consumer,
    /// A key-value bucket.
    Bucket,
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ResourceKind::Stream => "stream",
            ResourceKind::Consumer => "consumer",
            ResourceKind::Bucket => "key-value bucket",
        })
    }
}

/// What provisioning did, resource by resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// `(kind, name, outcome)` in provisioning order.
    pub outcomes: Vec<(ResourceKind, String, Outcome)>,
}

impl Report {
    /// Whether provisioning changed nothing.
    pub fn is_unchanged(&self) -> bool {
        self.outcomes
            .iter()
            .all(|(_, _, outcome)| *outcome == Outcome::Unchanged)
    }
}

/// Why provisioning failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProvisionErrorKind {
    /// JetStream did not answer or is not enabled; retrying may help.
    Unavailable,
    /// The resource exists with settings the server refuses to change.
    Conflict,
    /// The server rejected the declared settings.
    Rejected,
}

/// A provisioning failure, naming the resource and, for conflicts, what differs.
#[derive(Debug, thiserror::Error)]
#[error("{resource} {name}: {message}")]
pub struct ProvisionError {
    kind: ProvisionErrorKind,
    resource: ResourceKind,
    name: String,
    message: String,
    differences: Vec<Difference>,
    #[source]
    source: Option<async_nats::Error>,
}

impl ProvisionError {
    /// The kind of failure, for callers to match on.
    pub fn kind(&self) -> ProvisionErrorKind {
        self.kind
    }

    /// The settings that differ, for [`ProvisionErrorKind::Conflict`].
    pub fn differences(&self) -> &[Difference] {
        &self.differences
    }

    fn new(
        kind: ProvisionErrorKind,
        resource: ResourceKind,
        name: &str,
        source: impl Into<async_nats::Error>,
    ) -> Self {
        let source = source.into();
        Self {
            kind,
            resource,
            name: name.to_owned(),
            message: source.to_string(),
            differences: Vec::new(),
            source: Some(source),
        }
    }

    fn conflict(
        resource: ResourceKind,
        name: &str,
        differences: Vec<Difference>,
        source: impl Into<async_nats::Error>,
    ) -> Self {
        let source = source.into();
        let listed: Vec<String> = differences.iter().map(ToString::to_string).collect();
        Self {
            kind: ProvisionErrorKind::Conflict,
            resource,
            name: name.to_owned(),
            message: format!(
                "exists with other settings that the server refuses to change ({source}); differences: {}",
                listed.join("; ")
            ),
            differences,
            source: Some(source),
        }
    }
}

/// Creates or updates every resource of `topology`, in order.
pub async fn provision(
    js: &jetstream::Context,
    topology: &Topology,
) -> Result<Report, ProvisionError> {
    let mut report = Report::default();
    for config in &topology.streams {
        let outcome = ensure_stream(js, config, ResourceKind::Stream, &config.name).await?;
        report
            .outcomes
            .push((ResourceKind::Stream, config.name.clone(), outcome));
    }
    for spec in &topology.consumers {
        let outcome = ensure_consumer(js, spec).await?;
        report
            .outcomes
            .push((ResourceKind::Consumer, spec.name().to_owned(), outcome));
    }
    for bucket in &topology.buckets {
        let outcome = ensure_bucket(js, bucket).await?;
        report
            .outcomes
            .push((ResourceKind::Bucket, bucket.bucket.clone(), outcome));
    }
    Ok(report)
}

/// Fetches a stream's settings; `None` when it does not exist.
async fn stream_config(
    js: &jetstream::Context,
    name: &str,
    resource: ResourceKind,
    label: &str,
) -> Result<Option<stream::Config>, ProvisionError> {
    match js.get_stream(name).await {
        Ok(mut found) => found
            .info()
            .await
            .map(|info| Some(info.config.clone()))
            .map_err(|e| ProvisionError::new(ProvisionErrorKind::Unavailable, resource, label, e)),
        Err(e) => match e.kind() {
            GetStreamErrorKind::JetStream(js_err)
                if js_err.error_code() == ErrorCode::STREAM_NOT_FOUND =>
            {
                Ok(None)
            }
            _ => Err(ProvisionError::new(
                ProvisionErrorKind::Unavailable,
                resource,
                label,
                e,
            )),
        },
    }
}

async fn ensure_stream(
    js: &jetstream::Context,
    declared: &stream::Config,
    resource: ResourceKind,
    label: &str,
) -> Result<Outcome, ProvisionError> {
    let existing = match stream_config(js, &declared.name, resource, label).await? {
        Some(existing) => existing,
        None => match js.create_stream(declared.clone()).await {
            Ok(_) => return Ok(Outcome::Created),
            // Another service may have created it a moment ago: compare below.
            Err(e) => match stream_config(js, &declared.name, resource, label).await? {
                Some(existing) => existing,
                None => return Err(create_error(resource, label, e)),
            },
        },
    };
    let differences = stream_differences(declared, &existing);
    if differences.is_empty() {
        return Ok(Outcome::Unchanged);
    }
    match js.update_stream(declared.clone()).await {
        Ok(_) => Ok(Outcome::Updated(differences)),
        Err(e) => Err(ProvisionError::conflict(resource, label, differences, e)),
    }
}

fn create_error(
    resource: ResourceKind,
    label: &str,
    e: async_nats::jetstream::context::CreateStreamError,
) -> ProvisionError {
    let kind = match e.kind() {
        CreateStreamErrorKind::JetStream(_) => ProvisionErrorKind::Rejected,
        _ => ProvisionErrorKind::Unavailable,
    };
    ProvisionError::new(kind, resource, label, e)
}

async fn ensure_consumer(
    js: &jetstream::Context,
    spec: &ConsumerSpec,
) -> Result<Outcome, ProvisionError> {
    let name = spec.name();
    let found = js
        .get_consumer_from_stream::<jetstream::consumer::pull::Config, _, _>(name, &spec.stream)
        .await;
    let existing = match found {
        Ok(consumer) => consumer.cached_info().config.clone(),
        Err(e) => {
            let missing = matches!(
                e.kind(),
                jetstream::stream::ConsumerErrorKind::JetStream(ref js_err)
                    if js_err.error_code() == ErrorCode::CONSUMER_NOT_FOUND
            );
            if !missing {
                return Err(ProvisionError::new(
                    ProvisionErrorKind::Unavailable,
                    ResourceKind::Consumer,
                    name,
                    e,
                ));
            }
            return js
                .create_consumer_on_stream(spec.config.clone(), &spec.stream)
                .await
                .map(|_| Outcome::Created)
                .map_err(|e| {
                    ProvisionError::new(
                        ProvisionErrorKind::Rejected,
                        ResourceKind::Consumer,
                        name,
                        e,
                    )
                });
        }
    };
    let differences = consumer_differences(&spec.config, &existing);
    if differences.is_empty() {
        return Ok(Outcome::Unchanged);
    }
    js.update_consumer_on_stream(spec.config.clone(), &spec.stream)
        .await
        .map(|_| Outcome::Updated(differences.clone()))
        .map_err(|e| ProvisionError::conflict(ResourceKind::Consumer, name, differences, e))
}

async fn ensure_bucket(
    js: &jetstream::Context,
    declared: &kv::Config,
) -> Result<Outcome, ProvisionError> {
    let name = &declared.bucket;
    let stream_name = format!("KV_{name}");
    let Some(existing) = stream_config(js, &stream_name, ResourceKind::Bucket, name).await? else {
        return js
            .create_key_value(declared.clone())
            .await
            .map(|_| Outcome::Created)
            .map_err(|e| {
                ProvisionError::new(ProvisionErrorKind::Rejected, ResourceKind::Bucket, name, e)
            });
    };
    let differences = bucket_differences(declared, &existing);
    if differences.is_empty() {
        return Ok(Outcome::Unchanged);
    }
    js.update_key_value(declared.clone())
        .await
        .map(|_| Outcome::Updated(differences.clone()))
        .map_err(|e| ProvisionError::conflict(ResourceKind::Bucket, name, differences, e))
}

/// Collects the differing settings among those a declaration sets.
struct Diff(Vec<Difference>);

impl Diff {
    fn field<T: PartialEq + Debug>(mut self, field: &'static str, declared: T, actual: T) -> Self {
        if declared != actual {
            self.0.push(Difference {
                field,
                declared: format!("{declared:?}"),
                actual: format!("{actual:?}"),
            });
        }
        self
    }
}

/// Compares the settings [`Topology`] declares; the server fills in others.
pub fn stream_differences(declared: &stream::Config, actual: &stream::Config) -> Vec<Difference> {
    let sorted = |subjects: &[String]| {
        let mut subjects = subjects.to_vec();
        subjects.sort();
        subjects
    };
    Diff(Vec::new())
        .field(
            "subjects",
            sorted(&declared.subjects),
            sorted(&actual.subjects),
        )
        .field("retention", declared.retention, actual.retention)
        .field("storage", declared.storage, actual.storage)
        .field("num_replicas", declared.num_replicas, actual.num_replicas)
        .field("max_age", declared.max_age, actual.max_age)
        .field("max_bytes", declared.max_bytes, actual.max_bytes)
        .field("max_msgs", declared.max_messages, actual.max_messages)
        .field(
            "max_msgs_per_subject",
            declared.max_messages_per_subject,
            actual.max_messages_per_subject,
        )
        .field(
            "max_msg_size",
            declared.max_message_size,
            actual.max_message_size,
        )
        .field("discard", declared.discard, actual.discard)
        .field(
            "duplicate_window",
            declared.duplicate_window,
            actual.duplicate_window,
        )
        .field("allow_direct", declared.allow_direct, actual.allow_direct)
        .field(
            "allow_atomic",
            declared.allow_atomic_publish,
            actual.allow_atomic_publish,
        )
        .field("description", &declared.description, &actual.description)
        .0
}

/// Compares the settings a [`ConsumerSpec`] declares.
pub fn consumer_differences(
    declared: &jetstream::consumer::pull::Config,
    actual: &jetstream::consumer::Config,
) -> Vec<Difference> {
    Diff(Vec::new())
        .field("durable_name", &declared.durable_name, &actual.durable_name)
        .field("description", &declared.description, &actual.description)
        .field(
            "deliver_policy",
            declared.deliver_policy,
            actual.deliver_policy,
        )
        .field("ack_policy", declared.ack_policy, actual.ack_policy)
        .field("ack_wait", declared.ack_wait, actual.ack_wait)
        .field("max_deliver", declared.max_deliver, actual.max_deliver)
        .field(
            "max_ack_pending",
            declared.max_ack_pending,
            actual.max_ack_pending,
        )
        .field(
            "filter_subject",
            &declared.filter_subject,
            &actual.filter_subject,
        )
        .0
}

/// Compares a bucket's declared settings with its backing stream.
pub fn bucket_differences(declared: &kv::Config, actual: &stream::Config) -> Vec<Difference> {
    Diff(Vec::new())
        .field(
            "history",
            declared.history.max(1),
            actual.max_messages_per_subject,
        )
        .field("storage", declared.storage, actual.storage)
        .field(
            "num_replicas",
            declared.num_replicas.max(1),
            actual.num_replicas,
        )
        .field("max_age", declared.max_age, actual.max_age)
        .field("max_bytes", declared.max_bytes, actual.max_bytes)
        .field(
            "max_msg_size",
            declared.max_value_size,
            actual.max_message_size,
        )
        .0
}

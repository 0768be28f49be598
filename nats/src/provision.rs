//! Makes a server match a [`Topology`], idempotently.
//!
//! Each resource is looked up first: missing ones are created, matching ones
//! left alone, and differing ones updated where JetStream allows it. When the
//! server refuses the update (retention or storage cannot change, say) the
//! error lists exactly which settings differ.

use std::fmt::{self, Debug};

use async_nats::jetstream::{
    self, ErrorCode,
    context::{
        CreateKeyValueErrorKind, CreateStreamError, CreateStreamErrorKind, GetStreamErrorKind,
    },
    kv,
    stream::{self, ConsumerError, ConsumerErrorKind},
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
    /// Includes the server's or client's own message (so it is not also
    /// exposed as `source()`, which would print it twice).
    message: String,
    differences: Vec<Difference>,
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
                None => {
                    let kind = classify(&e, ProvisionErrorKind::Rejected);
                    return Err(ProvisionError::new(kind, resource, label, e));
                }
            },
        },
    };
    let (differences, merged) = reconcile_stream(declared, &existing);
    if differences.is_empty() {
        return Ok(Outcome::Unchanged);
    }
    match js.update_stream(merged).await {
        Ok(_) => Ok(Outcome::Updated(differences)),
        Err(e) if is_transient(&e) => Err(ProvisionError::new(
            ProvisionErrorKind::Unavailable,
            resource,
            label,
            e,
        )),
        Err(e) => Err(ProvisionError::conflict(resource, label, differences, e)),
    }
}

/// `Unavailable` for failures that may pass (a timeout, a cluster still
/// forming or electing a leader), else `otherwise`.
fn classify(
    error: &(dyn std::error::Error + 'static),
    otherwise: ProvisionErrorKind,
) -> ProvisionErrorKind {
    if is_transient(error) {
        ProvisionErrorKind::Unavailable
    } else {
        otherwise
    }
}

fn is_transient(error: &(dyn std::error::Error + 'static)) -> bool {
    const TRANSIENT: [ErrorCode; 7] = [
        ErrorCode::CLUSTER_NOT_AVAILABLE,
        ErrorCode::CLUSTER_NO_PEERS,
        ErrorCode::CLUSTER_INCOMPLETE,
        ErrorCode::CLUSTER_NOT_ACTIVE,
        ErrorCode::CLUSTER_NOT_ASSIGNED,
        ErrorCode::CLUSTER_NOT_LEADER,
        ErrorCode::INSUFFICIENT_RESOURCES,
    ];
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(e) = error.downcast_ref::<CreateStreamError>() {
            return match e.kind() {
                CreateStreamErrorKind::JetStream(js) => TRANSIENT.contains(&js.error_code()),
                CreateStreamErrorKind::EmptyStreamName
                | CreateStreamErrorKind::InvalidStreamName
                | CreateStreamErrorKind::DomainAndExternalSet => false,
                _ => true,
            };
        }
        if let Some(e) = error.downcast_ref::<ConsumerError>() {
            return match e.kind() {
                ConsumerErrorKind::JetStream(js) => TRANSIENT.contains(&js.error_code()),
                ConsumerErrorKind::TimedOut | ConsumerErrorKind::Request => true,
                _ => false,
            };
        }
        if let Some(e) = error.downcast_ref::<jetstream::Error>() {
            return TRANSIENT.contains(&e.error_code());
        }
        next = error.source();
    }
    false
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
                ConsumerErrorKind::JetStream(ref js_err)
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
                    let kind = classify(&e, ProvisionErrorKind::Rejected);
                    ProvisionError::new(kind, ResourceKind::Consumer, name, e)
                });
        }
    };
    let differences = consumer_differences(&spec.config, &existing);
    if differences.is_empty() {
        return Ok(Outcome::Unchanged);
    }
    match js
        .update_consumer_on_stream(spec.config.clone(), &spec.stream)
        .await
    {
        Ok(_) => Ok(Outcome::Updated(differences)),
        Err(e) if is_transient(&e) => Err(ProvisionError::new(
            ProvisionErrorKind::Unavailable,
            ResourceKind::Consumer,
            name,
            e,
        )),
        Err(e) => Err(ProvisionError::conflict(
            ResourceKind::Consumer,
            name,
            differences,
            e,
        )),
    }
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
                let kind = match e.kind() {
                    CreateKeyValueErrorKind::TimedOut | CreateKeyValueErrorKind::JetStream => {
                        ProvisionErrorKind::Unavailable
                    }
                    _ => classify(&e, ProvisionErrorKind::Rejected),
                };
                ProvisionError::new(kind, ResourceKind::Bucket, name, e)
            });
    };
    let differences = bucket_differences(declared, &existing);
    if differences.is_empty() {
        return Ok(Outcome::Unchanged);
    }
    match js.update_key_value(declared.clone()).await {
        Ok(_) => Ok(Outcome::Updated(differences)),
        Err(e) if is_transient(&e) => Err(ProvisionError::new(
            ProvisionErrorKind::Unavailable,
            ResourceKind::Bucket,
            name,
            e,
        )),
        Err(e) => Err(ProvisionError::conflict(
            ResourceKind::Bucket,
            name,
            differences,
            e,
        )),
    }
}

/// Collects the differing settings among those a declaration sets.
struct Diff(Vec<Difference>);

impl Diff {
    fn field<T: PartialEq + Debug>(mut self, field: &'static str, declared: T, actual: T) -> Self {
        if declared != actual {
            self.0.push(Difference::new(field, &declared, &actual));
        }
        self
    }
}

impl Difference {
    fn new<T: Debug>(field: &'static str, declared: &T, actual: &T) -> Self {
        Self {
            field,
            declared: format!("{declared:?}"),
            actual: format!("{actual:?}"),
        }
    }
}

/// Compares the stream settings [`Topology`] declares (the server fills in
/// the others), and returns the server's config with the declared settings
/// applied: an update then changes nothing that was not declared.
pub fn reconcile_stream(
    declared: &stream::Config,
    actual: &stream::Config,
) -> (Vec<Difference>, stream::Config) {
    let mut differences = Vec::new();
    let mut merged = actual.clone();
    let (mut declared_subjects, mut actual_subjects) =
        (declared.subjects.clone(), actual.subjects.clone());
    declared_subjects.sort();
    actual_subjects.sort();
    if declared_subjects != actual_subjects {
        differences.push(Difference::new(
            "subjects",
            &declared_subjects,
            &actual_subjects,
        ));
        merged.subjects = declared.subjects.clone();
    }
    macro_rules! declared {
        ($($field:ident => $name:literal),* $(,)?) => {$(
            if declared.$field != actual.$field {
                differences.push(Difference::new($name, &declared.$field, &actual.$field));
                merged.$field = declared.$field.clone();
            }
        )*};
    }
    declared!(
        retention => "retention",
        storage => "storage",
        num_replicas => "num_replicas",
        max_age => "max_age",
        max_bytes => "max_bytes",
        max_messages => "max_msgs",
        max_messages_per_subject => "max_msgs_per_subject",
        max_message_size => "max_msg_size",
        discard => "discard",
        discard_new_per_subject => "discard_new_per_subject",
        no_ack => "no_ack",
        sealed => "sealed",
        deny_delete => "deny_delete",
        deny_purge => "deny_purge",
        duplicate_window => "duplicate_window",
        allow_direct => "allow_direct",
        allow_atomic_publish => "allow_atomic",
        description => "description",
    );
    (differences, merged)
}

/// The declared stream settings that differ on the server.
pub fn stream_differences(declared: &stream::Config, actual: &stream::Config) -> Vec<Difference> {
    reconcile_stream(declared, actual).0
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

//! `Subscribe` (live, until the client goes away) and `Replay` (stored, then
//! end of stream): both are a [`Query`] read by an [`EventReader`], its
//! messages sent through a bounded channel to the response stream.

use std::pin::Pin;

use futures::Stream;
use jimbot_nats::{Token, topology::streams};
use jimbot_schemas::v1::{self, EventType};
use time::OffsetDateTime;
use tokio::sync::{OwnedSemaphorePermit, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use crate::{
    app::AppState,
    error::ApiError,
    replay::{
        EventReader, Query, QueryError, Range, Start, StoredMessage, TypeFilter,
        query::{sessions_and_types, subject_pattern},
        sessions,
    },
};

/// What `Subscribe` and `Replay` answer with.
pub type EventStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// Events buffered between the reader and a slow client.
const BUFFER: usize = 64;

/// `Subscribe`.
pub async fn subscribe(
    state: &AppState,
    request: v1::SubscribeRequest,
) -> Result<EventStream<v1::SubscribeResponse>, Status> {
    let start_policy = request.start_policy();
    let filter = request.filter.unwrap_or_default();
    let subjects = if filter.subject_pattern.is_empty() {
        let sessions: Vec<Token> = filter.sessions.iter().map(|s| Token::new(s)).collect();
        let types = event_types(&filter.event_types, "filter.event_types")?;
        sessions_and_types(&sessions, &types)?
    } else if !filter.sessions.is_empty() || !filter.event_types.is_empty() {
        return Err(QueryError::new(
            "filter.subject_pattern",
            "cannot be combined with sessions or event_types",
        )
        .into());
    } else {
        vec![subject_pattern(&filter.subject_pattern)?]
    };
    let start = match start_policy {
        v1::StartPolicy::Unspecified | v1::StartPolicy::New => Start::New,
        v1::StartPolicy::All => Start::All,
        v1::StartPolicy::Sequence => match request.start_sequence {
            0 => return Err(QueryError::new("start_sequence", "must be at least 1").into()),
            sequence => Start::Sequence(sequence),
        },
        v1::StartPolicy::Time => {
            Start::Time(time_of(request.start_time, "start_time")?.ok_or_else(|| {
                QueryError::new("start_time", "is required with START_POLICY_TIME")
            })?)
        }
    };
    let query = Query::new(subjects, start).follow();
    open(state, query, |event| v1::SubscribeResponse {
        event: Some(event),
    })
    .await
}

/// `Replay`.
pub async fn replay(
    state: &AppState,
    request: v1::ReplayRequest,
) -> Result<EventStream<v1::ReplayResponse>, Status> {
    let session = match request.scope {
        Some(v1::replay_request::Scope::Session(session)) if !session.is_empty() => {
            Token::new(&session)
        }
        Some(v1::replay_request::Scope::Run(_)) => {
            return Err(Status::unimplemented(
                "replay by run id is not served by the gateway: look the run up in analytics \
                 (GET /api/v1/analytics/runs/{id}) and replay its session and sequence range",
            ));
        }
        _ => return Err(QueryError::new("session", "is required").into()),
    };
    let range = match request.range {
        None => Range::default(),
        Some(v1::replay_request::Range::SequenceRange(range)) => Range {
            from_sequence: Some(range.from_sequence).filter(|s| *s != 0),
            to_sequence: Some(range.to_sequence).filter(|s| *s != 0),
            ..Range::default()
        },
        Some(v1::replay_request::Range::TimeRange(range)) => Range {
            since: time_of(range.since, "time_range.since")?,
            until: time_of(range.until, "time_range.until")?,
            ..Range::default()
        },
    };
    let types = event_types(&request.event_types, "event_types")?;
    let query = Query::session(&session, &types, range)?;
    state.ensure_connected()?;
    if sessions::find(state.jetstream(), &session).await?.is_none() {
        return Err(
            ApiError::NotFound(format!("no events of session {session} are stored")).into(),
        );
    }
    open(state, query, |event| v1::ReplayResponse {
        event: Some(event),
    })
    .await
}

/// Opens the reader and streams what it reads, wrapped by `wrap`.
async fn open<T: Send + 'static>(
    state: &AppState,
    query: Query,
    wrap: fn(v1::StoredEvent) -> T,
) -> Result<EventStream<T>, Status> {
    state.ensure_connected()?;
    let permit = state.open_stream()?;
    let reader = EventReader::open(state.jetstream(), query).await?;
    let (tx, rx) = mpsc::channel(BUFFER);
    let shutdown = state.shutdown().clone();
    tokio::spawn(async move {
        tokio::select! {
            () = pump(reader, &tx, wrap, permit) => {}
            () = shutdown.requested() => {
                let _ = tx.send(Err(Status::unavailable("the gateway is shutting down; subscribe again"))).await;
            }
            () = tx.closed() => {}
        }
    });
    Ok(Box::pin(ReceiverStream::new(rx)))
}

async fn pump<T>(
    mut reader: EventReader,
    tx: &mpsc::Sender<Result<T, Status>>,
    wrap: fn(v1::StoredEvent) -> T,
    _permit: OwnedSemaphorePermit,
) {
    while let Some(read) = reader.next().await {
        let item = read
            .and_then(|message| message.decode().map(|event| stored_event(&message, event)))
            .map(wrap)
            .map_err(Status::from);
        let failed = item.is_err();
        if tx.send(item).await.is_err() || failed {
            return;
        }
        metrics::counter!("gateway_replay_events_total").increment(1);
    }
}

fn stored_event(message: &StoredMessage, event: v1::Event) -> v1::StoredEvent {
    let nanos = message.stored_at.unix_timestamp_nanos();
    v1::StoredEvent {
        event: Some(event),
        stream: streams::GAME_EVENTS.to_owned(),
        sequence: message.sequence,
        subject: message.subject.clone(),
        stored_at: Some(prost_types::Timestamp {
            seconds: (nanos.div_euclid(1_000_000_000)) as i64,
            nanos: (nanos.rem_euclid(1_000_000_000)) as i32,
        }),
    }
}

fn event_types(values: &[i32], field: &'static str) -> Result<Vec<TypeFilter>, QueryError> {
    let mut types = Vec::with_capacity(values.len());
    for &value in values {
        let event_type = EventType::try_from(value)
            .map_err(|_| QueryError::new(field, format!("{value} is not an EventType")))?;
        let parsed =
            TypeFilter::from_event_type(event_type).map_err(|e| QueryError { field, ..e })?;
        if !types.contains(&parsed) {
            types.push(parsed);
        }
    }
    Ok(types)
}

fn time_of(
    timestamp: Option<prost_types::Timestamp>,
    field: &'static str,
) -> Result<Option<OffsetDateTime>, QueryError> {
    timestamp
        .map(|t| {
            if !(0..1_000_000_000).contains(&t.nanos) {
                return Err(QueryError::new(field, "nanos out of range"));
            }
            OffsetDateTime::from_unix_timestamp_nanos(
                i128::from(t.seconds) * 1_000_000_000 + i128::from(t.nanos),
            )
            .map_err(|_| QueryError::new(field, "out of range"))
        })
        .transpose()
}

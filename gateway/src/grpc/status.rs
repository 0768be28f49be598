//! Failures as gRPC statuses: the same cases as the REST errors, with
//! field details (`google.rpc.BadRequest`) for what the client got wrong.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt as _};

use crate::{
    error::ApiError,
    replay::{QueryError, ReadError, ReadErrorKind},
};

/// `INVALID_ARGUMENT` naming each field at fault.
pub fn invalid(violations: Vec<(String, String)>) -> Status {
    let message = violations
        .iter()
        .map(|(field, problem)| format!("{field}: {problem}"))
        .collect::<Vec<_>>()
        .join("; ");
    let details = ErrorDetails::with_bad_request(
        violations
            .into_iter()
            .map(|(field, problem)| FieldViolation::new(field, problem))
            .collect::<Vec<_>>(),
    );
    Status::with_error_details(Code::InvalidArgument, message, details)
}

impl From<QueryError> for Status {
    fn from(error: QueryError) -> Self {
        invalid(vec![(error.field.to_owned(), error.message)])
    }
}

impl From<ReadError> for Status {
    fn from(error: ReadError) -> Self {
        match error.kind() {
            ReadErrorKind::Refused => Status::invalid_argument(error.to_string()),
            ReadErrorKind::StreamMissing
            | ReadErrorKind::Unavailable
            | ReadErrorKind::Undecodable => Status::unavailable(error.to_string()),
        }
    }
}

impl From<ApiError> for Status {
    fn from(error: ApiError) -> Self {
        let message = error.to_string();
        match error {
            ApiError::Unavailable(_) | ApiError::StreamMissing(_) | ApiError::StoreFull(_) => {
                Status::unavailable(message)
            }
            ApiError::Overloaded | ApiError::RateLimited { .. } => {
                Status::resource_exhausted(message)
            }
            ApiError::TooLarge(_) => Status::invalid_argument(message),
            ApiError::NotFound(_) => Status::not_found(message),
            ApiError::BadRequest { .. } => Status::invalid_argument(message),
        }
    }
}

//! Errors in Prometheus' API format: `{"status":"error","errorType":"bad_data","error":"..."}`, with the
//! status codes Prometheus uses for each type. All typed errors of the libraries are mapped here, once.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use strata_query::QueryError;

/// Prometheus' `errorType` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    /// 400: the request is malformed.
    BadData,
    /// 422: the query failed during evaluation.
    Execution,
    /// 503: the query ran out of time.
    Timeout,
    /// 499: the client went away or the query was cancelled.
    Canceled,
    /// 500: a fault in the server.
    Internal,
    /// 404
    NotFound,
    /// 503: not ready yet (WAL replay) or overloaded; retry later.
    Unavailable,
}

impl ErrorType {
    fn name(self) -> &'static str {
        match self {
            Self::BadData => "bad_data",
            Self::Execution => "execution",
            Self::Timeout => "timeout",
            Self::Canceled => "canceled",
            Self::Internal => "internal",
            Self::NotFound => "not_found",
            Self::Unavailable => "unavailable",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            Self::BadData => StatusCode::BAD_REQUEST,
            Self::Execution => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Timeout | Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Canceled => StatusCode::from_u16(499).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::NotFound => StatusCode::NOT_FOUND,
        }
    }
}

/// An API error: a type, a message, and optionally a status code other than the type's default.
#[derive(Debug)]
pub struct ApiError {
    /// The error type.
    pub kind: ErrorType,
    /// The message.
    pub message: String,
    /// A status that overrides the type's (e.g. 413, 415 for writes).
    pub status: Option<StatusCode>,
}

impl ApiError {
    /// A `bad_data` error (400).
    pub fn bad_data(message: impl Into<String>) -> Self {
        ApiError {
            kind: ErrorType::BadData,
            message: message.into(),
            status: None,
        }
    }

    /// An `internal` error (500).
    pub fn internal(message: impl Into<String>) -> Self {
        ApiError {
            kind: ErrorType::Internal,
            message: message.into(),
            status: None,
        }
    }

    /// A 503 telling the client to retry.
    pub fn unavailable(message: impl Into<String>) -> Self {
        ApiError {
            kind: ErrorType::Unavailable,
            message: message.into(),
            status: None,
        }
    }

    /// The same error with another status code.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = Some(status);
        self
    }

    /// The HTTP status this error is answered with.
    pub fn status_code(&self) -> StatusCode {
        self.status.unwrap_or_else(|| self.kind.status())
    }
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        let kind = match &e {
            QueryError::Parse(_) | QueryError::BadData(_) => ErrorType::BadData,
            QueryError::Execution(_) | QueryError::TooManySamples => ErrorType::Execution,
            QueryError::Timeout(_) => ErrorType::Timeout,
            QueryError::Canceled => ErrorType::Canceled,
            _ => ErrorType::Internal,
        };
        let message = match &e {
            QueryError::Parse(p) => format!("invalid parameter \"query\": {p}"),
            other => other.to_string(),
        };
        ApiError {
            kind,
            message,
            status: None,
        }
    }
}

impl From<strata_storage::Error> for ApiError {
    fn from(e: strata_storage::Error) -> Self {
        match e {
            strata_storage::Error::InvalidRegex { .. } | strata_storage::Error::InvalidSeries { .. } => {
                ApiError::bad_data(e.to_string())
            }
            strata_storage::Error::LimitExceeded(_) => ApiError {
                kind: ErrorType::Execution,
                message: e.to_string(),
                status: None,
            },
            other => ApiError::internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "status": "error",
            "errorType": self.kind.name(),
            "error": self.message,
        });
        (self.status_code(), axum::Json(body)).into_response()
    }
}

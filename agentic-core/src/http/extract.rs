//! Extractors whose rejections are problem documents, and the [`Principal`] extractor.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use http::StatusCode;
use http::request::Parts;
use serde::de::DeserializeOwned;

use super::problem::ProblemResponse;
use crate::api::{Problem, ProblemType};
use crate::auth::{AuthError, Principal};
use crate::error::Error;
use crate::http::layer::auth::bearer_token;

/// JSON body; malformed JSON is 400, a wrong shape or unknown field 422, a wrong content type 415, too large 413.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ProblemResponse;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_problem(&rejection)),
        }
    }
}

fn json_problem(rejection: &JsonRejection) -> ProblemResponse {
    let kind = match rejection.status() {
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ProblemType::UnsupportedMediaType,
        StatusCode::UNPROCESSABLE_ENTITY => ProblemType::Validation,
        status => body_problem_type(status),
    };
    ProblemResponse(Problem::new(kind, rejection.body_text()))
}

/// The problem type of a body that could not be read: too large, or unreadable.
fn body_problem_type(status: StatusCode) -> ProblemType {
    if status == StatusCode::PAYLOAD_TOO_LARGE { ProblemType::PayloadTooLarge } else { ProblemType::MalformedBody }
}

/// An optional JSON body: empty (or only whitespace) or `null` is `None`; otherwise as [`ApiJson`] (malformed 400,
/// a wrong shape 422), and too large 413, always as a problem document.
#[derive(Debug)]
pub struct ApiOptionalJson<T>(pub Option<T>);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiOptionalJson<T> {
    type Rejection = ProblemResponse;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let body = axum::body::Bytes::from_request(req, state).await.map_err(|rejection| {
            ProblemResponse(Problem::new(body_problem_type(rejection.status()), rejection.body_text()))
        })?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(ApiOptionalJson(None));
        }
        match serde_json::from_slice::<Option<T>>(&body) {
            Ok(value) => Ok(ApiOptionalJson(value)),
            Err(error) => {
                let kind = if error.is_data() { ProblemType::Validation } else { ProblemType::MalformedBody };
                Err(ProblemResponse(Problem::new(kind, error.to_string())))
            }
        }
    }
}

/// A YAML document as text (`Content-Type: application/yaml`, `application/x-yaml`, `text/yaml`, `text/x-yaml`
/// or `text/plain`); another content type is 415, a body that is not UTF-8 400, too large 413. Parsing it is the
/// handler's business (agent specifications carry their own located errors).
#[derive(Debug)]
pub struct ApiYaml(pub String);

impl<S: Send + Sync> FromRequest<S> for ApiYaml {
    type Rejection = ProblemResponse;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let yaml_type = req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
            .is_some_and(|t| {
                matches!(
                    t.as_str(),
                    "application/yaml" | "application/x-yaml" | "text/yaml" | "text/x-yaml" | "text/plain"
                )
            });
        if !yaml_type {
            return Err(ProblemResponse(Problem::new(
                ProblemType::UnsupportedMediaType,
                "send the YAML with Content-Type: application/yaml",
            )));
        }
        String::from_request(req, state).await.map(ApiYaml).map_err(|rejection| {
            ProblemResponse(Problem::new(body_problem_type(rejection.status()), rejection.body_text()))
        })
    }
}

/// Path parameters; an unparsable id is 400.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ProblemResponse;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state).await.map(|p| ApiPath(p.0)).map_err(
            |rejection: PathRejection| ProblemResponse(Problem::new(ProblemType::BadPath, rejection.body_text())),
        )
    }
}

/// Query parameters; unparsable ones are 400.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ProblemResponse;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state).await.map(|q| ApiQuery(q.0)).map_err(
            |rejection: QueryRejection| ProblemResponse(Problem::new(ProblemType::BadQuery, rejection.body_text())),
        )
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = Error;

    /// The principal the [`AuthLayer`](crate::http::layer::auth::AuthLayer) put in the request's extensions; 401 if the
    /// route is not behind it.
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Principal>().cloned().ok_or(Error::Unauthenticated(AuthError::MissingCredentials))
    }
}

/// The bearer credential presented, if any, without authenticating it (the master key is not a principal).
#[derive(Debug)]
pub struct BearerCredential(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for BearerCredential {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match bearer_token(&parts.headers) {
            Ok(token) => Ok(BearerCredential(Some(token.to_owned()))),
            Err(AuthError::MissingCredentials) => Ok(BearerCredential(None)),
            Err(other) => Err(other.into()),
        }
    }
}

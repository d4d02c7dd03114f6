use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::AUTHORIZATION;
use http::{HeaderMap, Request, Response};
use tower::Service;

use crate::auth::{AuthError, Authenticator};
use crate::error::Error;
use crate::http::problem::error_response;

/// A service that authenticates each request before calling the inner service.
#[derive(Clone)]
pub struct Authenticate<S> {
    inner: S,
    authenticator: Arc<dyn Authenticator>,
}

impl<S> Authenticate<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, authenticator: Arc<dyn Authenticator>) -> Self {
        Self { inner, authenticator }
    }

    /// A layer producing this service.
    pub fn layer(authenticator: Arc<dyn Authenticator>) -> super::AuthLayer {
        super::AuthLayer::new(authenticator)
    }
}

impl<S: std::fmt::Debug> std::fmt::Debug for Authenticate<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticate").field("inner", &self.inner).finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Authenticate<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: From<Bytes> + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        // The clone is not ready; keep the ready one for this call (tower's documented pattern).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let authenticator = Arc::clone(&self.authenticator);
        Box::pin(async move {
            let bearer = match bearer_token(request.headers()) {
                Ok(token) => token.to_owned(),
                Err(refused) => return Ok(error_response(&Error::from(refused))),
            };
            match authenticator.authenticate(&bearer).await {
                Ok(principal) => {
                    tracing::debug!(tenant_id = %principal.tenant_id, user_id = %principal.user_id, "authenticated");
                    let tenant = principal.tenant_id;
                    tracing::Span::current().record("tenant_id", tracing::field::display(tenant));
                    request.extensions_mut().insert(principal);
                    let mut response = inner.call(request).await?;
                    // For the per-tenant request count, made where every response passes (the metrics middleware).
                    response.extensions_mut().insert(crate::http::observe::AuthenticatedTenant(tenant));
                    Ok(response)
                }
                Err(error) => Ok(error_response(&error)),
            }
        })
    }
}

/// The credential of an `Authorization: Bearer <credential>` header.
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, AuthError> {
    let value = headers.get(AUTHORIZATION).ok_or(AuthError::MissingCredentials)?;
    let text = value.to_str().map_err(|_| AuthError::MalformedHeader)?;
    let (scheme, credential) = text.split_once(' ').ok_or(AuthError::MalformedHeader)?;
    let credential = credential.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || credential.is_empty() {
        return Err(AuthError::MalformedHeader);
    }
    Ok(credential)
}

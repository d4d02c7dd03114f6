//! `POST /v1/auth/login` and `GET /v1/me`.

use axum::Json;
use axum::extract::State;
use secrecy::ExposeSecret;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Platform;
use crate::api::{LoginRequest, MeResponse, Problem, TokenResponse};
use crate::auth::Principal;
use crate::error::Error;
use crate::http::extract::ApiJson;

pub(super) fn public_routes() -> OpenApiRouter<Platform> {
    OpenApiRouter::new().routes(routes!(login))
}

pub(super) fn protected_routes() -> OpenApiRouter<Platform> {
    OpenApiRouter::new().routes(routes!(me))
}

/// Signs in with tenant slug, e-mail and password; returns a short-lived access token.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn login(
    State(platform): State<Platform>,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Json<TokenResponse>, Error> {
    let issued = platform.login(&request.tenant, &request.email, request.password).await?;
    Ok(Json(TokenResponse {
        access_token: issued.token.expose_secret().to_owned(),
        token_type: "Bearer".into(),
        expires_in: issued.expires_in,
    }))
}

/// The caller: user, how they authenticated, and the permissions in force.
#[utoipa::path(get, path = "/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = MeResponse), (status = 401, body = Problem)))]
async fn me(State(platform): State<Platform>, principal: Principal) -> Result<Json<MeResponse>, Error> {
    let user = platform.me(&principal).await?;
    Ok(Json(MeResponse::new(user, principal.credential, principal.permissions.to_vec())))
}

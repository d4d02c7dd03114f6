//! `GET|POST /v1/webhooks`, `GET|PATCH|DELETE /v1/webhooks/{id}`, `POST /v1/webhooks/{id}/rotate-secret`,
//! `GET /v1/webhooks/{id}/deliveries`, `POST /v1/webhooks/{id}/replay`, `GET /v1/deliveries/{id}`,
//! `POST /v1/deliveries/{id}/retry`. All need `webhooks:manage`.

use axum::Json;
use axum::extract::State;
use http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Platform;
use crate::api::{
    CreateWebhookRequest, CreatedWebhook, DeliveryDetail, DeliveryListQuery, Problem, ReplayRequest, ReplayResponse,
    RotateSecretRequest, RotatedSecret, UpdateWebhookRequest, WebhookView,
};
use crate::auth::Principal;
use crate::error::Error;
use crate::http::extract::{ApiJson, ApiOptionalJson, ApiPath, ApiQuery};
use crate::ids::{DeliveryId, WebhookId};
use crate::model::Delivery;
use crate::store::{Page, PageRequest};

pub(super) fn routes() -> OpenApiRouter<Platform> {
    OpenApiRouter::new()
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(get_webhook, update_webhook, delete_webhook))
        .routes(routes!(rotate_secret))
        .routes(routes!(list_deliveries))
        .routes(routes!(replay))
        .routes(routes!(get_delivery))
        .routes(routes!(retry_delivery))
}

/// Lists the tenant's webhook endpoints.
#[utoipa::path(get, path = "/v1/webhooks", tag = "webhooks", security(("bearer" = [])), params(PageRequest),
    responses((status = 200, body = Page<WebhookView>), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn list_webhooks(
    State(platform): State<Platform>,
    principal: Principal,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> Result<Json<Page<WebhookView>>, Error> {
    Ok(Json(platform.list_webhooks(&principal, page).await?))
}

/// Creates a webhook endpoint; the response shows its signing secret this once. The URL must pass the SSRF
/// guard (https, every address public unless the operator allows it).
#[utoipa::path(post, path = "/v1/webhooks", tag = "webhooks", security(("bearer" = [])),
    request_body = CreateWebhookRequest,
    responses((status = 201, body = CreatedWebhook), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn create_webhook(
    State(platform): State<Platform>,
    principal: Principal,
    ApiJson(request): ApiJson<CreateWebhookRequest>,
) -> Result<(StatusCode, Json<CreatedWebhook>), Error> {
    Ok((StatusCode::CREATED, Json(platform.create_webhook(&principal, request).await?)))
}

/// A webhook endpoint.
#[utoipa::path(get, path = "/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = WebhookId, Path, description = "Webhook endpoint id")),
    responses((status = 200, body = WebhookView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn get_webhook(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<WebhookId>,
) -> Result<Json<WebhookView>, Error> {
    Ok(Json(platform.get_webhook(&principal, id).await?))
}

/// Changes a webhook endpoint (the fields given); enabling it resumes its pending deliveries.
#[utoipa::path(patch, path = "/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = WebhookId, Path, description = "Webhook endpoint id")), request_body = UpdateWebhookRequest,
    responses((status = 200, body = WebhookView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update_webhook(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<WebhookId>,
    ApiJson(request): ApiJson<UpdateWebhookRequest>,
) -> Result<Json<WebhookView>, Error> {
    Ok(Json(platform.update_webhook(&principal, id, request).await?))
}

/// Deletes a webhook endpoint with its deliveries.
#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = WebhookId, Path, description = "Webhook endpoint id")),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn delete_webhook(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<WebhookId>,
) -> Result<StatusCode, Error> {
    platform.delete_webhook(&principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replaces the signing secret; the old one keeps signing deliveries beside the new one for the grace period
/// (both signatures in `webhook-signature`, space-separated).
#[utoipa::path(post, path = "/v1/webhooks/{id}/rotate-secret", tag = "webhooks", security(("bearer" = [])),
    params(("id" = WebhookId, Path, description = "Webhook endpoint id")), request_body = Option<RotateSecretRequest>,
    responses((status = 200, body = RotatedSecret), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn rotate_secret(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<WebhookId>,
    ApiOptionalJson(request): ApiOptionalJson<RotateSecretRequest>,
) -> Result<Json<RotatedSecret>, Error> {
    Ok(Json(platform.rotate_webhook_secret(&principal, id, request.unwrap_or_default()).await?))
}

/// The endpoint's deliveries, newest first.
#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries", tag = "webhooks", security(("bearer" = [])),
    params(("id" = WebhookId, Path, description = "Webhook endpoint id"), DeliveryListQuery),
    responses((status = 200, body = Page<Delivery>), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn list_deliveries(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<WebhookId>,
    ApiQuery(query): ApiQuery<DeliveryListQuery>,
) -> Result<Json<Page<Delivery>>, Error> {
    Ok(Json(platform.list_deliveries(&principal, id, query).await?))
}

/// Sends the endpoint's events of a time range again (delivered or not).
#[utoipa::path(post, path = "/v1/webhooks/{id}/replay", tag = "webhooks", security(("bearer" = [])),
    params(("id" = WebhookId, Path, description = "Webhook endpoint id")), request_body = ReplayRequest,
    responses((status = 202, body = ReplayResponse), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn replay(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<WebhookId>,
    ApiJson(request): ApiJson<ReplayRequest>,
) -> Result<(StatusCode, Json<ReplayResponse>), Error> {
    Ok((StatusCode::ACCEPTED, Json(platform.replay_webhook(&principal, id, request).await?)))
}

/// A delivery with its attempts (status, latency, the start of the answer, the error).
#[utoipa::path(get, path = "/v1/deliveries/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = DeliveryId, Path, description = "Delivery id")),
    responses((status = 200, body = DeliveryDetail), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn get_delivery(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<DeliveryId>,
) -> Result<Json<DeliveryDetail>, Error> {
    Ok(Json(platform.get_delivery(&principal, id).await?))
}

/// Attempts a delivery again now, with a new round of the retry schedule.
#[utoipa::path(post, path = "/v1/deliveries/{id}/retry", tag = "webhooks", security(("bearer" = [])),
    params(("id" = DeliveryId, Path, description = "Delivery id")),
    responses((status = 202, body = DeliveryDetail), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn retry_delivery(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<DeliveryId>,
) -> Result<(StatusCode, Json<DeliveryDetail>), Error> {
    Ok((StatusCode::ACCEPTED, Json(platform.retry_delivery(&principal, id).await?)))
}

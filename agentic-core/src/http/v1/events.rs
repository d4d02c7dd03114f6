//! `GET /v1/events`, `GET /v1/events/types`.

use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Platform;
use crate::api::{EventListQuery, EventTypeList, Problem};
use crate::auth::Principal;
use crate::error::Error;
use crate::events::Event;
use crate::http::extract::ApiQuery;
use crate::store::Page;

pub(super) fn routes() -> OpenApiRouter<Platform> {
    OpenApiRouter::new().routes(routes!(list_events)).routes(routes!(event_types))
}

/// The tenant's events: newest first, or oldest first `after` a cursor; filtered by type, project or run.
#[utoipa::path(get, path = "/v1/events", tag = "events", security(("bearer" = [])), params(EventListQuery),
    responses((status = 200, body = Page<Event>), (status = 400, body = Problem), (status = 401, body = Problem)))]
async fn list_events(
    State(platform): State<Platform>,
    principal: Principal,
    ApiQuery(query): ApiQuery<EventListQuery>,
) -> Result<Json<Page<Event>>, Error> {
    Ok(Json(platform.list_events(&principal, query).await?))
}

/// The event catalogue: every type with its meaning and the JSON Schema of its data.
#[utoipa::path(get, path = "/v1/events/types", tag = "events", security(("bearer" = [])),
    responses((status = 200, body = EventTypeList), (status = 401, body = Problem)))]
async fn event_types(_principal: Principal) -> Json<EventTypeList> {
    Json(EventTypeList::catalogue())
}

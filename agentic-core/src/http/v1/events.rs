//! `GET /v1/events`, `GET /v1/events/stream` (Server-Sent Events), `GET /v1/events/types`.

use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Platform;
use crate::api::{EventFrame, EventTypeList, Problem};
use crate::auth::Principal;
use crate::error::Error;
use crate::events::Event;
use crate::http::extract::ApiQuery;
use crate::ids::EventId;
use crate::model::ValidationError;
use crate::store::{EventQuery, Page};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};

pub(super) fn routes() -> OpenApiRouter<Platform> {
    OpenApiRouter::new().routes(routes!(list_events)).routes(routes!(event_types)).routes(routes!(stream_events))
}

/// The tenant's events: newest first, or oldest first `after` a cursor; filtered by type, project or run.
#[utoipa::path(get, path = "/v1/events", tag = "events", security(("bearer" = [])), params(EventQuery),
    responses((status = 200, body = Page<Event>), (status = 400, body = Problem), (status = 401, body = Problem)))]
async fn list_events(
    State(platform): State<Platform>,
    principal: Principal,
    ApiQuery(query): ApiQuery<EventQuery>,
) -> Result<Json<Page<Event>>, Error> {
    Ok(Json(platform.list_events(&principal, query).await?))
}

/// The tenant's new events as Server-Sent Events (`id:` the event id, `event:` its type, `data:` the event as
/// JSON), with the filters of the listing. Resumes after `Last-Event-ID` (or `after`) when given, else starts now.
#[utoipa::path(get, path = "/v1/events/stream", tag = "events", security(("bearer" = [])), params(EventQuery,
        ("Last-Event-ID" = Option<String>, Header, description = "Resume after this event id")),
    responses((status = 200, content_type = "text/event-stream", body = EventFrame,
        description = "An endless stream of events, with a comment every 15 s to keep the connection open"),
        (status = 400, body = Problem), (status = 401, body = Problem)))]
async fn stream_events(
    State(platform): State<Platform>,
    principal: Principal,
    ApiQuery(query): ApiQuery<EventQuery>,
    headers: axum::http::HeaderMap,
) -> Result<Response, Error> {
    let resume = last_event_id(&headers)?;
    let events = platform.follow_events(&principal, query, resume).await?;
    Ok(sse(events))
}

/// The `Last-Event-ID` a reconnecting client sends, if any; a malformed one is a validation error.
pub(super) fn last_event_id(headers: &axum::http::HeaderMap) -> Result<Option<EventId>, Error> {
    let Some(value) = headers.get("last-event-id") else { return Ok(None) };
    let id = value.to_str().ok().and_then(|v| v.trim().parse::<EventId>().ok());
    id.map(Some).ok_or_else(|| Error::Validation(ValidationError::new("Last-Event-ID", "must be an event id (a UUID)")))
}

/// Events as Server-Sent Events: `id:` the event id, `event:` its type, `data:` the event as JSON, with a comment
/// every 15 s to keep the connection open.
pub(super) fn sse(events: impl futures_core::Stream<Item = Event> + Send + 'static) -> Response {
    let frames = futures_util::StreamExt::map(events, |event| {
        let frame = SseEvent::default().id(event.id.to_string()).event(event.kind.as_str());
        Ok::<_, std::convert::Infallible>(
            frame.json_data(&event).unwrap_or_else(|_| SseEvent::default().comment("unencodable event")),
        )
    });
    let keep_alive = KeepAlive::new().interval(std::time::Duration::from_secs(15));
    Sse::new(frames).keep_alive(keep_alive).into_response()
}

/// The event catalogue: every type with its meaning and the JSON Schema of its data.
#[utoipa::path(get, path = "/v1/events/types", tag = "events", security(("bearer" = [])),
    responses((status = 200, body = EventTypeList), (status = 401, body = Problem)))]
async fn event_types(_principal: Principal) -> Json<EventTypeList> {
    Json(EventTypeList::catalogue())
}

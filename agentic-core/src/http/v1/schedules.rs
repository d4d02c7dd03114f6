//! `GET|POST /v1/schedules`, `GET|PATCH|DELETE /v1/schedules/{id}`, `POST /v1/schedules/{id}/pause`,
//! `/resume`, `/trigger`, `/backfill`, `GET /v1/schedules/{id}/runs` and `/upcoming`. Writing needs
//! `workflows:create`; any member reads.

use axum::Json;
use axum::extract::State;
use http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Platform;
use crate::api::{
    BackfillReport, BackfillRequest, CreateScheduleRequest, FireReport, PauseRequest, Problem, TriggerRequest,
    UpcomingFires, UpcomingQuery, UpdateScheduleRequest,
};
use crate::auth::Principal;
use crate::error::Error;
use crate::http::extract::{ApiJson, ApiOptionalJson, ApiPath, ApiQuery};
use crate::ids::ScheduleId;
use crate::model::{Run, Schedule};
use crate::store::{Page, PageRequest, RunQuery};

pub(super) fn routes() -> OpenApiRouter<Platform> {
    OpenApiRouter::new()
        .routes(routes!(list_schedules, create_schedule))
        .routes(routes!(get_schedule, update_schedule, delete_schedule))
        .routes(routes!(pause_schedule))
        .routes(routes!(resume_schedule))
        .routes(routes!(trigger_schedule))
        .routes(routes!(backfill_schedule))
        .routes(routes!(schedule_runs))
        .routes(routes!(upcoming_fires))
}

/// Lists the tenant's schedules, oldest first.
#[utoipa::path(get, path = "/v1/schedules", tag = "schedules", security(("bearer" = [])), params(PageRequest),
    responses((status = 200, body = Page<Schedule>), (status = 401, body = Problem)))]
async fn list_schedules(
    State(platform): State<Platform>,
    principal: Principal,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> Result<Json<Page<Schedule>>, Error> {
    Ok(Json(platform.list_schedules(&principal, page).await?))
}

/// Creates a schedule. Its runs act as the caller, who must be allowed to start its target. Cron follows croner
/// (5 or 6 fields, `@daily` …) in an IANA time zone: a local time skipped by a spring-forward fires once at the
/// first valid instant after it, a repeated one once at its first occurrence.
#[utoipa::path(post, path = "/v1/schedules", tag = "schedules", security(("bearer" = [])),
    request_body = CreateScheduleRequest,
    responses((status = 201, body = Schedule), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn create_schedule(
    State(platform): State<Platform>,
    principal: Principal,
    ApiJson(request): ApiJson<CreateScheduleRequest>,
) -> Result<(StatusCode, Json<Schedule>), Error> {
    Ok((StatusCode::CREATED, Json(platform.create_schedule(&principal, request).await?)))
}

/// A schedule, with its state (next fire time, buffered fires, last run, counters).
#[utoipa::path(get, path = "/v1/schedules/{id}", tag = "schedules", security(("bearer" = [])),
    params(("id" = ScheduleId, Path, description = "Schedule id")),
    responses((status = 200, body = Schedule), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_schedule(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<ScheduleId>,
) -> Result<Json<Schedule>, Error> {
    Ok(Json(platform.get_schedule(&principal, id).await?))
}

/// Changes a schedule (the fields given).
#[utoipa::path(patch, path = "/v1/schedules/{id}", tag = "schedules", security(("bearer" = [])),
    params(("id" = ScheduleId, Path, description = "Schedule id")), request_body = UpdateScheduleRequest,
    responses((status = 200, body = Schedule), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_schedule(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<ScheduleId>,
    ApiJson(request): ApiJson<UpdateScheduleRequest>,
) -> Result<Json<Schedule>, Error> {
    Ok(Json(platform.update_schedule(&principal, id, request).await?))
}

/// Deletes a schedule; the runs it started stay.
#[utoipa::path(delete, path = "/v1/schedules/{id}", tag = "schedules", security(("bearer" = [])),
    params(("id" = ScheduleId, Path, description = "Schedule id")),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn delete_schedule(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<ScheduleId>,
) -> Result<StatusCode, Error> {
    platform.delete_schedule(&principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Pauses a schedule.
#[utoipa::path(post, path = "/v1/schedules/{id}/pause", tag = "schedules", security(("bearer" = [])),
    params(("id" = ScheduleId, Path, description = "Schedule id")), request_body = Option<PauseRequest>,
    responses((status = 200, body = Schedule), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn pause_schedule(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<ScheduleId>,
    ApiOptionalJson(request): ApiOptionalJson<PauseRequest>,
) -> Result<Json<Schedule>, Error> {
    Ok(Json(platform.pause_schedule(&principal, id, request.unwrap_or_default()).await?))
}

/// Resumes a paused schedule; the fire times that passed meanwhile are skipped and counted (reason `paused`).
#[utoipa::path(post, path = "/v1/schedules/{id}/resume", tag = "schedules", security(("bearer" = [])),
    params(("id" = ScheduleId, Path, description = "Schedule id")), request_body = Option<PauseRequest>,
    responses((status = 200, body = Schedule), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn resume_schedule(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<ScheduleId>,
    ApiOptionalJson(request): ApiOptionalJson<PauseRequest>,
) -> Result<Json<Schedule>, Error> {
    Ok(Json(platform.resume_schedule(&principal, id, request.unwrap_or_default()).await?))
}

/// Fires a schedule now, under its overlap policy unless the call names another: the fire starts a run, is
/// skipped (and counted, with the reason) or is buffered, exactly as a scheduled fire. Needs the permission to
/// start the target too.
#[utoipa::path(post, path = "/v1/schedules/{id}/trigger", tag = "schedules", security(("bearer" = [])),
    params(("id" = ScheduleId, Path, description = "Schedule id")), request_body = Option<TriggerRequest>,
    responses((status = 200, body = FireReport), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn trigger_schedule(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<ScheduleId>,
    ApiOptionalJson(request): ApiOptionalJson<TriggerRequest>,
) -> Result<Json<FireReport>, Error> {
    Ok(Json(platform.trigger_schedule(&principal, id, request.unwrap_or_default()).await?))
}

/// Acts on every fire time of the spec in `[from, to]` under the overlap policy (the schedule's unless the call
/// names another) and reports each one; a range of more than 1,000 fire times is refused, never cut short.
#[utoipa::path(post, path = "/v1/schedules/{id}/backfill", tag = "schedules", security(("bearer" = [])),
    params(("id" = ScheduleId, Path, description = "Schedule id")), request_body = BackfillRequest,
    responses((status = 200, body = BackfillReport), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn backfill_schedule(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<ScheduleId>,
    ApiJson(request): ApiJson<BackfillRequest>,
) -> Result<Json<BackfillReport>, Error> {
    Ok(Json(platform.backfill_schedule(&principal, id, request).await?))
}

/// The runs a schedule started, newest first (filtered like `GET /v1/runs`).
#[utoipa::path(get, path = "/v1/schedules/{id}/runs", tag = "schedules", security(("bearer" = [])),
    params(("id" = ScheduleId, Path, description = "Schedule id"), RunQuery),
    responses((status = 200, body = Page<Run>), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn schedule_runs(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<ScheduleId>,
    ApiQuery(query): ApiQuery<RunQuery>,
) -> Result<Json<Page<Run>>, Error> {
    Ok(Json(platform.schedule_runs(&principal, id, query).await?))
}

/// The next fire times (default 10, at most 100), in UTC and in the schedule's time zone.
#[utoipa::path(get, path = "/v1/schedules/{id}/upcoming", tag = "schedules", security(("bearer" = [])),
    params(("id" = ScheduleId, Path, description = "Schedule id"), UpcomingQuery),
    responses((status = 200, body = UpcomingFires), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn upcoming_fires(
    State(platform): State<Platform>,
    principal: Principal,
    ApiPath(id): ApiPath<ScheduleId>,
    ApiQuery(query): ApiQuery<UpcomingQuery>,
) -> Result<Json<UpcomingFires>, Error> {
    Ok(Json(platform.upcoming_fires(&principal, id, query.count).await?))
}

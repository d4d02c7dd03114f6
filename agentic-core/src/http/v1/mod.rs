//! Version 1 of the API: one module per resource, each contributing its routes.

mod agents;
mod api_keys;
mod approvals;
mod auth;
mod context;
mod costs;
mod departments;
mod events;
mod knowledge;
mod projects;
mod runs;
mod schedules;
mod settings;
mod system;
mod tenants;
mod users;
mod webhooks;

use utoipa_axum::router::OpenApiRouter;

use crate::Platform;

/// `/health` and `/ready`: the server's own, at the root (a host app that embeds the API has its own).
pub(super) fn system_routes() -> OpenApiRouter<Platform> {
    system::routes()
}

/// API routes that need no principal (login, tenant creation with the master key).
pub(super) fn public_routes() -> OpenApiRouter<Platform> {
    OpenApiRouter::new().merge(auth::public_routes()).merge(tenants::public_routes())
}

/// Routes behind the auth layer.
pub(super) fn protected_routes() -> OpenApiRouter<Platform> {
    OpenApiRouter::new()
        .merge(auth::protected_routes())
        .merge(tenants::protected_routes())
        .merge(users::routes())
        .merge(api_keys::routes())
        .merge(departments::routes())
        .merge(projects::routes())
        .merge(costs::routes())
        .merge(agents::routes())
        .merge(runs::routes())
        .merge(approvals::routes())
        .merge(events::routes())
        .merge(webhooks::routes())
        .merge(schedules::routes())
        .merge(context::routes())
        .merge(knowledge::routes())
        .merge(settings::routes())
}

//! Serving a router with what our layers need from the connection.

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;

/// Serves `app` (the platform's [`router`](super::router), or a host router that merged
/// [`api_router`](super::api_router)) on `listener` until `shutdown` completes, then lets in-flight requests
/// finish. Each request carries its peer address, which the per-IP rate limit keys on.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}

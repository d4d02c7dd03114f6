//! The console's stylesheet, script and icon, compiled into the binary and served from `/console/assets/`: a page loads
//! nothing from anywhere else.

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use crate::ConsoleError;

const STYLESHEET: &str = include_str!("../assets/console.css");
const SCRIPT: &str = include_str!("../assets/console.js");
/// The tab's icon: named by every page, so a browser does not ask the host for `/favicon.ico`.
const ICON: &str = include_str!("../assets/icon.svg");

/// `GET /console/assets/{file}`.
pub(crate) async fn serve(Path(file): Path<String>) -> Result<Response, ConsoleError> {
    let (content_type, body) = match file.as_str() {
        "console.css" => ("text/css; charset=utf-8", STYLESHEET),
        "console.js" => ("text/javascript; charset=utf-8", SCRIPT),
        "icon.svg" => ("image/svg+xml", ICON),
        _ => return Err(ConsoleError::NotFound),
    };
    // Revalidated on each use: a new binary's files are picked up at once, and they are small.
    Ok(([(CONTENT_TYPE, content_type), (CACHE_CONTROL, "no-cache")], body).into_response())
}

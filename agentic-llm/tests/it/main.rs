//! Adapters against recorded response shapes (wiremock), and the decorators on the mock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs, unreachable_pub)]

mod adapters;
mod decorators;
mod shapes;
mod structured;

//! # agentic-store-postgres
//!
//! The PostgreSQL backend of the agentic store traits. This crate is a skeleton until the PostgreSQL store lands:
//! it will implement every `agentic_core::store` trait with sqlx, embed its migrations, and enforce tenant scope a
//! second time with `FORCE ROW LEVEL SECURITY`, passing the same conformance suite as `agentic-store-memory`.
//! Until then the reference server refuses to start when `DATABASE_URL` is set, rather than silently keeping
//! data in memory.
//!
//! ```
//! // The traits this crate will implement:
//! fn _implements_later(_: &dyn agentic_core::store::Store) {}
//! ```

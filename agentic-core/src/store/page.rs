//! Cursor pagination over time-ordered ids.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Which page of a list to return: up to `limit` items whose id is greater than `after`.
///
/// Ids are UUID v7, so "greater" means "created later": pages are stable while rows are added.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageRequest {
    /// Page size, 1–200 (default 50).
    #[serde(default = "PageRequest::default_limit")]
    pub limit: u32,
    /// Return items after this id (the previous page's `next_cursor`).
    pub after: Option<Uuid>,
}

impl PageRequest {
    /// The largest page a store returns.
    pub const MAX_LIMIT: u32 = 200;

    const fn default_limit() -> u32 {
        50
    }

    /// The first page with the default size.
    pub const fn first() -> Self {
        Self { limit: Self::default_limit(), after: None }
    }

    /// `limit` clamped to 1..=[`Self::MAX_LIMIT`].
    pub fn effective_limit(&self) -> usize {
        self.limit.clamp(1, Self::MAX_LIMIT) as usize
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self::first()
    }
}

/// One page of a list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    /// The items, oldest first.
    pub data: Vec<T>,
    /// Pass as `after` to get the next page; absent on the last page.
    pub next_cursor: Option<Uuid>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` items sorted by id: the extra item only signals that more exist.
    pub fn from_overfetch(mut items: Vec<T>, limit: usize, id_of: impl Fn(&T) -> Uuid) -> Self {
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(&id_of)
        } else {
            None
        };
        Page { data: items, next_cursor }
    }

    /// Maps the items.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { data: self.data.into_iter().map(f).collect(), next_cursor: self.next_cursor }
    }
}

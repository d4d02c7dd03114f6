//! Users of one tenant.

use async_trait::async_trait;

use super::{Page, PageRequest, StoreResult};
use crate::ids::UserId;
use crate::model::{Email, User, UserPatch, UserRecord};

/// Users of the handle's tenant. Roles come back sorted (in [`Role`](crate::model::Role) order) and
/// de-duplicated, whatever order they were written in.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Inserts a user. [`StoreError::Conflict`](super::StoreError::Conflict) if the e-mail is taken in this tenant.
    async fn insert_user(&self, user: &UserRecord) -> StoreResult<()>;

    /// A user by id.
    async fn get_user(&self, id: UserId) -> StoreResult<Option<User>>;

    /// A user with their password hash, by e-mail (to sign in).
    async fn user_record_by_email(&self, email: &Email) -> StoreResult<Option<UserRecord>>;

    /// A page of users, oldest first.
    async fn list_users(&self, page: PageRequest) -> StoreResult<Page<User>>;

    /// Applies `patch` atomically and returns the updated user, or `None` if there is no such user.
    async fn update_user(&self, id: UserId, patch: &UserPatch) -> StoreResult<Option<User>>;
}

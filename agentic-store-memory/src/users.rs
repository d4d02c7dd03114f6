//! Users of one tenant: e-mail unique per tenant, roles kept canonical.

use agentic_core::ids::UserId;
use agentic_core::model::{Email, User, UserPatch, UserRecord};
use agentic_core::store::{Page, PageRequest, StoreError, StoreResult, UserStore};
use async_trait::async_trait;

use crate::state::{canonical_roles, page};
use crate::tenant::MemoryTenant;

#[async_trait]
impl UserStore for MemoryTenant {
    async fn insert_user(&self, record: &UserRecord) -> StoreResult<()> {
        let mut state = self.state.write();
        let user = &record.user;
        if !state.tenants.contains_key(&self.tenant) {
            return Err(StoreError::MissingReference { what: "the tenant".into() });
        }
        if state.emails.contains_key(&(self.tenant, user.email.clone())) {
            return Err(StoreError::conflict(format!("a user with email `{}`", user.email)));
        }
        if state.users.contains_key(&(self.tenant, user.id)) {
            return Err(StoreError::conflict("a user with this id"));
        }
        state.emails.insert((self.tenant, user.email.clone()), user.id);
        let user = User { tenant_id: self.tenant, roles: canonical_roles(&user.roles), ..user.clone() };
        state.users.insert((self.tenant, user.id), UserRecord { user, password_hash: record.password_hash.clone() });
        Ok(())
    }

    async fn get_user(&self, id: UserId) -> StoreResult<Option<User>> {
        Ok(self.state.read().users.get(&(self.tenant, id)).map(|r| r.user.clone()))
    }

    async fn user_record_by_email(&self, email: &Email) -> StoreResult<Option<UserRecord>> {
        let state = self.state.read();
        let id = state.emails.get(&(self.tenant, email.clone()));
        Ok(id.and_then(|id| state.users.get(&(self.tenant, *id))).cloned())
    }

    async fn list_users(&self, request: PageRequest) -> StoreResult<Page<User>> {
        let state = self.state.read();
        Ok(page(&state.users, self.tenant, request, |_| true, |r| r.user.clone(), |u| u.id.as_uuid()))
    }

    async fn update_user(&self, id: UserId, patch: &UserPatch) -> StoreResult<Option<User>> {
        let mut state = self.state.write();
        let Some(record) = state.users.get_mut(&(self.tenant, id)) else {
            return Ok(None);
        };
        if let Some(roles) = &patch.roles {
            record.user.roles = canonical_roles(roles);
        }
        if let Some(active) = patch.active {
            record.user.active = active;
        }
        if let Some(hash) = &patch.password_hash {
            record.password_hash = hash.clone();
        }
        record.user.updated_at = patch.at;
        Ok(Some(record.user.clone()))
    }
}

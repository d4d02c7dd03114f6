//! Sign-in and users.

use std::sync::OnceLock;

use secrecy::SecretString;

use crate::Platform;
use crate::api::{CreateUserRequest, UpdateUserRequest};
use crate::auth::jwt::IssuedToken;
use crate::auth::password::validate_new_password;
use crate::auth::{AuthError, Principal};
use crate::error::{Error, Result};
use crate::ids::UserId;
use crate::model::{Email, PasswordHash, Permission, Role, Slug, User, UserPatch, UserRecord, normalize_roles};
use crate::store::{Page, PageRequest, StoreError};

impl Platform {
    /// Signs in with tenant slug, e-mail and password, and issues an access token.
    ///
    /// Unknown tenant, unknown user, inactive user and wrong password all answer [`AuthError::InvalidLogin`], and
    /// take the time of one password verification, so neither the answer nor its timing tells which.
    ///
    /// Guessing is bounded per account (what was typed, known or not): after
    /// [`FREE_FAILURES`](crate::auth::lockout::FREE_FAILURES) failures each further one locks the account for
    /// twice as long as the last ([`Error::TooManyAttempts`], no password is checked meanwhile), and with rate
    /// limits on, the policy's `login_per_account` bounds attempts across replicas. Password checks wait for a
    /// slot of the platform's hashing gate ([`Error::Overloaded`] when too many wait).
    pub async fn login(&self, tenant: &str, email: &str, password: SecretString) -> Result<IssuedToken> {
        let now = self.inner.clock.now();
        if let Some(wait) = self.inner.lockout.locked_for(tenant, email, now) {
            return Err(locked(wait));
        }
        self.limit_login(tenant, email).await?;
        let record = match (Slug::parse(tenant), Email::parse(email)) {
            (Ok(slug), Ok(email)) => match self.inner.store.system().tenant_by_slug(&slug).await? {
                Some(tenant) => self.inner.store.tenant(tenant.id).user_record_by_email(&email).await?,
                None => None,
            },
            _ => None,
        };
        let hash = record.as_ref().map_or_else(|| dummy_hash().clone(), |r| r.password_hash.clone());
        let password_ok = self.inner.hashing.verify(password, hash).await?;
        let user = match record {
            Some(record) if password_ok && record.user.active => record.user,
            _ => {
                self.inner.lockout.failed(tenant, email, self.inner.clock.now());
                return Err(AuthError::InvalidLogin.into());
            }
        };
        self.inner.lockout.succeeded(tenant, email);
        self.inner.jwt.issue(user.tenant_id, user.id, &user.roles, self.inner.clock.now())
    }

    /// Consumes one sign-in attempt of the account from the shared limiter, when rate limits are on.
    async fn limit_login(&self, tenant: &str, email: &str) -> Result<()> {
        let Some((limiter, policy)) = &self.inner.rate_limits else { return Ok(()) };
        let Some(check) = policy.login_check(tenant, email) else { return Ok(()) };
        match limiter.check(std::slice::from_ref(&check)).await {
            Ok(decision) if decision.allowed => Ok(()),
            Ok(decision) => {
                self.inner.metrics.limits.hits_total.with_label_values(&[check.scope.as_str()]).inc();
                let wait = std::time::Duration::from_secs(decision.retry_after_secs());
                Err(Error::TooManyAttempts {
                    reason: "too many sign-in attempts to this account".into(),
                    retry_after: wait,
                })
            }
            Err(error) if policy.fail_mode.lets_through(&error, &self.inner.metrics) => Ok(()),
            Err(_) => Err(Error::Overloaded { retry_after: std::time::Duration::from_secs(1) }),
        }
    }

    /// The calling user.
    pub async fn me(&self, principal: &Principal) -> Result<User> {
        self.get_user_unchecked(principal, principal.user_id).await
    }

    /// Creates a user. Needs `users:manage`.
    pub async fn create_user(&self, principal: &Principal, request: CreateUserRequest) -> Result<User> {
        principal.require(Permission::UsersManage)?;
        let email = Email::parse(&request.email)?;
        let roles = normalize_roles(request.roles)?;
        validate_new_password(&request.password)?;
        let password_hash = self.inner.hashing.hash(request.password).await?;
        let now = self.inner.clock.now();
        let user = User {
            id: UserId::new(),
            tenant_id: principal.tenant_id,
            email,
            roles,
            active: true,
            created_at: now,
            updated_at: now,
        };
        let record = UserRecord { user, password_hash };
        self.inner.store.tenant(principal.tenant_id).insert_user(&record).await.map_err(|e| match e {
            StoreError::Conflict { .. } => Error::Conflict(format!("a user with email `{}` exists", record.user.email)),
            other => other.into(),
        })?;
        Ok(record.user)
    }

    /// A page of the tenant's users. Needs `users:manage`.
    pub async fn list_users(&self, principal: &Principal, page: PageRequest) -> Result<Page<User>> {
        principal.require(Permission::UsersManage)?;
        Ok(self.inner.store.tenant(principal.tenant_id).list_users(page).await?)
    }

    /// A user of the tenant. Needs `users:manage`, except for oneself.
    pub async fn get_user(&self, principal: &Principal, id: UserId) -> Result<User> {
        if id != principal.user_id {
            principal.require(Permission::UsersManage)?;
        }
        self.get_user_unchecked(principal, id).await
    }

    /// Changes a user's roles, active flag or password. Needs `users:manage`.
    ///
    /// Nobody may deactivate themselves or remove their own admin role: that is how a tenant locks itself out.
    pub async fn update_user(&self, principal: &Principal, id: UserId, request: UpdateUserRequest) -> Result<User> {
        principal.require(Permission::UsersManage)?;
        let roles = request.roles.map(normalize_roles).transpose()?;
        if id == principal.user_id {
            if request.active == Some(false) {
                return Err(Error::Conflict("you cannot deactivate yourself".into()));
            }
            let me = self.get_user_unchecked(principal, id).await?;
            if me.roles.contains(&Role::Admin) && roles.as_ref().is_some_and(|r| !r.contains(&Role::Admin)) {
                return Err(Error::Conflict("you cannot remove your own admin role".into()));
            }
        }
        let password_hash = match request.password {
            Some(password) => {
                validate_new_password(&password)?;
                Some(self.inner.hashing.hash(password).await?)
            }
            None => None,
        };
        let patch = UserPatch { at: self.inner.clock.now(), roles, active: request.active, password_hash };
        self.inner.store.tenant(principal.tenant_id).update_user(id, &patch).await?.ok_or(Error::NotFound("user"))
    }

    async fn get_user_unchecked(&self, principal: &Principal, id: UserId) -> Result<User> {
        self.inner.store.tenant(principal.tenant_id).get_user(id).await?.ok_or(Error::NotFound("user"))
    }
}

/// A valid hash of a random password, verified against when the user does not exist, so that an unknown e-mail
/// costs the same time as a wrong password. Computed once per process: it depends on nothing but randomness.
fn dummy_hash() -> &'static PasswordHash {
    static DUMMY: OnceLock<PasswordHash> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut random = [0_u8; 24];
        // If the RNG fails the zero password still yields a valid hash of equal cost; nobody can sign in with it
        // because the account does not exist.
        let _ = getrandom::fill(&mut random);
        let text: String = random.iter().map(|b| format!("{b:02x}")).collect();
        crate::auth::password::hash_password_blocking(&SecretString::from(text))
            .unwrap_or_else(|_| PasswordHash::from_phc(String::new()))
    })
}

fn locked(wait: std::time::Duration) -> Error {
    Error::TooManyAttempts { reason: "too many failed sign-ins to this account".into(), retry_after: wait }
}

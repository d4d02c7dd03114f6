//! Tenants: creation with a first admin, reading one's own, bootstrapping an empty platform.

use secrecy::SecretString;

use crate::Platform;
use crate::api::CreateTenantRequest;
use crate::auth::password::validate_new_password;
use crate::auth::{Principal, api_key};
use crate::error::{Error, Result};
use crate::ids::{ApiKeyId, TenantId, UserId};
use crate::model::{
    ApiKey, Email, Permission, PermissionSet, Plan, Role, Slug, StoredApiKey, Tenant, User, UserRecord,
    ValidationError, validate_name,
};
use crate::store::StoreError;

/// What to create when the platform starts with no tenants.
#[derive(Debug)]
pub struct Bootstrap {
    /// Slug (and name) of the tenant.
    pub slug: String,
    /// Plan of the tenant.
    pub plan: Plan,
    /// E-mail of its admin.
    pub admin_email: String,
    /// Password of its admin.
    pub admin_password: SecretString,
    /// The admin's API key; `None` generates one.
    pub api_key: Option<SecretString>,
}

/// What bootstrapping created; the caller shows the secrets once.
#[derive(Debug)]
pub struct BootstrapReport {
    /// The tenant.
    pub tenant: Tenant,
    /// Its admin.
    pub admin: User,
    /// The admin's API key text.
    pub api_key: SecretString,
    /// Whether the key was generated (rather than supplied).
    pub api_key_generated: bool,
}

impl Platform {
    /// Creates a tenant and its first admin. The caller must present the platform master key.
    pub async fn create_tenant(
        &self,
        master_key: Option<&str>,
        request: CreateTenantRequest,
    ) -> Result<(Tenant, User)> {
        self.check_master_key(master_key)?;
        self.create_tenant_unchecked(request).await
    }

    /// Creates a tenant without checking a master key: for host apps and bootstrapping.
    pub async fn create_tenant_unchecked(&self, request: CreateTenantRequest) -> Result<(Tenant, User)> {
        let (tenant, record) = self.tenant_records(request).await?;
        self.inner.store.system().create_tenant(&tenant, &record).await.map_err(|e| match e {
            StoreError::Conflict { .. } => Error::Conflict(format!("the slug `{}` is taken", tenant.slug)),
            other => other.into(),
        })?;
        tracing::info!(tenant_id = %tenant.id, slug = %tenant.slug, "tenant created");
        Ok((tenant, record.user))
    }

    /// A new tenant and its first admin from a validated request (the password hashed), not yet stored.
    async fn tenant_records(&self, request: CreateTenantRequest) -> Result<(Tenant, UserRecord)> {
        let name = validate_name("name", &request.name, 200)?;
        let slug = Slug::parse(&request.slug)?;
        let settings = request.settings.unwrap_or_else(|| serde_json::json!({}));
        if !settings.is_object() {
            return Err(ValidationError::new("settings", "must be a JSON object").into());
        }
        let email = Email::parse(&request.admin_email).map_err(|e| rename_field(e, "admin_email"))?;
        validate_new_password(&request.admin_password).map_err(|e| rename_field(e, "admin_password"))?;
        let password_hash = self.inner.hashing.hash(request.admin_password).await?;
        let now = self.inner.clock.now();
        let tenant =
            Tenant { id: TenantId::new(), name, slug, plan: request.plan, settings, created_at: now, updated_at: now };
        let admin = User {
            id: UserId::new(),
            tenant_id: tenant.id,
            email,
            roles: vec![Role::Admin],
            active: true,
            created_at: now,
            updated_at: now,
        };
        Ok((tenant, UserRecord { user: admin, password_hash }))
    }

    /// Renames a tenant or changes its plan tier. The caller must present the platform master key (tenants do not
    /// choose their own tier); an unknown tenant is not found.
    pub async fn update_tenant(
        &self,
        master_key: Option<&str>,
        id: TenantId,
        request: crate::api::UpdateTenantRequest,
    ) -> Result<Tenant> {
        self.check_master_key(master_key)?;
        let name = request.name.as_deref().map(|name| validate_name("name", name, 200)).transpose()?;
        let now = self.inner.clock.now();
        let store = self.inner.store.tenant(id);
        let tenant = store.update_tenant(name.as_deref(), request.plan, now).await?.ok_or(Error::NotFound("tenant"))?;
        tracing::info!(tenant_id = %id, plan = %tenant.plan, "tenant updated");
        Ok(tenant)
    }

    /// The caller's own tenant; any other id answers not found.
    pub async fn get_tenant(&self, principal: &Principal, id: TenantId) -> Result<Tenant> {
        if id != principal.tenant_id {
            return Err(Error::NotFound("tenant"));
        }
        self.inner.store.tenant(id).get_tenant().await?.ok_or(Error::NotFound("tenant"))
    }

    /// If no tenant exists, creates one with an admin and an admin API key with every permission, all three in
    /// one step: a crash midway leaves nothing, so the next start bootstraps again.
    ///
    /// Returns `None` when tenants already exist (a restart on a persistent store, or another replica that
    /// bootstrapped first).
    pub async fn bootstrap(&self, bootstrap: Bootstrap) -> Result<Option<BootstrapReport>> {
        let store = self.inner.store.system();
        if store.has_tenants().await? {
            return Ok(None);
        }
        let material = match &bootstrap.api_key {
            Some(text) => api_key::import(secrecy::ExposeSecret::expose_secret(text))?,
            None => api_key::generate()?,
        };
        let request = CreateTenantRequest {
            name: bootstrap.slug.clone(),
            slug: bootstrap.slug,
            plan: bootstrap.plan,
            settings: None,
            admin_email: bootstrap.admin_email,
            admin_password: bootstrap.admin_password,
        };
        let (tenant, record) = self.tenant_records(request).await?;
        let admin = record.user.clone();
        let now = self.inner.clock.now();
        let key = StoredApiKey {
            key: ApiKey {
                id: ApiKeyId::new(),
                tenant_id: tenant.id,
                owner_id: admin.id,
                name: "bootstrap".into(),
                prefix: api_key::display_prefix(&material.lookup),
                scopes: Permission::ALL.into_iter().collect::<PermissionSet>(),
                expires_at: None,
                last_used_at: None,
                revoked_at: None,
                created_at: now,
            },
            lookup: material.lookup,
            hash: material.hash,
        };
        if !self.inner.store.system().bootstrap_tenant(&tenant, &record, &key).await? {
            tracing::info!("a tenant exists already; not bootstrapping");
            return Ok(None);
        }
        tracing::info!(tenant_id = %tenant.id, slug = %tenant.slug, "bootstrapped the first tenant");
        Ok(Some(BootstrapReport {
            tenant,
            admin,
            api_key: material.plaintext,
            api_key_generated: bootstrap.api_key.is_none(),
        }))
    }
}

pub(crate) fn rename_field(mut error: ValidationError, field: &str) -> ValidationError {
    field.clone_into(&mut error.field);
    error
}

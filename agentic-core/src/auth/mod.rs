//! Authentication: who is calling, and what may they do.
//!
//! Two credentials reach the platform as `Authorization: Bearer …`: short-lived JWT access tokens issued at login
//! ([`jwt`]) and long-lived API keys (`agk_…`, [`api_key`]). Both resolve, through an [`Authenticator`], to one
//! [`Principal`]: a tenant, the user acting, and the permissions they hold *now* (the user's current roles, and for
//! an API key the intersection with its scopes). Handlers check permissions with [`Principal::require`].

pub mod api_key;
mod authenticator;
mod error;
pub mod jwt;
pub mod lockout;
pub mod password;
mod principal;

pub use authenticator::{Authenticator, PlatformAuthenticator};
pub use error::AuthError;
pub use principal::{Credential, Principal};

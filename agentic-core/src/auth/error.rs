//! Why a credential was refused.

/// A refused credential. Every variant answers HTTP 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No `Authorization: Bearer` header.
    #[error("missing credentials: send `Authorization: Bearer <token or API key>`")]
    MissingCredentials,
    /// The header is not `Bearer <credential>`.
    #[error("malformed Authorization header: expected `Bearer <token or API key>`")]
    MalformedHeader,
    /// The token is not a valid, correctly signed JWT for this platform.
    #[error("invalid access token")]
    InvalidToken,
    /// The token names a signing key this platform does not know.
    #[error("invalid access token: unknown signing key")]
    UnknownKey,
    /// The token's `exp` has passed.
    #[error("access token expired")]
    ExpiredToken,
    /// The token's `nbf` is in the future.
    #[error("access token not yet valid")]
    TokenNotYetValid,
    /// No API key matches.
    #[error("invalid API key")]
    InvalidApiKey,
    /// The API key was revoked.
    #[error("API key revoked")]
    RevokedApiKey,
    /// The API key's expiry has passed.
    #[error("API key expired")]
    ExpiredApiKey,
    /// The user is inactive or no longer exists.
    #[error("user inactive or removed")]
    InactiveUser,
    /// Login refused: unknown tenant or user, or wrong password (deliberately indistinguishable).
    #[error("invalid tenant, email or password")]
    InvalidLogin,
    /// The platform master key was missing or wrong.
    #[error("invalid master key")]
    InvalidMasterKey,
    /// The metrics token was missing or wrong.
    #[error("invalid metrics token")]
    InvalidMetricsToken,
}

impl AuthError {
    /// A short, stable name for the refusal: the `reason` label of `auth_failures_total`.
    pub const fn reason(&self) -> &'static str {
        match self {
            Self::MissingCredentials => "missing_credentials",
            Self::MalformedHeader => "malformed_header",
            Self::InvalidToken => "invalid_token",
            Self::UnknownKey => "unknown_key",
            Self::ExpiredToken => "expired_token",
            Self::TokenNotYetValid => "token_not_yet_valid",
            Self::InvalidApiKey => "invalid_api_key",
            Self::RevokedApiKey => "revoked_api_key",
            Self::ExpiredApiKey => "expired_api_key",
            Self::InactiveUser => "inactive_user",
            Self::InvalidLogin => "invalid_login",
            Self::InvalidMasterKey => "invalid_master_key",
            Self::InvalidMetricsToken => "invalid_metrics_token",
        }
    }

    /// Every refusal, for exporting each `reason` from the start.
    pub const ALL: [Self; 13] = [
        Self::MissingCredentials,
        Self::MalformedHeader,
        Self::InvalidToken,
        Self::UnknownKey,
        Self::ExpiredToken,
        Self::TokenNotYetValid,
        Self::InvalidApiKey,
        Self::RevokedApiKey,
        Self::ExpiredApiKey,
        Self::InactiveUser,
        Self::InvalidLogin,
        Self::InvalidMasterKey,
        Self::InvalidMetricsToken,
    ];
}

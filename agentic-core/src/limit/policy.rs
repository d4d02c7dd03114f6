//! Which limits apply to a request.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;

use super::{LimitCheck, LimitScope};
use crate::auth::Principal;
use crate::model::{Plan, Role};

/// `limit` requests per `period`, with bursts up to `limit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Quota {
    /// Requests per period (at least 1).
    pub limit: u32,
    /// The period.
    pub period: Duration,
}

impl Quota {
    /// A quota; a zero limit is raised to 1 and a zero period to 1 µs.
    pub fn new(limit: u32, period: Duration) -> Self {
        Self { limit: limit.max(1), period: period.max(Duration::from_micros(1)) }
    }

    /// `limit` per minute.
    pub fn per_minute(limit: u32) -> Self {
        Self::new(limit, Duration::from_secs(60))
    }

    /// `limit` per hour.
    pub fn per_hour(limit: u32) -> Self {
        Self::new(limit, Duration::from_secs(3600))
    }

    /// The spacing of requests, in microseconds (at least 1).
    pub fn interval_micros(&self) -> i64 {
        let period = i64::try_from(self.period.as_micros()).unwrap_or(i64::MAX);
        (period / i64::from(self.limit.max(1))).max(1)
    }
}

/// A quota text that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a rate like `100/hour` (units: second, minute, hour, day) or `unlimited`")]
pub struct QuotaParseError(pub String);

/// Parses `N/second|minute|hour|day`; `unlimited` is `None`.
fn parse_rate(text: &str) -> Result<Option<Quota>, QuotaParseError> {
    let err = || QuotaParseError(text.to_owned());
    let text = text.trim();
    if text.eq_ignore_ascii_case("unlimited") {
        return Ok(None);
    }
    let (count, unit) = text.split_once('/').ok_or_else(err)?;
    let limit: u32 = count.trim().parse().map_err(|_| err())?;
    let period = match unit.trim().to_ascii_lowercase().as_str() {
        "s" | "sec" | "second" => Duration::from_secs(1),
        "m" | "min" | "minute" => Duration::from_secs(60),
        "h" | "hour" => Duration::from_secs(3600),
        "d" | "day" => Duration::from_secs(86_400),
        _ => return Err(err()),
    };
    if limit == 0 {
        return Err(err());
    }
    Ok(Some(Quota::new(limit, period)))
}

impl FromStr for Quota {
    type Err = QuotaParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_rate(s)?.ok_or_else(|| QuotaParseError(s.to_owned()))
    }
}

impl fmt::Display for Quota {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.period.as_secs() {
            1 => write!(f, "{}/second", self.limit),
            60 => write!(f, "{}/minute", self.limit),
            3600 => write!(f, "{}/hour", self.limit),
            86_400 => write!(f, "{}/day", self.limit),
            _ => write!(f, "{} per {:?}", self.limit, self.period),
        }
    }
}

/// What to do when the limiter cannot decide.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailMode {
    /// Let requests through (availability first).
    #[default]
    Open,
    /// Refuse with 503 (protection first).
    Closed,
}

impl FailMode {
    /// Whether a request the limiter could not decide on (`error`) goes through: counted in
    /// `rate_limit_backend_errors_total` and logged with the mode either way. Every caller of the limiter (the
    /// HTTP layer, sign-in) applies this one rule.
    pub fn lets_through(self, error: &dyn fmt::Display, metrics: &crate::metrics::Metrics) -> bool {
        metrics.limits.backend_errors_total.inc();
        match self {
            FailMode::Open => {
                tracing::warn!(%error, fail_mode = "open", "rate limiter unavailable; letting the request through");
                true
            }
            FailMode::Closed => {
                tracing::warn!(%error, fail_mode = "closed", "rate limiter unavailable; refusing the request");
                false
            }
        }
    }
}

/// Per-tenant quotas by plan; `None` is unlimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlanQuotas {
    /// Plan `free`.
    pub free: Option<Quota>,
    /// Plan `developer`.
    pub developer: Option<Quota>,
    /// Plan `enterprise`.
    pub enterprise: Option<Quota>,
}

impl Default for PlanQuotas {
    /// The plan's tiers: free 100/hour, developer 1000/hour, enterprise unlimited.
    fn default() -> Self {
        Self { free: Some(Quota::per_hour(100)), developer: Some(Quota::per_hour(1000)), enterprise: None }
    }
}

impl PlanQuotas {
    /// The quota of `plan`.
    pub fn of(&self, plan: Plan) -> Option<Quota> {
        match plan {
            Plan::Free => self.free,
            Plan::Developer => self.developer,
            Plan::Enterprise => self.enterprise,
        }
    }
}

/// A per-principal limit on one route, replacing the principal's general limit there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteOverride {
    /// HTTP method (`POST`), or `None` for any.
    pub method: Option<String>,
    /// The route template as the router knows it, e.g. `/v1/agents/{name}/execute`.
    pub route: String,
    /// The quota.
    pub quota: Quota,
}

impl RouteOverride {
    /// Parses `"POST /v1/agents/{name}/execute"` (method optional) and a rate.
    pub fn parse(route: &str, rate: &str) -> Result<Self, QuotaParseError> {
        let (method, route) = match route.trim().split_once(' ') {
            Some((m, r)) => (Some(m.trim().to_ascii_uppercase()), r.trim().to_owned()),
            None => (None, route.trim().to_owned()),
        };
        Ok(Self { method, route, quota: rate.parse()? })
    }

    fn matches(&self, method: &str, route: &str) -> bool {
        self.route == route && self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method))
    }
}

/// Every limit the platform applies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimitPolicy {
    /// Per client IP, before authentication (protects login and tenant creation).
    pub per_ip: Option<Quota>,
    /// Per tenant, by plan.
    pub plans: PlanQuotas,
    /// Per principal, unless a role or route override applies.
    pub per_principal: Option<Quota>,
    /// Per principal by role: the loosest quota among the principal's roles wins.
    pub roles: Vec<(Role, Quota)>,
    /// Per principal on specific routes; wins over the role and general limits there.
    pub routes: Vec<RouteOverride>,
    /// Sign-in attempts per account (tenant slug + e-mail, whether or not it exists), across replicas when the
    /// limiter is shared; on top of each process's doubling lockout after failures.
    pub login_per_account: Option<Quota>,
    /// What to do when the limiter cannot decide.
    pub fail_mode: FailMode,
}

impl Default for RateLimitPolicy {
    /// Plan tiers as in [`PlanQuotas::default`], 1200/minute per IP, agent execution 10/minute and workflow
    /// starts 5/minute per user.
    fn default() -> Self {
        Self {
            per_ip: Some(Quota::per_minute(1200)),
            plans: PlanQuotas::default(),
            per_principal: None,
            roles: Vec::new(),
            routes: vec![
                RouteOverride {
                    method: Some("POST".into()),
                    route: "/v1/agents/{name}/execute".into(),
                    quota: Quota::per_minute(10),
                },
                RouteOverride {
                    method: Some("POST".into()),
                    route: "/v1/workflows".into(),
                    quota: Quota::per_minute(5),
                },
            ],
            login_per_account: Some(Quota::per_minute(10)),
            fail_mode: FailMode::Open,
        }
    }
}

impl RateLimitPolicy {
    /// Parses a rate for configuration (`unlimited` → `None`).
    pub fn parse_rate(text: &str) -> Result<Option<Quota>, QuotaParseError> {
        parse_rate(text)
    }

    /// The check for a client IP, if limited. An IPv6 client is limited by its /64, the block one subscriber
    /// typically holds (a per-address key would let them rotate through 2^64 addresses); an IPv4-mapped IPv6
    /// address counts as its IPv4 address.
    pub fn ip_check(&self, ip: std::net::IpAddr) -> Option<LimitCheck> {
        let key = match ip {
            std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => format!("ip:{v4}"),
                None => {
                    let network = u128::from(v6) & !((1_u128 << 64) - 1);
                    format!("ip:{}/64", std::net::Ipv6Addr::from(network))
                }
            },
            std::net::IpAddr::V4(v4) => format!("ip:{v4}"),
        };
        self.per_ip.map(|quota| LimitCheck { key, quota, scope: LimitScope::Ip })
    }

    /// The check for a sign-in to the account `email` of tenant `slug`, if limited. The e-mail is hashed into
    /// the key (limiter keys may be visible to whoever operates Redis).
    pub fn login_check(&self, slug: &str, email: &str) -> Option<LimitCheck> {
        let quota = self.login_per_account?;
        let (slug, email) = crate::auth::lockout::account_key(slug, email);
        let account = format!("{slug}\n{email}");
        let digest = crate::auth::api_key::hash(&account);
        let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        Some(LimitCheck { key: format!("login:{hex}"), quota, scope: LimitScope::Account })
    }

    /// The checks for an authenticated request: the tenant's plan quota, and the principal's route, role or
    /// general quota (the first that applies, in that order). The principal is the user, whatever credential
    /// it presents: a user's API keys share its buckets, so minting keys does not multiply its limits. Every key
    /// carries the tenant as a Redis Cluster hash tag (`{<tenant id>}`), so the keys of one decision live in one
    /// slot and one script may touch them all.
    pub fn principal_checks(&self, principal: &Principal, plan: Plan, method: &str, route: &str) -> Vec<LimitCheck> {
        let mut checks = Vec::with_capacity(2);
        let tenant = principal.tenant_id;
        if let Some(quota) = self.plans.of(plan) {
            checks.push(LimitCheck { key: format!("t:{{{tenant}}}"), quota, scope: LimitScope::Tenant });
        }
        let who = format!("{{{tenant}}}:u:{}", principal.user_id);
        if let Some(o) = self.routes.iter().find(|o| o.matches(method, route)) {
            let key = format!("r:{who}:{} {}", o.method.as_deref().unwrap_or("*"), o.route);
            checks.push(LimitCheck { key, quota: o.quota, scope: LimitScope::Route });
        } else if let Some(quota) = self.role_quota(&principal.roles).or(self.per_principal) {
            checks.push(LimitCheck { key: format!("p:{who}"), quota, scope: LimitScope::Principal });
        }
        checks
    }

    fn role_quota(&self, roles: &[Role]) -> Option<Quota> {
        self.roles
            .iter()
            .filter(|(role, _)| roles.contains(role))
            .map(|(_, quota)| *quota)
            .max_by(|a, b| b.interval_micros().cmp(&a.interval_micros()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Credential;
    use crate::ids::{TenantId, UserId};
    use crate::model::PermissionSet;

    #[test]
    fn rates_parse() {
        let check = |text: &str, expected: Option<Option<(u32, u64)>>| {
            let got = parse_rate(text).ok().map(|q| q.map(|q| (q.limit, q.period.as_secs())));
            assert_eq!(got, expected, "{text}");
        };
        check("100/hour", Some(Some((100, 3600))));
        check(" 10 / minute ", Some(Some((10, 60))));
        check("5/s", Some(Some((5, 1))));
        check("unlimited", Some(None));
        check("0/hour", None);
        check("ten/hour", None);
        check("100/fortnight", None);
        check("100", None);
        assert_eq!(Quota::per_hour(100).to_string(), "100/hour");
    }

    #[test]
    fn checks_follow_plan_role_and_route() {
        let mut policy = RateLimitPolicy::default();
        policy.roles.push((Role::Viewer, Quota::per_minute(30)));
        policy.roles.push((Role::Developer, Quota::per_minute(60)));
        let principal = Principal {
            tenant_id: TenantId::new(),
            user_id: UserId::new(),
            credential: Credential::AccessToken,
            roles: vec![Role::Developer, Role::Viewer],
            permissions: PermissionSet::EMPTY,
        };
        let general = policy.principal_checks(&principal, Plan::Free, "GET", "/v1/projects");
        assert_eq!(general.len(), 2);
        assert_eq!((general[0].scope, general[0].quota), (LimitScope::Tenant, Quota::per_hour(100)));
        assert_eq!((general[1].scope, general[1].quota), (LimitScope::Principal, Quota::per_minute(60)));
        let execute = policy.principal_checks(&principal, Plan::Enterprise, "POST", "/v1/agents/{name}/execute");
        assert_eq!(execute.len(), 1, "enterprise has no tenant quota");
        assert_eq!((execute[0].scope, execute[0].quota), (LimitScope::Route, Quota::per_minute(10)));
        assert!(policy.principal_checks(&principal, Plan::Enterprise, "GET", "/v1/agents/{name}/execute").len() == 1);
        assert_eq!(RouteOverride::parse("post /v1/x", "5/minute").unwrap().method.as_deref(), Some("POST"));
        let workflows = policy.principal_checks(&principal, Plan::Enterprise, "POST", "/v1/workflows");
        assert_eq!((workflows[0].scope, workflows[0].quota), (LimitScope::Route, Quota::per_minute(5)));
    }

    #[test]
    fn a_users_keys_share_its_buckets_and_one_decisions_keys_share_a_hash_slot() {
        let policy = RateLimitPolicy { per_principal: Some(Quota::per_minute(60)), ..RateLimitPolicy::default() };
        let user = UserId::new();
        let as_credential = |credential| Principal {
            tenant_id: TenantId::from_uuid(uuid::Uuid::nil()),
            user_id: user,
            credential,
            roles: vec![Role::Developer],
            permissions: PermissionSet::EMPTY,
        };
        let keys = |principal: &Principal, route: &str| -> Vec<String> {
            policy.principal_checks(principal, Plan::Free, "POST", route).into_iter().map(|c| c.key).collect()
        };
        let token = as_credential(Credential::AccessToken);
        let key_one = as_credential(Credential::ApiKey { id: crate::ids::ApiKeyId::new() });
        let key_two = as_credential(Credential::ApiKey { id: crate::ids::ApiKeyId::new() });
        for route in ["/v1/projects", "/v1/agents/{name}/execute"] {
            assert_eq!(keys(&token, route), keys(&key_one, route), "{route}");
            assert_eq!(keys(&key_one, route), keys(&key_two, route), "{route}");
            let tag = format!("{{{}}}", uuid::Uuid::nil());
            for key in keys(&key_one, route) {
                assert_eq!(key.find('{').map(|at| &key[at..at + tag.len()]), Some(tag.as_str()), "{key}");
            }
        }
    }

    #[test]
    fn ipv6_clients_are_limited_by_their_64() {
        let policy = RateLimitPolicy::default();
        let key = |ip: &str| policy.ip_check(ip.parse().unwrap()).unwrap().key;
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:ffff:ffff:ffff:ffff"));
        assert_eq!(key("2001:db8:1:2::7"), "ip:2001:db8:1:2::/64");
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.7"), "ip:192.0.2.7");
        assert_eq!(key("192.0.2.7"), "ip:192.0.2.7");
    }
}

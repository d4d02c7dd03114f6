//! Tenants' own agents.

use std::sync::Arc;

use super::fixtures::{now, tenant_with_admin};
use super::{Case, case};
use crate::agents::{AgentKey, AgentSpec};
use crate::ids::{TenantId, UserId};
use crate::store::{Store, StoredAgent};

pub(super) fn cases() -> Vec<(&'static str, Case)> {
    vec![case!(tenant_agents_upsert_and_stay_in_their_tenant)]
}

fn agent(tenant: TenantId, by: UserId, key: &str, role: &str) -> StoredAgent {
    let yaml = format!(
        "# ours\nname: Reviewer\nrole: {role}\ngoal: Review\nbackstory: Careful\ntools: [secret_detector]\nllm: {{provider: ollama, model: llama3.2}}\n"
    );
    StoredAgent {
        tenant_id: tenant,
        key: AgentKey::parse(key).unwrap(),
        spec: AgentSpec::from_yaml(&yaml, &crate::agents::KnownNames::any()).unwrap(),
        yaml,
        updated_by: by,
        updated_at: now(),
    }
}

async fn tenant_agents_upsert_and_stay_in_their_tenant(store: Arc<dyn Store>) {
    let (a, a_admin) = tenant_with_admin(&*store, "alpha").await;
    let (b, b_admin) = tenant_with_admin(&*store, "bravo").await;
    let handle = store.tenant(a.id);
    let first = agent(a.id, a_admin.user.id, "reviewer", "Code Reviewer");
    handle.put_agent(&first).await.unwrap();
    assert_eq!(handle.get_agent(&first.key).await.unwrap(), Some(first.clone()));
    let second = agent(a.id, a_admin.user.id, "reviewer", "Senior Code Reviewer");
    handle.put_agent(&second).await.unwrap();
    let stored = handle.get_agent(&first.key).await.unwrap().unwrap();
    assert_eq!(stored.spec.role, "Senior Code Reviewer");
    assert!(stored.yaml.starts_with("# ours"), "the YAML is kept verbatim");
    let other = agent(a.id, a_admin.user.id, "auditor", "Auditor");
    handle.put_agent(&other).await.unwrap();
    let keys: Vec<String> = handle.list_agents().await.unwrap().into_iter().map(|s| s.key.to_string()).collect();
    assert_eq!(keys, vec!["auditor", "reviewer"]);

    let b_handle = store.tenant(b.id);
    assert_eq!(b_handle.get_agent(&first.key).await.unwrap(), None);
    assert!(b_handle.list_agents().await.unwrap().is_empty());
    // Written through B's handle, it is B's, whatever it claims.
    b_handle.put_agent(&agent(a.id, b_admin.user.id, "reviewer", "B's reviewer")).await.unwrap();
    assert_eq!(handle.get_agent(&first.key).await.unwrap().unwrap().spec.role, "Senior Code Reviewer");
    assert_eq!(b_handle.get_agent(&first.key).await.unwrap().unwrap().tenant_id, b.id);
    // The author must be a user of the tenant.
    assert!(b_handle.put_agent(&agent(b.id, a_admin.user.id, "x_agent", "X")).await.is_err());
}

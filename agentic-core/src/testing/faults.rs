//! A store that fails on demand: wraps any [`Store`] and makes chosen operations return
//! [`StoreError::Unavailable`] (as a pool timeout or a lost connection would) a given number of times, so tests
//! can show what the engine does when the store fails at the worst moment.
//!
//! ```
//! use std::sync::Arc;
//! use agentic_core::store::Store;
//! use agentic_core::testing::faults::{FaultyStore, Op};
//!
//! let (store, faults) = FaultyStore::wrap(Arc::new(agentic_store_memory::MemoryStore::new()));
//! faults.fail(Op::Settle, 3); // the next three settlements fail
//! let _store: Arc<dyn Store> = Arc::new(store);
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use parking_lot::Mutex;

use crate::agents::AgentKey;
use crate::clock::Timestamp;
use crate::ids::{
    ApiKeyId, ApprovalId, DepartmentId, DocumentId, KnowledgeBaseId, ProjectId, ReservationId, RunId, TenantId, UserId,
};
use crate::model::{
    ApiKey, Approval, ApprovalStatus, BudgetStatus, CostFilter, CostGroupBy, CostRecord, CostTotals, Department, Email,
    Project, Reservation, ReserveOutcome, Run, RunFinish, RunLease, RunProgress, Settlement, Slug, StoredApiKey,
    Tenant, User, UserPatch, UserRecord,
};
use crate::store::{
    AgentStore, ApiKeyStore, ApprovalStore, BudgetStore, Decision, DepartmentStore, Page, PageRequest, ProjectStore,
    RunStore, Store, StoreError, StoreResult, StoredAgent, SystemStore, TenantStore, UserStore,
};

/// The operations that can be made to fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Op {
    /// [`BudgetStore::reserve`].
    Reserve,
    /// [`BudgetStore::settle`].
    Settle,
    /// [`BudgetStore::release`].
    Release,
    /// [`RunStore::renew_run`].
    RenewRun,
    /// [`RunStore::finish_run`].
    FinishRun,
    /// [`RunStore::release_run`].
    ReleaseRun,
    /// [`SystemStore::claim_runs`].
    ClaimRuns,
    /// [`EventStore::append_events`](crate::store::EventStore::append_events).
    AppendEvents,
    /// [`SystemStore::complete_relay`].
    CompleteRelay,
    /// [`WebhookStore::record_attempt`](crate::store::WebhookStore::record_attempt).
    RecordAttempt,
    /// [`SystemStore::claim_due_schedules`].
    ClaimSchedules,
    /// [`ScheduleStore::advance_schedule`](crate::store::ScheduleStore::advance_schedule).
    AdvanceSchedule,
}

/// Controls a [`FaultyStore`]'s failures; clones share them.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    pending: Arc<Mutex<HashMap<Op, u32>>>,
    calls: Arc<Mutex<HashMap<Op, u32>>>,
}

impl Faults {
    /// Makes the next `times` calls of `op` fail (`u32::MAX`: until [`heal`](Self::heal)).
    pub fn fail(&self, op: Op, times: u32) {
        self.pending.lock().insert(op, times);
    }

    /// Ends every pending failure.
    pub fn heal(&self) {
        self.pending.lock().clear();
    }

    /// How many times `op` was called, failed or not.
    pub fn calls(&self, op: Op) -> u32 {
        self.calls.lock().get(&op).copied().unwrap_or(0)
    }

    fn check(&self, op: Op) -> StoreResult<()> {
        *self.calls.lock().entry(op).or_default() += 1;
        let mut pending = self.pending.lock();
        match pending.get_mut(&op) {
            Some(left) if *left > 0 => {
                *left = left.saturating_sub(1);
                Err(StoreError::Unavailable(format!("injected failure of {op:?}").into()))
            }
            _ => Ok(()),
        }
    }
}

/// A [`Store`] whose chosen operations fail on demand (see [`Faults`]); everything else goes to the inner store.
pub struct FaultyStore {
    inner: Arc<dyn Store>,
    system: FaultySystem,
    faults: Faults,
}

impl FaultyStore {
    /// Wraps `inner`; the returned [`Faults`] decide what fails.
    pub fn wrap(inner: Arc<dyn Store>) -> (Self, Faults) {
        let faults = Faults::default();
        let system = FaultySystem { inner: Arc::clone(&inner), faults: faults.clone() };
        (Self { inner, system, faults: faults.clone() }, faults)
    }
}

impl Store for FaultyStore {
    fn system(&self) -> &dyn SystemStore {
        &self.system
    }

    fn tenant(&self, tenant: TenantId) -> Box<dyn TenantStore> {
        Box::new(FaultyTenant { inner: self.inner.tenant(tenant), faults: self.faults.clone() })
    }

    fn context_store(&self) -> Arc<dyn crate::store::ContextStore> {
        self.inner.context_store()
    }
}

struct FaultySystem {
    inner: Arc<dyn Store>,
    faults: Faults,
}

#[async_trait]
impl SystemStore for FaultySystem {
    async fn create_tenant(&self, tenant: &Tenant, admin: &UserRecord) -> StoreResult<()> {
        self.inner.system().create_tenant(tenant, admin).await
    }

    async fn delete_events_before(&self, cutoff: crate::ids::EventId, limit: u32) -> StoreResult<u64> {
        self.inner.system().delete_events_before(cutoff, limit).await
    }

    async fn delete_runs_ended_before(&self, cutoff: crate::clock::Timestamp, limit: u32) -> StoreResult<u64> {
        self.inner.system().delete_runs_ended_before(cutoff, limit).await
    }

    async fn roll_up_cost_records_before(&self, cutoff: crate::clock::Timestamp, limit: u32) -> StoreResult<u64> {
        self.inner.system().roll_up_cost_records_before(cutoff, limit).await
    }

    async fn bootstrap_tenant(&self, tenant: &Tenant, admin: &UserRecord, key: &StoredApiKey) -> StoreResult<bool> {
        self.inner.system().bootstrap_tenant(tenant, admin, key).await
    }

    async fn tenant_by_slug(&self, slug: &Slug) -> StoreResult<Option<Tenant>> {
        self.inner.system().tenant_by_slug(slug).await
    }

    async fn has_tenants(&self) -> StoreResult<bool> {
        self.inner.system().has_tenants().await
    }

    async fn claim_runs(
        &self,
        worker: &str,
        now: Timestamp,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<Run>> {
        self.faults.check(Op::ClaimRuns)?;
        self.inner.system().claim_runs(worker, now, lease, limit).await
    }

    async fn expire_approvals(&self, now: Timestamp, limit: u32) -> StoreResult<Vec<crate::store::Decision>> {
        self.inner.system().expire_approvals(now, limit).await
    }

    async fn claim_relay(
        &self,
        now: Timestamp,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<crate::store::RelayBatch> {
        self.inner.system().claim_relay(now, lease, limit).await
    }

    async fn complete_relay(
        &self,
        events: &[(TenantId, crate::ids::EventId)],
        deliveries: &[crate::store::NewDelivery],
    ) -> StoreResult<()> {
        self.faults.check(Op::CompleteRelay)?;
        self.inner.system().complete_relay(events, deliveries).await
    }

    async fn claim_deliveries(
        &self,
        worker: &str,
        now: Timestamp,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<crate::store::ClaimedDelivery>> {
        self.inner.system().claim_deliveries(worker, now, lease, limit).await
    }

    async fn count_pending_deliveries(&self) -> StoreResult<u64> {
        self.inner.system().count_pending_deliveries().await
    }

    async fn usage(&self, active_since: Timestamp) -> StoreResult<crate::store::PlatformUsage> {
        self.inner.system().usage(active_since).await
    }

    async fn claim_due_schedules(
        &self,
        holder: &str,
        now: Timestamp,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<crate::model::Schedule>> {
        self.faults.check(Op::ClaimSchedules)?;
        self.inner.system().claim_due_schedules(holder, now, lease, limit).await
    }

    async fn next_schedule_wake(&self) -> StoreResult<Option<Timestamp>> {
        self.inner.system().next_schedule_wake().await
    }

    async fn api_key_by_lookup(&self, lookup: &str) -> StoreResult<Option<(StoredApiKey, User)>> {
        self.inner.system().api_key_by_lookup(lookup).await
    }
}

#[async_trait]
impl crate::store::ScheduleStore for FaultyTenant {
    async fn insert_schedule(&self, schedule: &crate::model::Schedule) -> StoreResult<()> {
        self.inner.insert_schedule(schedule).await
    }

    async fn get_schedule(&self, id: crate::ids::ScheduleId) -> StoreResult<Option<crate::model::Schedule>> {
        self.inner.get_schedule(id).await
    }

    async fn list_schedules(&self, page: &PageRequest) -> StoreResult<Page<crate::model::Schedule>> {
        self.inner.list_schedules(page).await
    }

    async fn update_schedule(
        &self,
        schedule: &crate::model::Schedule,
        events: &[crate::events::Event],
        at: Timestamp,
    ) -> StoreResult<Option<crate::model::Schedule>> {
        self.inner.update_schedule(schedule, events, at).await
    }

    async fn delete_schedule(&self, id: crate::ids::ScheduleId) -> StoreResult<bool> {
        self.inner.delete_schedule(id).await
    }

    async fn claim_schedule(
        &self,
        id: crate::ids::ScheduleId,
        holder: &str,
        now: Timestamp,
        lease: chrono::Duration,
    ) -> StoreResult<Option<crate::store::ScheduleClaim>> {
        self.inner.claim_schedule(id, holder, now, lease).await
    }

    async fn advance_schedule(&self, advance: &crate::store::ScheduleAdvance<'_>) -> StoreResult<bool> {
        self.faults.check(Op::AdvanceSchedule)?;
        self.inner.advance_schedule(advance).await
    }
}

#[async_trait]
impl crate::store::WebhookStore for FaultyTenant {
    async fn insert_endpoint(&self, endpoint: &crate::model::WebhookEndpoint) -> StoreResult<()> {
        self.inner.insert_endpoint(endpoint).await
    }

    async fn get_endpoint(&self, id: crate::ids::WebhookId) -> StoreResult<Option<crate::model::WebhookEndpoint>> {
        self.inner.get_endpoint(id).await
    }

    async fn list_endpoints(&self, page: &PageRequest) -> StoreResult<Page<crate::model::WebhookEndpoint>> {
        self.inner.list_endpoints(page).await
    }

    async fn update_endpoint(
        &self,
        id: crate::ids::WebhookId,
        change: &crate::model::EndpointChange,
        at: Timestamp,
    ) -> StoreResult<Option<crate::model::WebhookEndpoint>> {
        self.inner.update_endpoint(id, change, at).await
    }

    async fn delete_endpoint(&self, id: crate::ids::WebhookId) -> StoreResult<bool> {
        self.inner.delete_endpoint(id).await
    }

    async fn list_deliveries(
        &self,
        endpoint: crate::ids::WebhookId,
        query: &crate::store::DeliveryQuery,
    ) -> StoreResult<Page<crate::model::Delivery>> {
        self.inner.list_deliveries(endpoint, query).await
    }

    async fn get_delivery(
        &self,
        id: crate::ids::DeliveryId,
    ) -> StoreResult<Option<(crate::model::Delivery, Vec<crate::model::DeliveryAttempt>)>> {
        self.inner.get_delivery(id).await
    }

    async fn requeue_deliveries(&self, deliveries: &[crate::store::NewDelivery]) -> StoreResult<u64> {
        self.inner.requeue_deliveries(deliveries).await
    }

    async fn record_attempt(&self, record: &crate::store::AttemptRecord<'_>) -> StoreResult<bool> {
        self.faults.check(Op::RecordAttempt)?;
        self.inner.record_attempt(record).await
    }
}

#[async_trait]
impl crate::store::KnowledgeStore for FaultyTenant {
    async fn insert_knowledge_base(&self, base: &crate::model::KnowledgeBase) -> StoreResult<()> {
        self.inner.insert_knowledge_base(base).await
    }

    async fn get_knowledge_base(&self, id: KnowledgeBaseId) -> StoreResult<Option<crate::model::KnowledgeBase>> {
        self.inner.get_knowledge_base(id).await
    }

    async fn list_knowledge_bases(&self, page: &PageRequest) -> StoreResult<Page<crate::model::KnowledgeBase>> {
        self.inner.list_knowledge_bases(page).await
    }

    async fn delete_knowledge_base(&self, id: KnowledgeBaseId) -> StoreResult<bool> {
        self.inner.delete_knowledge_base(id).await
    }

    async fn insert_document(
        &self,
        document: &crate::model::KnowledgeDocument,
        chunks: &[crate::knowledge::Chunk],
        vectors: Option<&crate::knowledge::ChunkVectors>,
    ) -> StoreResult<crate::store::DocumentInsert> {
        self.inner.insert_document(document, chunks, vectors).await
    }

    async fn get_document(
        &self,
        base: KnowledgeBaseId,
        id: DocumentId,
    ) -> StoreResult<Option<crate::model::KnowledgeDocument>> {
        self.inner.get_document(base, id).await
    }

    async fn document_chunks(
        &self,
        base: KnowledgeBaseId,
        id: DocumentId,
    ) -> StoreResult<Vec<crate::knowledge::Chunk>> {
        self.inner.document_chunks(base, id).await
    }

    async fn list_documents(
        &self,
        base: KnowledgeBaseId,
        page: &PageRequest,
    ) -> StoreResult<Page<crate::model::KnowledgeDocument>> {
        self.inner.list_documents(base, page).await
    }

    async fn delete_document(&self, base: KnowledgeBaseId, id: DocumentId) -> StoreResult<bool> {
        self.inner.delete_document(base, id).await
    }

    async fn search_knowledge(
        &self,
        base: KnowledgeBaseId,
        query: &str,
        k: usize,
    ) -> StoreResult<Vec<crate::model::ScoredChunk>> {
        self.inner.search_knowledge(base, query, k).await
    }

    async fn search_knowledge_by_vector(
        &self,
        base: KnowledgeBaseId,
        model: &str,
        vector: &[f32],
        k: usize,
    ) -> StoreResult<Vec<crate::model::ScoredChunk>> {
        self.inner.search_knowledge_by_vector(base, model, vector, k).await
    }
}

struct FaultyTenant {
    inner: Box<dyn TenantStore>,
    faults: Faults,
}

#[async_trait]
impl TenantStore for FaultyTenant {
    fn tenant_id(&self) -> TenantId {
        self.inner.tenant_id()
    }

    async fn get_tenant(&self) -> StoreResult<Option<Tenant>> {
        self.inner.get_tenant().await
    }

    async fn update_tenant(
        &self,
        name: Option<&str>,
        plan: Option<crate::model::Plan>,
        at: Timestamp,
    ) -> StoreResult<Option<Tenant>> {
        self.inner.update_tenant(name, plan, at).await
    }

    async fn merge_tenant_settings(
        &self,
        patch: &serde_json::Map<String, serde_json::Value>,
        at: Timestamp,
    ) -> StoreResult<Option<Tenant>> {
        self.inner.merge_tenant_settings(patch, at).await
    }
}

#[async_trait]
impl crate::store::EventStore for FaultyTenant {
    async fn append_events(&self, events: &[crate::events::Event]) -> StoreResult<()> {
        self.faults.check(Op::AppendEvents)?;
        self.inner.append_events(events).await
    }

    async fn list_events(
        &self,
        query: &crate::store::EventQuery,
    ) -> StoreResult<crate::store::Page<crate::events::Event>> {
        self.inner.list_events(query).await
    }
}

#[async_trait]
impl UserStore for FaultyTenant {
    async fn insert_user(&self, user: &UserRecord) -> StoreResult<()> {
        self.inner.insert_user(user).await
    }

    async fn get_user(&self, id: UserId) -> StoreResult<Option<User>> {
        self.inner.get_user(id).await
    }

    async fn user_record_by_email(&self, email: &Email) -> StoreResult<Option<UserRecord>> {
        self.inner.user_record_by_email(email).await
    }

    async fn list_users(&self, page: PageRequest) -> StoreResult<Page<User>> {
        self.inner.list_users(page).await
    }

    async fn update_user(&self, id: UserId, patch: &UserPatch) -> StoreResult<Option<User>> {
        self.inner.update_user(id, patch).await
    }
}

#[async_trait]
impl ApiKeyStore for FaultyTenant {
    async fn insert_api_key(&self, key: &StoredApiKey) -> StoreResult<()> {
        self.inner.insert_api_key(key).await
    }

    async fn get_api_key(&self, id: ApiKeyId) -> StoreResult<Option<ApiKey>> {
        self.inner.get_api_key(id).await
    }

    async fn list_api_keys(&self, owner: Option<UserId>, page: PageRequest) -> StoreResult<Page<ApiKey>> {
        self.inner.list_api_keys(owner, page).await
    }

    async fn revoke_api_key(&self, id: ApiKeyId, at: Timestamp) -> StoreResult<Option<ApiKey>> {
        self.inner.revoke_api_key(id, at).await
    }

    async fn touch_api_key(&self, id: ApiKeyId, at: Timestamp) -> StoreResult<()> {
        self.inner.touch_api_key(id, at).await
    }
}

#[async_trait]
impl DepartmentStore for FaultyTenant {
    async fn insert_department(&self, department: &Department) -> StoreResult<()> {
        self.inner.insert_department(department).await
    }

    async fn get_department(&self, id: DepartmentId) -> StoreResult<Option<Department>> {
        self.inner.get_department(id).await
    }

    async fn list_departments(&self, page: PageRequest) -> StoreResult<Page<Department>> {
        self.inner.list_departments(page).await
    }

    async fn update_department(
        &self,
        id: DepartmentId,
        patch: &crate::model::DepartmentPatch,
    ) -> StoreResult<Option<Department>> {
        self.inner.update_department(id, patch).await
    }

    async fn delete_department(&self, id: DepartmentId) -> StoreResult<bool> {
        self.inner.delete_department(id).await
    }
}

#[async_trait]
impl ProjectStore for FaultyTenant {
    async fn insert_project(&self, project: &Project) -> StoreResult<()> {
        self.inner.insert_project(project).await
    }

    async fn get_project(&self, id: ProjectId) -> StoreResult<Option<Project>> {
        self.inner.get_project(id).await
    }

    async fn list_projects(&self, page: PageRequest) -> StoreResult<Page<Project>> {
        self.inner.list_projects(page).await
    }

    async fn update_project(&self, id: ProjectId, patch: &crate::model::ProjectPatch) -> StoreResult<Option<Project>> {
        self.inner.update_project(id, patch).await
    }
}

#[async_trait]
impl BudgetStore for FaultyTenant {
    async fn reserve(&self, reservation: &Reservation, now: Timestamp) -> StoreResult<ReserveOutcome> {
        self.faults.check(Op::Reserve)?;
        self.inner.reserve(reservation, now).await
    }

    async fn settle(
        &self,
        reservation: ReservationId,
        record: &CostRecord,
        events: &[crate::events::Event],
        now: Timestamp,
    ) -> StoreResult<Settlement> {
        self.faults.check(Op::Settle)?;
        self.inner.settle(reservation, record, events, now).await
    }

    async fn release(&self, reservation: ReservationId) -> StoreResult<()> {
        self.faults.check(Op::Release)?;
        self.inner.release(reservation).await
    }

    async fn budget_status(&self, project: ProjectId, now: Timestamp) -> StoreResult<Option<BudgetStatus>> {
        self.inner.budget_status(project, now).await
    }

    async fn run_costs(&self, run: RunId) -> StoreResult<Vec<crate::model::CostRecord>> {
        self.inner.run_costs(run).await
    }

    async fn cost_summary(
        &self,
        filter: CostFilter,
        group_by: Option<CostGroupBy>,
    ) -> StoreResult<(CostTotals, Vec<CostTotals>)> {
        self.inner.cost_summary(filter, group_by).await
    }
}

#[async_trait]
impl AgentStore for FaultyTenant {
    async fn put_agent(&self, agent: &StoredAgent) -> StoreResult<()> {
        self.inner.put_agent(agent).await
    }

    async fn get_agent(&self, key: &AgentKey) -> StoreResult<Option<StoredAgent>> {
        self.inner.get_agent(key).await
    }

    async fn list_agents(&self) -> StoreResult<Vec<StoredAgent>> {
        self.inner.list_agents().await
    }

    async fn delete_agent(&self, key: &AgentKey) -> StoreResult<bool> {
        self.inner.delete_agent(key).await
    }
}

#[async_trait]
impl RunStore for FaultyTenant {
    async fn insert_run(&self, run: &Run, events: &[crate::events::Event]) -> StoreResult<()> {
        self.inner.insert_run(run, events).await
    }

    async fn get_run(&self, id: RunId) -> StoreResult<Option<Run>> {
        self.inner.get_run(id).await
    }

    async fn list_runs(&self, query: &crate::store::RunQuery) -> StoreResult<Page<Run>> {
        self.inner.list_runs(query).await
    }

    async fn renew_run(
        &self,
        lease: &RunLease<'_>,
        progress: Option<&RunProgress>,
        at: Timestamp,
    ) -> StoreResult<bool> {
        self.faults.check(Op::RenewRun)?;
        self.inner.renew_run(lease, progress, at).await
    }

    async fn finish_run(&self, lease: &RunLease<'_>, finish: &RunFinish, at: Timestamp) -> StoreResult<bool> {
        self.faults.check(Op::FinishRun)?;
        self.inner.finish_run(lease, finish, at).await
    }

    async fn release_run(&self, lease: &RunLease<'_>, at: Timestamp) -> StoreResult<bool> {
        self.faults.check(Op::ReleaseRun)?;
        self.inner.release_run(lease, at).await
    }

    async fn run_by_idempotency_key(&self, key: &str) -> StoreResult<Option<Run>> {
        self.inner.run_by_idempotency_key(key).await
    }

    async fn cancel_run(
        &self,
        id: RunId,
        event: &crate::events::Event,
        at: Timestamp,
    ) -> StoreResult<Option<crate::store::Cancellation>> {
        self.inner.cancel_run(id, event, at).await
    }
}

#[async_trait]
impl ApprovalStore for FaultyTenant {
    async fn insert_gated_run(&self, run: &Run, approval: &Approval) -> StoreResult<crate::events::Event> {
        self.inner.insert_gated_run(run, approval).await
    }

    async fn get_approval(&self, id: ApprovalId) -> StoreResult<Option<Approval>> {
        self.inner.get_approval(id).await
    }

    async fn list_approvals(&self, status: Option<ApprovalStatus>) -> StoreResult<Vec<Approval>> {
        self.inner.list_approvals(status).await
    }

    async fn decide_approval(&self, id: ApprovalId, verdict: &crate::model::Verdict) -> StoreResult<Option<Decision>> {
        self.inner.decide_approval(id, verdict).await
    }
}

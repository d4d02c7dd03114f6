//! Agents (the catalog and the tenant's own) and starting work: agent runs and workflows.

use agentic_core::api::{AgentList, AgentView, ExecuteRequest, WorkflowRequest};
use agentic_core::ids::ProjectId;
use agentic_core::model::Run;

use super::escape;
use super::runs::RunHandle;
use crate::client::{AgenticClient, Keyed, Repeat, Yaml};
use crate::error::Result;

/// `client.agents()`.
#[derive(Clone, Copy, Debug)]
pub struct Agents<'a>(pub(crate) &'a AgenticClient);

impl Agents<'_> {
    /// Every agent the tenant can run.
    pub async fn list(&self) -> Result<AgentList> {
        self.0.get("/v1/agents", None).await
    }

    /// One agent.
    pub async fn get(&self, name: &str) -> Result<AgentView> {
        self.0.get(&format!("/v1/agents/{}", escape(name)), None).await
    }

    /// Adds or replaces the tenant's agent `name` from YAML (`departments:manage`).
    pub async fn put(&self, name: &str, yaml: &str) -> Result<AgentView> {
        let path = format!("/v1/agents/{}", escape(name));
        self.0.call(reqwest::Method::PUT, &path, None, Some(&Yaml(yaml)), Repeat::Safe).await
    }

    /// Deletes the tenant's agent `name` (or its override of a built-in, which applies again).
    pub async fn delete(&self, name: &str) -> Result<()> {
        self.0.delete(&format!("/v1/agents/{}", escape(name))).await
    }

    /// Queues a run of `name` (`agents:execute`); the handle waits for it, follows it, or reads it.
    pub async fn execute(&self, name: &str, request: &ExecuteRequest) -> Result<RunHandle> {
        let path = format!("/v1/agents/{}/execute", escape(name));
        let run: Run = self.0.post(&path, Some(request), Repeat::Unsafe).await?;
        Ok(RunHandle::new(self.0.clone(), run))
    }

    /// [`execute`](Self::execute) under an idempotency key: the same key and request within 24 hours answer with
    /// the run the first one started, so the call is retried on 429/503 like a read (another request with the key is
    /// [`Error::Validation`](crate::Error::Validation)).
    pub async fn execute_idempotent(&self, name: &str, request: &ExecuteRequest, key: &str) -> Result<RunHandle> {
        let path = format!("/v1/agents/{}/execute", escape(name));
        let body = Keyed { body: request, key };
        let run: Run = self.0.call(reqwest::Method::POST, &path, None, Some(&body), Repeat::Safe).await?;
        Ok(RunHandle::new(self.0.clone(), run))
    }

    /// [`execute`](Self::execute) with only a task and the project charged.
    pub async fn execute_task(&self, name: &str, task: &str, project: ProjectId) -> Result<RunHandle> {
        let request = ExecuteRequest::new(task, project);
        self.execute(name, &request).await
    }
}

/// `client.workflows()`.
#[derive(Clone, Copy, Debug)]
pub struct Workflows<'a>(pub(crate) &'a AgenticClient);

impl Workflows<'_> {
    /// Starts a workflow as one durable run (`workflows:create`).
    pub async fn create(&self, request: &WorkflowRequest) -> Result<RunHandle> {
        let run: Run = self.0.post("/v1/workflows", Some(request), Repeat::Unsafe).await?;
        Ok(RunHandle::new(self.0.clone(), run))
    }

    /// [`create`](Self::create) under an idempotency key, as [`Agents::execute_idempotent`] describes.
    pub async fn create_idempotent(&self, request: &WorkflowRequest, key: &str) -> Result<RunHandle> {
        let body = Keyed { body: request, key };
        let run: Run = self.0.call(reqwest::Method::POST, "/v1/workflows", None, Some(&body), Repeat::Safe).await?;
        Ok(RunHandle::new(self.0.clone(), run))
    }
}

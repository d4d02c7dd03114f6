//! A project's shared context: versioned values, compare-and-set, appends.

use agentic_core::api::{AppendContextRequest, ContextKeyList, PutContextRequest};
use agentic_core::ids::ProjectId;
use agentic_core::model::{ContextEntry, ContextKey, Expect};
use reqwest::Method;

use super::escape;
use crate::client::{AgenticClient, Conditional, Json, Repeat};
use crate::error::Result;

/// `client.context(project)`.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    pub(crate) client: &'a AgenticClient,
    pub(crate) project: ProjectId,
}

impl Context<'_> {
    fn path(&self, key: &str) -> String {
        format!("/v1/projects/{}/context/{}", self.project, escape(key))
    }

    /// The project's live keys, sorted.
    pub async fn keys(&self) -> Result<Vec<ContextKey>> {
        let list: ContextKeyList = self.client.get(&format!("/v1/projects/{}/context", self.project), None).await?;
        Ok(list.data)
    }

    /// A key's value and version.
    pub async fn get(&self, key: &str) -> Result<ContextEntry> {
        self.client.get(&self.path(key), None).await
    }

    /// Writes a key if it meets `expect`: [`Expect::Version`] with the version read makes it a compare-and-set
    /// (a stale one is [`Error::PreconditionFailed`](crate::Error::PreconditionFailed)), [`Expect::Absent`] create-only.
    pub async fn put(
        &self,
        key: &str,
        value: serde_json::Value,
        ttl_seconds: Option<u64>,
        expect: Expect,
    ) -> Result<ContextEntry> {
        let request = PutContextRequest { value, ttl_seconds };
        let body = Conditional { body: Some(&Json(&request)), expect };
        // A plain put is idempotent; a conditional one is not repeated (after a lost answer, the repeat would be
        // refused as stale although the first one applied).
        let repeat = if matches!(expect, Expect::Any) { Repeat::Safe } else { Repeat::Unsafe };
        self.client.call(Method::PUT, &self.path(key), None, Some(&body), repeat).await
    }

    /// Appends an item to the list under a key; concurrent appends all land. Not repeated on its own (a repeat
    /// would append twice).
    pub async fn append(&self, key: &str, item: serde_json::Value, ttl_seconds: Option<u64>) -> Result<ContextEntry> {
        let request = AppendContextRequest { item, ttl_seconds };
        self.client.post(&format!("{}/append", self.path(key)), Some(&request), Repeat::Unsafe).await
    }

    /// Deletes a key if it meets `expect`.
    pub async fn delete(&self, key: &str, expect: Expect) -> Result<()> {
        let body = Conditional::<Json<'_, ()>> { body: None, expect };
        self.client.call(Method::DELETE, &self.path(key), None, Some(&body), Repeat::Safe).await
    }
}

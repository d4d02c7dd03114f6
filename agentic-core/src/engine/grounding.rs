//! Runs that answer from knowledge bases: which bases a run reads (its agent's `knowledge`, and the run's
//! `context.knowledge`), the passages put before the model's first turn, `knowledge_search` behind the
//! [`KnowledgeSearch`] its tool calls, every chunk numbered once for the run, and the citations of the answer.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use super::AgentTask;
use crate::Platform;
use crate::agents::AgentSpec;
use crate::error::{Error, Result};
use crate::knowledge::{Cited, Source, cite, hybrid_search, reciprocal_rank_fusion};
use crate::model::{KnowledgeBase, ScoredChunk, ValidationError};
use crate::store::PageRequest;
use crate::tools::{KnowledgeSearch, ToolError};

/// How many passages go before the model's first turn.
const FIRST_PASSAGES: usize = 5;
/// How many pages of knowledge bases are read to find the named ones (200 a page).
const MAX_BASE_PAGES: usize = 10;

/// What the model is told when it answers from knowledge bases.
pub(crate) const GROUNDING: &str = "Answer from the passages of the knowledge bases: those below the task and \
    those `knowledge_search` finds. After each statement that rests on a passage, cite it by its source number in \
    square brackets, like [1]; quote it exactly if you quote. If the passages do not answer the question, say so \
    rather than guess.\n";

/// The knowledge bases one run reads, and every chunk it has been shown, by number.
#[derive(Debug)]
pub(crate) struct RunKnowledge {
    platform: Platform,
    tenant: crate::ids::TenantId,
    bases: Vec<KnowledgeBase>,
    sources: parking_lot::Mutex<Vec<Source>>,
}

impl RunKnowledge {
    /// The citations of `answer`, recorded in the metrics.
    pub(crate) fn cite(&self, answer: &str) -> Cited {
        let cited = cite(answer, &self.sources.lock());
        self.platform.inner.metrics.retrieval.answered(&cited);
        cited
    }

    /// The passages that best match the task, as the text put below it (empty when none match or the search
    /// fails: the model can still search itself).
    pub(crate) async fn first_passages(&self, task: &str) -> String {
        let found = match self.search(task, FIRST_PASSAGES).await {
            Ok(found) => found,
            Err(error) => {
                tracing::warn!(%error, "the first knowledge search of a run failed");
                return String::new();
            }
        };
        if found.is_empty() {
            return "\n\nNo passage of the knowledge bases matches the task; search them with `knowledge_search`."
                .into();
        }
        let mut text = String::from("\n\nPassages from the knowledge bases (cite the ones you use as [n]):");
        for source in found {
            let mut place = source.chunk.title.clone();
            for heading in &source.chunk.headings {
                if *heading != source.chunk.title {
                    place.push_str(" › ");
                    place.push_str(heading);
                }
            }
            text.push_str(&format!("\n\n[{}] {place}\n{}", source.number, source.chunk.text));
        }
        text
    }
}

#[async_trait]
impl KnowledgeSearch for RunKnowledge {
    async fn search(&self, query: &str, k: usize) -> std::result::Result<Vec<Source>, ToolError> {
        let store = self.platform.inner.store.tenant(self.tenant);
        let mut rankings = Vec::with_capacity(self.bases.len());
        for base in &self.bases {
            let embedder = self.platform.inner.embedder.as_deref();
            let hits = hybrid_search(store.as_ref(), embedder, base.id, query, k).await.map_err(|error| {
                tracing::warn!(%error, knowledge_base = %base.id, "a knowledge search failed");
                ToolError::Failed("the knowledge search failed; try again".into())
            })?;
            // Scores compare within one search only: each hit against its search's best.
            let best = hits.first().map_or(1.0, |h| h.score).max(f64::MIN_POSITIVE);
            let ranked: Vec<(crate::ids::KnowledgeBaseId, ScoredChunk, f64)> = hits
                .into_iter()
                .map(|hit| {
                    let relative = (hit.score / best).clamp(f64::MIN_POSITIVE, 1.0);
                    (base.id, hit, relative)
                })
                .collect();
            rankings.push(ranked);
        }
        let fused = reciprocal_rank_fusion(rankings, |(base, hit, _)| (*base, hit.chunk_id.clone()), k);
        let fused: Vec<_> = fused.into_iter().map(|(hit, _)| hit).collect();
        self.platform.inner.metrics.retrieval.searched(!fused.is_empty());
        let mut sources = self.sources.lock();
        let found = fused
            .into_iter()
            .map(|(base, chunk, relative_score)| {
                let known = sources.iter().find(|s| s.knowledge_base_id == base && s.chunk.chunk_id == chunk.chunk_id);
                match known {
                    Some(source) => source.clone(),
                    None => {
                        let number = u32::try_from(sources.len() + 1).unwrap_or(u32::MAX);
                        let source = Source { number, knowledge_base_id: base, chunk, relative_score };
                        sources.push(source.clone());
                        source
                    }
                }
            })
            .collect();
        Ok(found)
    }
}

/// The names or ids in a run's `context.knowledge`: one, or a list.
fn named_in_context(context: Option<&Value>) -> Result<Vec<String>> {
    let invalid =
        || ValidationError::new("context.knowledge", "must be a knowledge base's name or id, or a list of them");
    match context.and_then(|c| c.get("knowledge")) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(name)) => Ok(vec![name.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned).ok_or_else(invalid))
            .collect::<std::result::Result<_, _>>()
            .map_err(Error::from),
        Some(_) => Err(invalid().into()),
    }
}

impl Platform {
    /// The knowledge a task reads, or `None` when it reads none. A base named that the tenant does not have, or
    /// one of another project, fails the run: an answer grounded on the wrong documents is worse than none.
    pub(crate) async fn run_knowledge(&self, task: &AgentTask, spec: &AgentSpec) -> Result<Option<Arc<RunKnowledge>>> {
        let mut wanted = spec.knowledge.clone();
        wanted.extend(named_in_context(task.context.as_ref())?);
        if wanted.is_empty() {
            return Ok(None);
        }
        let store = self.inner.store.tenant(task.tenant_id);
        let mut all = Vec::new();
        let mut page = PageRequest { limit: PageRequest::MAX_LIMIT, after: None };
        for _ in 0..MAX_BASE_PAGES {
            let found = store.list_knowledge_bases(&page).await?;
            all.extend(found.data);
            match found.next_cursor {
                Some(after) => page.after = Some(after),
                None => break,
            }
        }
        let mut bases: Vec<KnowledgeBase> = Vec::with_capacity(wanted.len());
        for name in wanted {
            let name = name.trim();
            let base = all.iter().find(|b| b.name == name || b.id.to_string() == name).ok_or_else(|| {
                ValidationError::new("knowledge", format!("this tenant has no knowledge base named `{name}`"))
            })?;
            if base.project_id.is_some_and(|project| project != task.project_id) {
                return Err(ValidationError::new(
                    "knowledge",
                    format!("knowledge base `{name}` belongs to another project than the run's"),
                )
                .into());
            }
            if !bases.iter().any(|b| b.id == base.id) {
                bases.push(base.clone());
            }
        }
        Ok(Some(Arc::new(RunKnowledge {
            platform: self.clone(),
            tenant: task.tenant_id,
            bases,
            sources: parking_lot::Mutex::default(),
        })))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_runs_context_names_one_base_or_a_list() {
        assert_eq!(named_in_context(None).unwrap(), Vec::<String>::new());
        assert_eq!(named_in_context(Some(&json!({"files": []}))).unwrap(), Vec::<String>::new());
        assert_eq!(named_in_context(Some(&json!({"knowledge": "Handbook"}))).unwrap(), ["Handbook"]);
        assert_eq!(named_in_context(Some(&json!({"knowledge": ["A", "B"]}))).unwrap(), ["A", "B"]);
        for bad in [json!({"knowledge": 3}), json!({"knowledge": ["A", 1]}), json!({"knowledge": {"name": "A"}})] {
            assert!(named_in_context(Some(&bad)).is_err(), "{bad}");
        }
    }
}

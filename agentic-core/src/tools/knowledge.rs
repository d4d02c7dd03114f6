//! `knowledge_search`: searches the knowledge bases a run may read (its agent's `knowledge`, and the run's
//! `context.knowledge`) through the [`KnowledgeSearch`] the engine puts in the [`ToolContext`]. Each chunk found
//! keeps one number for the whole run, which the answer cites as `[n]`. Every platform has the tool; a run that
//! reads knowledge gets it whether or not its agent lists it.

use async_trait::async_trait;
use serde_json::{Value, json};

use super::{Tool, ToolContext, ToolError};
use crate::knowledge::Source;

/// The name of the tool.
pub const KNOWLEDGE_SEARCH_TOOL: &str = "knowledge_search";
/// The most chunks one call returns.
pub const MAX_TOOL_RESULTS: u64 = 10;

/// The knowledge a run may read, as its agent's tool sees it.
#[async_trait]
pub trait KnowledgeSearch: Send + Sync + std::fmt::Debug {
    /// The `k` chunks that best match `query` over the run's knowledge bases, numbered for citing.
    async fn search(&self, query: &str, k: usize) -> Result<Vec<Source>, ToolError>;
}

/// The tool.
#[derive(Debug)]
pub(crate) struct KnowledgeSearchTool;

/// How a source is shown to the model: its number, where it is from, and its text.
pub fn source_view(source: &Source) -> Value {
    json!({"source": source.number, "title": source.chunk.title, "headings": source.chunk.headings,
        "text": source.chunk.text})
}

#[async_trait]
impl Tool for KnowledgeSearchTool {
    fn name(&self) -> &str {
        KNOWLEDGE_SEARCH_TOOL
    }

    fn description(&self) -> &str {
        "Searches the knowledge bases of this run for passages about a question. Cite what you use by the \
         passage's source number in square brackets, like [1]."
    }

    fn input_schema(&self) -> Value {
        json!({"type": "object", "properties": {
            "query": {"type": "string", "description": "What to look for, in words"},
            "k": {"type": "integer", "minimum": 1, "maximum": MAX_TOOL_RESULTS,
                "description": "How many passages (default 5)"}},
            "required": ["query"]})
    }

    async fn call(&self, context: &ToolContext, input: Value) -> Result<Value, ToolError> {
        let knowledge = context
            .knowledge
            .as_deref()
            .ok_or_else(|| ToolError::Failed("this run has no knowledge base to search".into()))?;
        let query = input["query"].as_str().map(str::trim).filter(|q| !q.is_empty());
        let query = query.ok_or_else(|| ToolError::InvalidInput("`query` (words to look for) is required".into()))?;
        let k = match &input["k"] {
            Value::Null => 5,
            k => k
                .as_u64()
                .filter(|k| (1..=MAX_TOOL_RESULTS).contains(k))
                .ok_or_else(|| ToolError::InvalidInput(format!("`k` must be 1 to {MAX_TOOL_RESULTS}")))?,
        };
        let found = knowledge.search(query, usize::try_from(k).unwrap_or(5)).await?;
        if found.is_empty() {
            return Ok(json!({"results": [], "note": "nothing in the knowledge bases matches; try other words"}));
        }
        Ok(json!({"results": found.iter().map(source_view).collect::<Vec<_>>()}))
    }
}

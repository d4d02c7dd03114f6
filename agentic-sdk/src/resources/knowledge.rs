//! Knowledge bases: their documents (uploaded as the files they are) and searches.

use agentic_core::api::{
    CreateKnowledgeBaseRequest, DocumentWithChunks, SearchKnowledgeRequest, SearchResults, UploadedDocument,
};
use agentic_core::ids::{DocumentId, KnowledgeBaseId};
use agentic_core::knowledge::media_type_of_file;
use agentic_core::model::{KnowledgeBase, KnowledgeDocument, ScoredChunk};
use agentic_core::store::{Page, PageRequest};
use reqwest::Method;
use serde::Serialize;

use crate::client::{AgenticClient, ErasedBody, Json, Repeat};
use crate::error::Result;

/// `client.knowledge()`.
#[derive(Clone, Copy, Debug)]
pub struct Knowledge<'a>(pub(crate) &'a AgenticClient);

/// A document to upload: its bytes as they are, and what they are.
#[derive(Clone, Debug)]
pub struct DocumentFile {
    /// Its media type (`text/markdown`, `text/plain`, `text/html`, `application/pdf`, …).
    pub media_type: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Its title (default: the one the document names, such as its first heading).
    pub title: Option<String>,
}

impl DocumentFile {
    /// A document whose media type is guessed from its file name (`.md`, `.markdown`, `.txt`, `.html`, `.htm`,
    /// `.pdf`; anything else is sent as `application/octet-stream`, which the server refuses).
    pub fn named(file_name: &str, bytes: Vec<u8>) -> Self {
        let media_type = media_type_of_file(file_name).unwrap_or("application/octet-stream");
        Self { media_type: media_type.into(), bytes, title: None }
    }
}

/// The raw document as the request body.
struct Raw<'a>(&'a DocumentFile);

impl ErasedBody for Raw<'_> {
    fn apply(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.header("content-type", &self.0.media_type).body(self.0.bytes.clone())
    }
}

#[derive(Serialize)]
struct Title<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
}

impl Knowledge<'_> {
    /// A page of knowledge bases.
    pub async fn list(&self, page: PageRequest) -> Result<Page<KnowledgeBase>> {
        self.0.get("/v1/knowledge", Some(&page)).await
    }

    /// Creates a knowledge base (`knowledge:manage`).
    pub async fn create(&self, request: &CreateKnowledgeBaseRequest) -> Result<KnowledgeBase> {
        self.0.post("/v1/knowledge", Some(request), Repeat::Unsafe).await
    }

    /// A knowledge base, with how many documents and chunks it holds.
    pub async fn get(&self, id: KnowledgeBaseId) -> Result<KnowledgeBase> {
        self.0.get(&format!("/v1/knowledge/{id}"), None).await
    }

    /// Deletes a knowledge base and its documents (`knowledge:manage`).
    pub async fn delete(&self, id: KnowledgeBaseId) -> Result<()> {
        self.0.delete(&format!("/v1/knowledge/{id}")).await
    }

    /// Uploads a document (`knowledge:manage`). The same text uploaded again returns the document already there
    /// (`created: false`), so an upload is safe to repeat.
    pub async fn upload(&self, base: KnowledgeBaseId, document: &DocumentFile) -> Result<UploadedDocument> {
        let path = format!("/v1/knowledge/{base}/documents");
        let title = Title { title: document.title.as_deref() };
        self.0.call(Method::POST, &path, Some(&title), Some(&Raw(document)), Repeat::Safe).await
    }

    /// A page of a knowledge base's documents, oldest first.
    pub async fn documents(&self, base: KnowledgeBaseId, page: PageRequest) -> Result<Page<KnowledgeDocument>> {
        self.0.get(&format!("/v1/knowledge/{base}/documents"), Some(&page)).await
    }

    /// A document with its chunks.
    pub async fn document(&self, base: KnowledgeBaseId, id: DocumentId) -> Result<DocumentWithChunks> {
        self.0.get(&format!("/v1/knowledge/{base}/documents/{id}"), None).await
    }

    /// Deletes a document and its chunks (`knowledge:manage`).
    pub async fn delete_document(&self, base: KnowledgeBaseId, id: DocumentId) -> Result<()> {
        self.0.delete(&format!("/v1/knowledge/{base}/documents/{id}")).await
    }

    /// The `k` chunks (1–50; `None`: 5) that best match `query`, best first.
    pub async fn search(&self, base: KnowledgeBaseId, query: &str, k: Option<u32>) -> Result<Vec<ScoredChunk>> {
        let request = SearchKnowledgeRequest { query: query.to_owned(), k };
        let path = format!("/v1/knowledge/{base}/search");
        // A search changes nothing: safe to send again.
        let results: SearchResults =
            self.0.call(Method::POST, &path, None, Some(&Json(&request)), Repeat::Safe).await?;
        Ok(results.data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_files_type_is_guessed_from_its_name() {
        assert_eq!(DocumentFile::named("Guide.MD", Vec::new()).media_type, "text/markdown");
        assert_eq!(DocumentFile::named("scan.pdf", Vec::new()).media_type, "application/pdf");
        assert_eq!(DocumentFile::named("page.htm", Vec::new()).media_type, "text/html");
        assert_eq!(DocumentFile::named("notes", Vec::new()).media_type, "application/octet-stream");
    }
}

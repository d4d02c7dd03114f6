//! Knowledge bases, their documents, and what a search of one returns. Reading and chunking are in
//! [`crate::knowledge`]; the stores keep and search the chunks ([`KnowledgeStore`](crate::store::KnowledgeStore)).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::{DocumentId, KnowledgeBaseId, ProjectId, TenantId, UserId};

/// The language a knowledge base's text is in: how words are stemmed and which stop words are dropped, by every
/// store alike (PostgreSQL's text search configuration of the same name, tantivy's stemmer and stop words).
/// `simple` lower-cases and nothing else, for text of several languages or none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TextLanguage {
    /// No stemming, no stop words.
    Simple,
    /// Arabic.
    Arabic,
    /// Danish.
    Danish,
    /// Dutch.
    Dutch,
    /// English (the default).
    #[default]
    English,
    /// Finnish.
    Finnish,
    /// French.
    French,
    /// German.
    German,
    /// Greek.
    Greek,
    /// Hungarian.
    Hungarian,
    /// Italian.
    Italian,
    /// Norwegian.
    Norwegian,
    /// Portuguese.
    Portuguese,
    /// Romanian.
    Romanian,
    /// Russian.
    Russian,
    /// Spanish.
    Spanish,
    /// Swedish.
    Swedish,
    /// Tamil.
    Tamil,
    /// Turkish.
    Turkish,
}

impl TextLanguage {
    /// Every language, `simple` first.
    pub const ALL: [TextLanguage; 19] = [
        Self::Simple,
        Self::Arabic,
        Self::Danish,
        Self::Dutch,
        Self::English,
        Self::Finnish,
        Self::French,
        Self::German,
        Self::Greek,
        Self::Hungarian,
        Self::Italian,
        Self::Norwegian,
        Self::Portuguese,
        Self::Romanian,
        Self::Russian,
        Self::Spanish,
        Self::Swedish,
        Self::Tamil,
        Self::Turkish,
    ];

    /// Its name: the wire name, and PostgreSQL's text search configuration.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Simple => "simple",
            Self::Arabic => "arabic",
            Self::Danish => "danish",
            Self::Dutch => "dutch",
            Self::English => "english",
            Self::Finnish => "finnish",
            Self::French => "french",
            Self::German => "german",
            Self::Greek => "greek",
            Self::Hungarian => "hungarian",
            Self::Italian => "italian",
            Self::Norwegian => "norwegian",
            Self::Portuguese => "portuguese",
            Self::Romanian => "romanian",
            Self::Russian => "russian",
            Self::Spanish => "spanish",
            Self::Swedish => "swedish",
            Self::Tamil => "tamil",
            Self::Turkish => "turkish",
        }
    }

    /// The language named `name` (as [`as_str`](Self::as_str) spells it).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == name)
    }
}

/// A tenant's knowledge base: documents that agents search and cite.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct KnowledgeBase {
    /// Its id.
    pub id: KnowledgeBaseId,
    /// The tenant.
    pub tenant_id: TenantId,
    /// The project it belongs to (`null`: the whole tenant's).
    pub project_id: Option<ProjectId>,
    /// Its name, unique in the tenant.
    pub name: String,
    /// What it holds.
    pub description: String,
    /// The language of its text.
    pub language: TextLanguage,
    /// Who made it.
    pub created_by: UserId,
    /// When.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// How many documents it holds (the store counts them when it reads the base).
    pub documents: u64,
    /// How many chunks its documents make.
    pub chunks: u64,
}

/// A document in a knowledge base, as uploaded and read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KnowledgeDocument {
    /// Its id.
    pub id: DocumentId,
    /// The knowledge base.
    pub knowledge_base_id: KnowledgeBaseId,
    /// Its title (given, read from the document, or its file name).
    pub title: String,
    /// The media type it was uploaded as (`text/markdown`, `application/pdf`, …).
    pub media_type: String,
    /// SHA-256 of its text, in hex: uploading the same text again to the same base returns this document.
    pub content_hash: String,
    /// Size of the upload, in bytes.
    pub size_bytes: u64,
    /// How many chunks it was split into.
    pub chunk_count: u32,
    /// Who uploaded it.
    pub created_by: UserId,
    /// When.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// A chunk a search found, with its document's title and its relevance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScoredChunk {
    /// The document.
    pub document_id: DocumentId,
    /// The chunk's stable id.
    pub chunk_id: String,
    /// The document's title.
    pub title: String,
    /// The chunk's 0-based position in its document.
    pub position: u32,
    /// The headings above it, outermost first.
    pub headings: Vec<String>,
    /// Its text.
    pub text: String,
    /// Relevance, higher is better: BM25 on the memory store, `ts_rank_cd` on PostgreSQL (the scales differ;
    /// the order is what compares).
    pub score: f64,
}

//! Knowledge bases in memory, searched with BM25 by tantivy: an index in RAM per knowledge base, kept in its
//! tenant's map, so each base has its own language's analyzer and nothing of one tenant is in another's index.
//! The chunks' text lives beside the index (which stores only each chunk's document and position), so a search
//! reads its hits from the same map that lists documents.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use agentic_core::ids::{DocumentId, KnowledgeBaseId, TenantId};
use agentic_core::knowledge::{Chunk, ChunkVectors, dot};
use agentic_core::model::{KnowledgeBase, KnowledgeDocument, ScoredChunk, TextLanguage};
use agentic_core::store::{DocumentInsert, KnowledgeStore, Page, PageRequest, StoreError, StoreResult};
use async_trait::async_trait;
use parking_lot::{Mutex, MutexGuard, RwLock};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter, TextAnalyzer,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::tenant::MemoryTenant;

/// The memory an index writer may use before it flushes (tantivy's least).
const WRITER_MEMORY: usize = 15_000_000;

/// Every tenant's knowledge bases.
#[derive(Default)]
pub(crate) struct KnowledgeBases {
    tenants: Mutex<HashMap<TenantId, Arc<RwLock<TenantKnowledge>>>>,
}

impl KnowledgeBases {
    fn tenant(&self, tenant: TenantId) -> Arc<RwLock<TenantKnowledge>> {
        Arc::clone(self.tenants.lock().entry(tenant).or_default())
    }
}

/// One tenant's knowledge bases.
#[derive(Default)]
struct TenantKnowledge {
    bases: BTreeMap<KnowledgeBaseId, Arc<BaseIndex>>,
    names: HashMap<String, KnowledgeBaseId>,
}

/// A knowledge base: its record, its documents with their chunks, and its index.
struct BaseIndex {
    base: KnowledgeBase,
    documents: RwLock<Documents>,
    index: Index,
    reader: IndexReader,
    /// Held while the index is written (tantivy allows one writer at a time).
    writing: Mutex<()>,
    fields: Fields,
}

#[derive(Default)]
struct Documents {
    by_id: BTreeMap<DocumentId, Stored>,
    hashes: HashMap<String, DocumentId>,
}

/// A document with its chunks and their vectors.
struct Stored {
    document: KnowledgeDocument,
    chunks: Vec<Chunk>,
    vectors: Option<ChunkVectors>,
}

impl Stored {
    fn hit(&self, chunk: &Chunk, score: f64) -> ScoredChunk {
        ScoredChunk {
            document_id: self.document.id,
            chunk_id: chunk.id.clone(),
            title: self.document.title.clone(),
            position: chunk.position,
            headings: chunk.headings.clone(),
            text: chunk.text.clone(),
            score,
        }
    }
}

/// Best first; ties to the earlier document and position.
fn rank(found: &mut Vec<ScoredChunk>, k: usize) {
    found.sort_by(|a, b| {
        b.score.total_cmp(&a.score).then(a.document_id.cmp(&b.document_id)).then(a.position.cmp(&b.position))
    });
    found.truncate(k);
}

#[derive(Clone, Copy)]
struct Fields {
    document: Field,
    position: Field,
    title: Field,
    headings: Field,
    text: Field,
}

fn backend(error: tantivy::TantivyError) -> StoreError {
    StoreError::Backend(Box::new(error))
}

/// The analyzer of a language: words lower-cased, stop words dropped where tantivy has a list, and stemmed.
fn analyzer(language: TextLanguage) -> TextAnalyzer {
    let builder =
        TextAnalyzer::builder(SimpleTokenizer::default()).filter(RemoveLongFilter::limit(64)).filter(LowerCaser);
    let Some(language) = stemmer_language(language) else { return builder.build() };
    let builder = builder.dynamic();
    let builder = match StopWordFilter::new(language) {
        Some(stop_words) => builder.filter_dynamic(stop_words),
        None => builder,
    };
    builder.filter_dynamic(Stemmer::new(language)).build()
}

fn stemmer_language(language: TextLanguage) -> Option<Language> {
    Some(match language {
        TextLanguage::Simple => return None,
        TextLanguage::Arabic => Language::Arabic,
        TextLanguage::Danish => Language::Danish,
        TextLanguage::Dutch => Language::Dutch,
        TextLanguage::English => Language::English,
        TextLanguage::Finnish => Language::Finnish,
        TextLanguage::French => Language::French,
        TextLanguage::German => Language::German,
        TextLanguage::Greek => Language::Greek,
        TextLanguage::Hungarian => Language::Hungarian,
        TextLanguage::Italian => Language::Italian,
        TextLanguage::Norwegian => Language::Norwegian,
        TextLanguage::Portuguese => Language::Portuguese,
        TextLanguage::Romanian => Language::Romanian,
        TextLanguage::Russian => Language::Russian,
        TextLanguage::Spanish => Language::Spanish,
        TextLanguage::Swedish => Language::Swedish,
        TextLanguage::Tamil => Language::Tamil,
        TextLanguage::Turkish => Language::Turkish,
    })
}

impl BaseIndex {
    fn new(base: KnowledgeBase) -> StoreResult<Self> {
        const ANALYZER: &str = "knowledge";
        let mut schema = Schema::builder();
        let words = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(ANALYZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let fields = Fields {
            document: schema.add_text_field("document", STRING | tantivy::schema::STORED),
            position: schema.add_u64_field("position", NumericOptions::default().set_stored()),
            title: schema.add_text_field("title", words.clone()),
            headings: schema.add_text_field("headings", words.clone()),
            text: schema.add_text_field("text", words),
        };
        let index = Index::create_in_ram(schema.build());
        index.tokenizers().register(ANALYZER, analyzer(base.language));
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().map_err(backend)?;
        Ok(Self { base, documents: RwLock::default(), index, reader, writing: Mutex::new(()), fields })
    }

    /// Runs `write` with a writer, commits, and makes what it wrote searchable. The caller holds `writing` (its
    /// guard is the proof), so what it checked before writing still holds.
    fn write(
        &self,
        _writing: &MutexGuard<'_, ()>,
        write: impl FnOnce(&IndexWriter, Fields) -> tantivy::Result<()>,
    ) -> StoreResult<()> {
        let mut writer: IndexWriter = self.index.writer_with_num_threads(1, WRITER_MEMORY).map_err(backend)?;
        write(&writer, self.fields).map_err(backend)?;
        writer.commit().map_err(backend)?;
        self.reader.reload().map_err(backend)
    }

    fn record(&self) -> KnowledgeBase {
        let documents = self.documents.read();
        let chunks = documents.by_id.values().map(|d| u64::from(d.document.chunk_count)).sum();
        KnowledgeBase { documents: documents.by_id.len() as u64, chunks, ..self.base.clone() }
    }

    fn search(&self, query: &str, k: usize) -> StoreResult<Vec<ScoredChunk>> {
        let Fields { document, position, title, headings, text } = self.fields;
        let mut analyzer = self.index.tokenizer_for_field(text).map_err(backend)?;
        let mut words = BTreeSet::new();
        let mut stream = analyzer.token_stream(query);
        while let Some(token) = stream.next() {
            words.insert(token.text.clone());
        }
        if words.is_empty() || k == 0 {
            return Ok(Vec::new());
        }
        let clauses: Vec<(Occur, Box<dyn Query>)> = words
            .iter()
            .flat_map(|word| [title, headings, text].map(|field| (field, word)))
            .map(|(field, word)| {
                let term = TermQuery::new(Term::from_field_text(field, word), IndexRecordOption::WithFreqs);
                (Occur::Should, Box::new(term) as Box<dyn Query>)
            })
            .collect();
        let searcher = self.reader.searcher();
        // Enough more than `k` that hits of a document deleted since the last commit, and ties at the k-th
        // score, still leave `k` in order.
        let top = searcher
            .search(&BooleanQuery::new(clauses), &TopDocs::with_limit(k.saturating_mul(2) + 16).order_by_score())
            .map_err(backend)?;
        let documents = self.documents.read();
        let mut found = Vec::with_capacity(top.len());
        for (score, address) in top {
            let stored: TantivyDocument = searcher.doc(address).map_err(backend)?;
            let id = stored.get_first(document).and_then(|v| v.as_str()).and_then(|v| v.parse().ok());
            let at = stored.get_first(position).and_then(|v| v.as_u64());
            let (Some(id), Some(at)) = (id, at) else { continue };
            let Some(stored) = documents.by_id.get(&id) else { continue };
            let Some(chunk) = stored.chunks.iter().find(|c| u64::from(c.position) == at) else { continue };
            found.push(stored.hit(chunk, f64::from(score)));
        }
        rank(&mut found, k);
        Ok(found)
    }

    fn search_by_vector(&self, model: &str, vector: &[f32], k: usize) -> Vec<ScoredChunk> {
        let documents = self.documents.read();
        let mut found = Vec::new();
        for stored in documents.by_id.values() {
            let Some(vectors) = stored.vectors.as_ref().filter(|v| v.model == model) else { continue };
            for (chunk, chunk_vector) in stored.chunks.iter().zip(&vectors.vectors) {
                // A query of another length is of another model in all but name: nothing to compare.
                if chunk_vector.len() == vector.len() {
                    found.push(stored.hit(chunk, f64::from(dot(chunk_vector, vector))));
                }
            }
        }
        rank(&mut found, k);
        found
    }
}

impl MemoryTenant {
    fn knowledge(&self) -> Arc<RwLock<TenantKnowledge>> {
        self.knowledge.tenant(self.tenant)
    }

    fn base(&self, id: KnowledgeBaseId) -> Option<Arc<BaseIndex>> {
        self.knowledge().read().bases.get(&id).cloned()
    }
}

#[async_trait]
impl KnowledgeStore for MemoryTenant {
    async fn insert_knowledge_base(&self, base: &KnowledgeBase) -> StoreResult<()> {
        if let Some(project) = base.project_id
            && !self.state.read().projects.contains_key(&(self.tenant, project))
        {
            return Err(StoreError::MissingReference { what: "the project".into() });
        }
        let index = BaseIndex::new(KnowledgeBase { tenant_id: self.tenant, documents: 0, chunks: 0, ..base.clone() })?;
        let knowledge = self.knowledge();
        let mut knowledge = knowledge.write();
        if knowledge.names.contains_key(&base.name) {
            return Err(StoreError::conflict("a knowledge base with this name"));
        }
        knowledge.names.insert(base.name.clone(), base.id);
        knowledge.bases.insert(base.id, Arc::new(index));
        Ok(())
    }

    async fn get_knowledge_base(&self, id: KnowledgeBaseId) -> StoreResult<Option<KnowledgeBase>> {
        Ok(self.base(id).map(|b| b.record()))
    }

    async fn list_knowledge_bases(&self, page: &PageRequest) -> StoreResult<Page<KnowledgeBase>> {
        let limit = page.limit as usize;
        let after = page.after.map(KnowledgeBaseId::from_uuid);
        let knowledge = self.knowledge();
        let knowledge = knowledge.read();
        let items: Vec<KnowledgeBase> = knowledge
            .bases
            .range((after.map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded), std::ops::Bound::Unbounded))
            .take(limit + 1)
            .map(|(_, b)| b.record())
            .collect();
        Ok(Page::from_overfetch(items, limit, |b| b.id.as_uuid()))
    }

    async fn delete_knowledge_base(&self, id: KnowledgeBaseId) -> StoreResult<bool> {
        let knowledge = self.knowledge();
        let mut knowledge = knowledge.write();
        let Some(removed) = knowledge.bases.remove(&id) else { return Ok(false) };
        knowledge.names.remove(&removed.base.name);
        Ok(true)
    }

    async fn insert_document(
        &self,
        document: &KnowledgeDocument,
        chunks: &[Chunk],
        vectors: Option<&ChunkVectors>,
    ) -> StoreResult<DocumentInsert> {
        let Some(base) = self.base(document.knowledge_base_id) else {
            return Err(StoreError::MissingReference { what: "the knowledge base".into() });
        };
        if let Some(vectors) = vectors
            && vectors.vectors.len() != chunks.len()
        {
            let message = format!("{} vectors for {} chunks", vectors.vectors.len(), chunks.len());
            return Err(StoreError::Backend(message.into()));
        }
        // One upload of a base at a time, so two of the same content cannot both be new.
        let writing = base.writing.lock();
        let existing = {
            let documents = base.documents.read();
            documents
                .hashes
                .get(&document.content_hash)
                .and_then(|id| documents.by_id.get(id))
                .map(|d| d.document.clone())
        };
        if let Some(existing) = existing {
            return Ok(DocumentInsert::Existing(existing));
        }
        base.write(&writing, |writer, fields| {
            for chunk in chunks {
                let mut indexed = TantivyDocument::default();
                indexed.add_text(fields.document, document.id.to_string());
                indexed.add_u64(fields.position, u64::from(chunk.position));
                indexed.add_text(fields.title, &document.title);
                for heading in &chunk.headings {
                    indexed.add_text(fields.headings, heading);
                }
                indexed.add_text(fields.text, &chunk.text);
                writer.add_document(indexed)?;
            }
            Ok(())
        })?;
        let mut documents = base.documents.write();
        documents.hashes.insert(document.content_hash.clone(), document.id);
        let stored = Stored { document: document.clone(), chunks: chunks.to_vec(), vectors: vectors.cloned() };
        documents.by_id.insert(document.id, stored);
        Ok(DocumentInsert::Inserted(document.clone()))
    }

    async fn get_document(&self, base: KnowledgeBaseId, id: DocumentId) -> StoreResult<Option<KnowledgeDocument>> {
        Ok(self.base(base).and_then(|b| b.documents.read().by_id.get(&id).map(|d| d.document.clone())))
    }

    async fn document_chunks(&self, base: KnowledgeBaseId, id: DocumentId) -> StoreResult<Vec<Chunk>> {
        Ok(self
            .base(base)
            .and_then(|b| b.documents.read().by_id.get(&id).map(|d| d.chunks.clone()))
            .unwrap_or_default())
    }

    async fn list_documents(&self, base: KnowledgeBaseId, page: &PageRequest) -> StoreResult<Page<KnowledgeDocument>> {
        let Some(base) = self.base(base) else { return Ok(Page { data: Vec::new(), next_cursor: None }) };
        let limit = page.limit as usize;
        let after = page.after.map(DocumentId::from_uuid);
        let documents = base.documents.read();
        let items: Vec<KnowledgeDocument> = documents
            .by_id
            .range((after.map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded), std::ops::Bound::Unbounded))
            .take(limit + 1)
            .map(|(_, d)| d.document.clone())
            .collect();
        Ok(Page::from_overfetch(items, limit, |d| d.id.as_uuid()))
    }

    async fn delete_document(&self, base: KnowledgeBaseId, id: DocumentId) -> StoreResult<bool> {
        let Some(base) = self.base(base) else { return Ok(false) };
        let removed = {
            let mut documents = base.documents.write();
            let removed = documents.by_id.remove(&id);
            if let Some(stored) = &removed {
                documents.hashes.remove(&stored.document.content_hash);
            }
            removed.is_some()
        };
        if removed {
            // Searches skip hits of documents no longer listed, so the index may catch up after.
            let writing = base.writing.lock();
            base.write(&writing, |writer, fields| {
                writer.delete_term(Term::from_field_text(fields.document, &id.to_string()));
                Ok(())
            })?;
        }
        Ok(removed)
    }

    async fn search_knowledge(&self, base: KnowledgeBaseId, query: &str, k: usize) -> StoreResult<Vec<ScoredChunk>> {
        match self.base(base) {
            Some(base) => base.search(query, k),
            None => Ok(Vec::new()),
        }
    }

    async fn search_knowledge_by_vector(
        &self,
        base: KnowledgeBaseId,
        model: &str,
        vector: &[f32],
        k: usize,
    ) -> StoreResult<Vec<ScoredChunk>> {
        Ok(self.base(base).map(|base| base.search_by_vector(model, vector, k)).unwrap_or_default())
    }
}

//! Knowledge bases in the store: named uniquely per tenant and counted, documents idempotent by content hash,
//! search that stems in the base's language, matches any word and ranks the same fixed corpus alike on every
//! store, deletes that take chunks out of search, and tenants that never see each other's.

use std::sync::Arc;

use super::fixtures::{now, project, tenant_with_admin};
use super::{Case, case};
use crate::ids::{DocumentId, KnowledgeBaseId, ProjectId, TenantId, UserId};
use crate::knowledge::{ChunkSizes, ChunkVectors, chunk, content_hash};
use crate::model::{KnowledgeBase, KnowledgeDocument, TextLanguage};
use crate::store::{DocumentInsert, PageRequest, Store, StoreError, TenantStore};

pub(super) fn cases() -> Vec<(&'static str, Case)> {
    vec![
        case!(knowledge_bases_are_named_uniquely_per_tenant_and_count_their_documents),
        case!(a_document_of_the_same_content_is_stored_once_and_deleted_with_its_chunks),
        case!(search_stems_in_the_bases_language_matches_any_word_and_ranks_a_fixed_corpus),
        case!(a_tenant_never_sees_nor_changes_another_tenants_knowledge),
        case!(vectors_are_searched_by_cosine_within_their_model_and_leave_with_their_document),
    ]
}

fn base(tenant: TenantId, name: &str, language: TextLanguage, by: UserId) -> KnowledgeBase {
    KnowledgeBase {
        id: KnowledgeBaseId::new(),
        tenant_id: tenant,
        project_id: None,
        name: name.into(),
        description: format!("{name} documents"),
        language,
        created_by: by,
        created_at: now(),
        documents: 0,
        chunks: 0,
    }
}

/// Stores `text` as a Markdown document titled `title`, chunked with the default sizes.
async fn upload(
    handle: &dyn TenantStore,
    base: &KnowledgeBase,
    title: &str,
    text: &str,
) -> (DocumentInsert, Vec<crate::knowledge::Chunk>) {
    let chunks = chunk(text, ChunkSizes::default());
    let document = KnowledgeDocument {
        id: DocumentId::new(),
        knowledge_base_id: base.id,
        title: title.into(),
        media_type: "text/markdown".into(),
        content_hash: content_hash(text),
        size_bytes: text.len() as u64,
        chunk_count: chunks.len() as u32,
        created_by: base.created_by,
        created_at: now(),
    };
    (handle.insert_document(&document, &chunks, None).await.unwrap(), chunks)
}

fn inserted(insert: DocumentInsert) -> KnowledgeDocument {
    match insert {
        DocumentInsert::Inserted(document) => document,
        DocumentInsert::Existing(document) => panic!("expected a new document, found {document:?}"),
    }
}

async fn knowledge_bases_are_named_uniquely_per_tenant_and_count_their_documents(store: Arc<dyn Store>) {
    let (tenant, admin) = tenant_with_admin(&*store, "alpha").await;
    let handle = store.tenant(tenant.id);
    let handbook = base(tenant.id, "Handbook", TextLanguage::English, admin.user.id);
    handle.insert_knowledge_base(&handbook).await.unwrap();
    let again = base(tenant.id, "Handbook", TextLanguage::Simple, admin.user.id);
    assert!(matches!(handle.insert_knowledge_base(&again).await, Err(StoreError::Conflict { .. })));
    let orphan = KnowledgeBase {
        project_id: Some(ProjectId::new()),
        ..base(tenant.id, "x", TextLanguage::English, admin.user.id)
    };
    assert!(matches!(handle.insert_knowledge_base(&orphan).await, Err(StoreError::MissingReference { .. })));
    let signup = project(tenant.id, None, admin.user.id);
    handle.insert_project(&signup).await.unwrap();
    let scoped =
        KnowledgeBase { project_id: Some(signup.id), ..base(tenant.id, "Signup", TextLanguage::Simple, admin.user.id) };
    handle.insert_knowledge_base(&scoped).await.unwrap();

    let read = handle.get_knowledge_base(handbook.id).await.unwrap().unwrap();
    assert_eq!(read, handbook);
    let (doc, chunks) = upload(
        &*handle,
        &handbook,
        "Refunds",
        "# Refunds\n\nRefunds take five days.\n\n# Returns\n\nReturn within a month.",
    )
    .await;
    inserted(doc);
    let read = handle.get_knowledge_base(handbook.id).await.unwrap().unwrap();
    assert_eq!((read.documents, read.chunks), (1, chunks.len() as u64));
    assert_eq!(chunks.len(), 2);

    let first = handle.list_knowledge_bases(&PageRequest { limit: 1, after: None }).await.unwrap();
    assert_eq!(first.data.iter().map(|b| b.id).collect::<Vec<_>>(), [handbook.id]);
    assert_eq!(first.data[0].documents, 1);
    let rest = handle.list_knowledge_bases(&PageRequest { limit: 10, after: first.next_cursor }).await.unwrap();
    assert_eq!(rest.data, std::slice::from_ref(&scoped));
    assert_eq!(rest.next_cursor, None);

    assert!(handle.delete_knowledge_base(handbook.id).await.unwrap());
    assert!(!handle.delete_knowledge_base(handbook.id).await.unwrap());
    assert_eq!(handle.get_knowledge_base(handbook.id).await.unwrap(), None);
    assert!(handle.search_knowledge(handbook.id, "refunds", 5).await.unwrap().is_empty());
    // Its name is free again.
    handle.insert_knowledge_base(&base(tenant.id, "Handbook", TextLanguage::English, admin.user.id)).await.unwrap();
}

async fn a_document_of_the_same_content_is_stored_once_and_deleted_with_its_chunks(store: Arc<dyn Store>) {
    let (tenant, admin) = tenant_with_admin(&*store, "alpha").await;
    let handle = store.tenant(tenant.id);
    let handbook = &base(tenant.id, "Handbook", TextLanguage::English, admin.user.id);
    let text = "# Deploys\n\nDeploys run on Tuesdays.\n\n## Rollback\n\nRoll back with the previous image tag.";
    let homeless = KnowledgeDocument {
        id: DocumentId::new(),
        knowledge_base_id: handbook.id,
        title: "Deploys".into(),
        media_type: "text/markdown".into(),
        content_hash: content_hash(text),
        size_bytes: text.len() as u64,
        chunk_count: 0,
        created_by: admin.user.id,
        created_at: now(),
    };
    let refused = handle.insert_document(&homeless, &[], None).await;
    assert!(matches!(refused, Err(StoreError::MissingReference { .. })), "a base that does not exist: {refused:?}");
    handle.insert_knowledge_base(handbook).await.unwrap();
    let handle = &*handle;

    let (first, chunks) = upload(handle, handbook, "Deploys", text).await;
    let first = inserted(first);
    let (second, _) = upload(handle, handbook, "Deploys again", text).await;
    assert_eq!(second, DocumentInsert::Existing(first.clone()), "the same content is stored once");
    assert_eq!(handle.get_document(handbook.id, first.id).await.unwrap(), Some(first.clone()));
    assert_eq!(handle.document_chunks(handbook.id, first.id).await.unwrap(), chunks);
    assert_eq!(chunks.iter().map(|c| c.position).collect::<Vec<_>>(), [0, 1]);
    // The document is found only under its own base.
    assert_eq!(handle.get_document(KnowledgeBaseId::new(), first.id).await.unwrap(), None);
    assert!(handle.document_chunks(KnowledgeBaseId::new(), first.id).await.unwrap().is_empty());

    let (other, _) = upload(handle, handbook, "Oncall", "# Oncall\n\nThe oncall engineer answers pages.").await;
    let other = inserted(other);
    let page = handle.list_documents(handbook.id, &PageRequest { limit: 1, after: None }).await.unwrap();
    assert_eq!(page.data, std::slice::from_ref(&first));
    let page = handle.list_documents(handbook.id, &PageRequest { limit: 5, after: page.next_cursor }).await.unwrap();
    assert_eq!((page.data, page.next_cursor), (vec![other.clone()], None));

    let hits = handle.search_knowledge(handbook.id, "rollback image", 5).await.unwrap();
    assert_eq!(hits.first().map(|h| (h.document_id, h.chunk_id.as_str())), Some((first.id, chunks[1].id.as_str())));
    assert_eq!(hits[0].headings, ["Deploys", "Rollback"]);
    assert_eq!(hits[0].title, "Deploys");
    assert!(!handle.delete_document(KnowledgeBaseId::new(), first.id).await.unwrap(), "deleted through another base");
    assert!(handle.delete_document(handbook.id, first.id).await.unwrap());
    assert!(!handle.delete_document(handbook.id, first.id).await.unwrap());
    assert!(handle.search_knowledge(handbook.id, "rollback image", 5).await.unwrap().is_empty());
    assert!(handle.document_chunks(handbook.id, first.id).await.unwrap().is_empty());
    // Deleted, its content may be uploaded again, as a new document.
    let (again, _) = upload(handle, handbook, "Deploys", text).await;
    assert_ne!(inserted(again).id, first.id);
}

/// The fixed corpus, each document about one thing, some sharing words so that ranking matters.
const CORPUS: [(&str, &str); 6] = [
    (
        "Refund policy",
        "# Refund policy\n\nCustomers are refunded within five business days of a return. Refunds go to the \
         original payment method.\n\n## Exceptions\n\nGift cards are never refunded.",
    ),
    (
        "Shipping",
        "# Shipping\n\nOrders ship worldwide from the Lisbon warehouse. Express shipping takes two days; \
         standard shipping takes a week.",
    ),
    (
        "Password reset",
        "# Password reset\n\nTo reset a forgotten password, open the sign-in page and choose \"Forgot \
         password\". The reset link expires after one hour.",
    ),
    (
        "Deploying",
        "# Deploying\n\nDeploys run every Tuesday. The pipeline builds the image, runs the tests and rolls \
         the service out region by region.",
    ),
    (
        "Incident response",
        "# Incident response\n\nPage the oncall engineer for any outage. The incident commander writes the \
         postmortem within five days.",
    ),
    (
        "Payment methods",
        "# Payment methods\n\nWe accept cards, bank transfers and gift cards. Payment is taken when the \
         order ships.",
    ),
];

async fn search_stems_in_the_bases_language_matches_any_word_and_ranks_a_fixed_corpus(store: Arc<dyn Store>) {
    let (tenant, admin) = tenant_with_admin(&*store, "alpha").await;
    let handle = store.tenant(tenant.id);
    let english = base(tenant.id, "English", TextLanguage::English, admin.user.id);
    let simple = base(tenant.id, "Simple", TextLanguage::Simple, admin.user.id);
    let mut titles = std::collections::HashMap::new();
    for kb in [&english, &simple] {
        handle.insert_knowledge_base(kb).await.unwrap();
        for (title, text) in CORPUS {
            let document = inserted(upload(&*handle, kb, title, text).await.0);
            titles.insert(document.id, title);
        }
    }
    let top = |hits: &[crate::model::ScoredChunk]| hits.iter().map(|h| titles[&h.document_id]).collect::<Vec<_>>();

    // Stemmed: "refunds" finds "refunded"; the best is the document about it (title and text).
    let hits = handle.search_knowledge(english.id, "How are refunds handled?", 3).await.unwrap();
    assert_eq!(top(&hits).first(), Some(&"Refund policy"), "{hits:#?}");
    assert!(hits.windows(2).all(|w| w[0].score >= w[1].score), "best first: {hits:#?}");
    assert!(hits.iter().all(|h| h.score > 0.0));
    // Any word: neither document holds both words, yet both are found, each for its own word.
    let hits = handle.search_knowledge(english.id, "warehouse postmortem", 5).await.unwrap();
    let mut found = top(&hits);
    found.sort_unstable();
    assert_eq!(found, ["Incident response", "Shipping"], "{hits:#?}");
    // Ranking on a fixed corpus, the same on every store: the document about a thing comes first.
    for (query, expected) in [
        ("forgot my password, where is the reset link", "Password reset"),
        ("when do deploys roll out", "Deploying"),
        ("which payment methods are accepted", "Payment methods"),
        ("express shipping time", "Shipping"),
        ("who writes the postmortem after an outage", "Incident response"),
    ] {
        let hits = handle.search_knowledge(english.id, query, 3).await.unwrap();
        assert_eq!(top(&hits).first(), Some(&expected), "{query}: {hits:#?}");
    }
    // `k` bounds the answer; "gift cards" is in two documents.
    let hits = handle.search_knowledge(english.id, "gift cards", 1).await.unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(handle.search_knowledge(english.id, "gift cards", 10).await.unwrap().len(), 2);
    // Only stop words, or nothing at all, finds nothing (rather than everything).
    assert!(handle.search_knowledge(english.id, "the and of", 5).await.unwrap().is_empty());
    assert!(handle.search_knowledge(english.id, "  ", 5).await.unwrap().is_empty());
    // Query syntax is just text.
    assert!(
        handle
            .search_knowledge(english.id, "title:\"reset\" AND -(", 5)
            .await
            .unwrap()
            .iter()
            .any(|h| titles[&h.document_id] == "Password reset")
    );

    // The simple language does not stem: a word finds only itself.
    let hits = handle.search_knowledge(simple.id, "refunded", 5).await.unwrap();
    assert!(!hits.is_empty() && top(&hits).iter().all(|t| *t == "Refund policy"), "{hits:#?}");
    assert!(handle.search_knowledge(simple.id, "refunding", 5).await.unwrap().is_empty(), "simple does not stem");
    assert!(!handle.search_knowledge(english.id, "refunding", 5).await.unwrap().is_empty(), "english stems");
}

async fn a_tenant_never_sees_nor_changes_another_tenants_knowledge(store: Arc<dyn Store>) {
    let (a, a_admin) = tenant_with_admin(&*store, "alpha").await;
    let (b, b_admin) = tenant_with_admin(&*store, "bravo").await;
    let (a_handle, b_handle) = (store.tenant(a.id), store.tenant(b.id));
    let a_base = base(a.id, "Handbook", TextLanguage::English, a_admin.user.id);
    a_handle.insert_knowledge_base(&a_base).await.unwrap();
    // The same name in another tenant is no conflict.
    let b_base = base(b.id, "Handbook", TextLanguage::English, b_admin.user.id);
    b_handle.insert_knowledge_base(&b_base).await.unwrap();
    let (document, _) = upload(&*a_handle, &a_base, "Secret", "# Secret\n\nThe launch code is tangerine.").await;
    let document = inserted(document);

    assert_eq!(b_handle.get_knowledge_base(a_base.id).await.unwrap(), None);
    assert_eq!(b_handle.list_knowledge_bases(&PageRequest::first()).await.unwrap().data, std::slice::from_ref(&b_base));
    assert_eq!(b_handle.get_document(a_base.id, document.id).await.unwrap(), None);
    assert!(b_handle.document_chunks(a_base.id, document.id).await.unwrap().is_empty());
    assert!(b_handle.list_documents(a_base.id, &PageRequest::first()).await.unwrap().data.is_empty());
    assert!(b_handle.search_knowledge(a_base.id, "launch code tangerine", 5).await.unwrap().is_empty());
    assert!(b_handle.search_knowledge(b_base.id, "launch code tangerine", 5).await.unwrap().is_empty());
    // Writes through B's handle cannot reach A's base.
    let (smuggled, _) = {
        let chunks = chunk("# Smuggled\n\ntangerine", ChunkSizes::default());
        let smuggled = KnowledgeDocument {
            id: DocumentId::new(),
            knowledge_base_id: a_base.id,
            title: "Smuggled".into(),
            media_type: "text/markdown".into(),
            content_hash: content_hash("smuggled"),
            size_bytes: 9,
            chunk_count: chunks.len() as u32,
            created_by: b_admin.user.id,
            created_at: now(),
        };
        (b_handle.insert_document(&smuggled, &chunks, None).await, ())
    };
    assert!(matches!(smuggled, Err(StoreError::MissingReference { .. })), "{smuggled:?}");
    assert!(!b_handle.delete_document(a_base.id, document.id).await.unwrap());
    assert!(!b_handle.delete_knowledge_base(a_base.id).await.unwrap());
    let hits = a_handle.search_knowledge(a_base.id, "tangerine", 5).await.unwrap();
    assert_eq!(hits.iter().map(|h| h.document_id).collect::<Vec<_>>(), [document.id]);
}

/// A document of `texts` as chunks (one paragraph each) with `vectors` of `model`.
async fn upload_with_vectors(
    handle: &dyn TenantStore,
    base: &KnowledgeBase,
    title: &str,
    texts: &[&str],
    model: &str,
    vectors: Vec<Vec<f32>>,
) -> std::result::Result<KnowledgeDocument, StoreError> {
    let chunks: Vec<_> = texts
        .iter()
        .enumerate()
        .map(|(i, text)| crate::knowledge::Chunk {
            id: format!("{title}-{i}"),
            position: i as u32,
            headings: vec![title.to_owned()],
            text: (*text).to_owned(),
        })
        .collect();
    let document = KnowledgeDocument {
        id: DocumentId::new(),
        knowledge_base_id: base.id,
        title: title.into(),
        media_type: "text/plain".into(),
        content_hash: content_hash(&texts.join("\n\n")),
        size_bytes: 10,
        chunk_count: chunks.len() as u32,
        created_by: base.created_by,
        created_at: now(),
    };
    let vectors = ChunkVectors { model: model.into(), vectors };
    handle.insert_document(&document, &chunks, Some(&vectors)).await.map(inserted)
}

async fn vectors_are_searched_by_cosine_within_their_model_and_leave_with_their_document(store: Arc<dyn Store>) {
    let (tenant, admin) = tenant_with_admin(&*store, "alpha").await;
    let handle = store.tenant(tenant.id);
    let kb = base(tenant.id, "Vectors", TextLanguage::English, admin.user.id);
    handle.insert_knowledge_base(&kb).await.unwrap();
    let a = upload_with_vectors(
        &*handle,
        &kb,
        "A",
        &["north", "east"],
        "m1",
        vec![vec![1.0, 0.0, 0.0], vec![0.0, 1.0, 0.0]],
    );
    let a = a.await.unwrap();
    let b = upload_with_vectors(&*handle, &kb, "B", &["north-east"], "m1", vec![vec![0.6, 0.8, 0.0]]).await.unwrap();
    let c = upload_with_vectors(&*handle, &kb, "C", &["other model"], "m2", vec![vec![1.0, 0.0, 0.0]]).await.unwrap();

    let hits = handle.search_knowledge_by_vector(kb.id, "m1", &[1.0, 0.0, 0.0], 5).await.unwrap();
    let got: Vec<(DocumentId, u32)> = hits.iter().map(|h| (h.document_id, h.position)).collect();
    assert_eq!(got, [(a.id, 0), (b.id, 0), (a.id, 1)], "by cosine, only model m1: {hits:#?}");
    let scores: Vec<f64> = hits.iter().map(|h| (h.score * 1000.0).round() / 1000.0).collect();
    assert_eq!(scores, [1.0, 0.6, 0.0]);
    assert_eq!((hits[0].title.as_str(), hits[0].text.as_str(), hits[0].chunk_id.as_str()), ("A", "north", "A-0"));
    assert_eq!(handle.search_knowledge_by_vector(kb.id, "m1", &[0.0, 1.0, 0.0], 1).await.unwrap()[0].position, 1);
    let other = handle.search_knowledge_by_vector(kb.id, "m2", &[1.0, 0.0, 0.0], 5).await.unwrap();
    assert_eq!(other.iter().map(|h| h.document_id).collect::<Vec<_>>(), [c.id]);
    assert!(handle.search_knowledge_by_vector(kb.id, "m3", &[1.0, 0.0, 0.0], 5).await.unwrap().is_empty());
    // A query of another length matches nothing rather than failing.
    assert!(handle.search_knowledge_by_vector(kb.id, "m1", &[1.0, 0.0], 5).await.unwrap().is_empty());
    // Vectors that do not match the chunks are refused, and nothing is stored.
    let refused = upload_with_vectors(&*handle, &kb, "D", &["one", "two"], "m1", vec![vec![1.0, 0.0, 0.0]]).await;
    assert!(refused.is_err(), "{refused:?}");
    assert_eq!(handle.get_knowledge_base(kb.id).await.unwrap().unwrap().documents, 3);

    // Another tenant finds nothing; a deleted document's vectors go with it.
    let (other_tenant, _) = tenant_with_admin(&*store, "bravo").await;
    let stranger = store.tenant(other_tenant.id);
    assert!(stranger.search_knowledge_by_vector(kb.id, "m1", &[1.0, 0.0, 0.0], 5).await.unwrap().is_empty());
    assert!(handle.delete_document(kb.id, a.id).await.unwrap());
    let hits = handle.search_knowledge_by_vector(kb.id, "m1", &[1.0, 0.0, 0.0], 5).await.unwrap();
    assert_eq!(hits.iter().map(|h| h.document_id).collect::<Vec<_>>(), [b.id]);
}

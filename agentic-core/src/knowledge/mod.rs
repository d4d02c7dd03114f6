//! Tenant knowledge: documents read into text ([`DocumentReader`]) and split into chunks that agents search and
//! cite. The stores keep and search the chunks ([`KnowledgeStore`](crate::store::KnowledgeStore)); the records
//! are [`KnowledgeBase`](crate::model::KnowledgeBase) and [`KnowledgeDocument`](crate::model::KnowledgeDocument).
//!
//! ```
//! use agentic_core::knowledge::{ChunkSizes, chunk};
//!
//! let chunks = chunk("# Refunds\n\nRefunds take five days.\n\n# Shipping\n\nWe ship worldwide.", ChunkSizes::default());
//! assert_eq!(chunks.len(), 2);
//! assert_eq!(chunks[1].headings, ["Shipping"]);
//! assert_eq!(chunks[1].text, "We ship worldwide.");
//! ```

mod chunk;
mod cite;
mod embed;
mod fuse;
mod read;

pub use chunk::{Chunk, ChunkSizes, chunk, content_hash};
pub use cite::{Citation, Cited, Source, cite};
pub use embed::{ChunkVectors, EMBED_BATCH, Embedder, SearchError, dot, embed_chunks, hybrid_search, normalized};
pub use fuse::{RRF_K, reciprocal_rank_fusion};
pub use read::{DocumentReader, PlainReader, ReadDocument, ReadError, media_type, media_type_of_file};

//! Knowledge retrieval: searches, and the citations answers make.

use prometheus::{Histogram, IntCounter, IntCounterVec};

use super::Registrar;
use crate::error::Error;
use crate::knowledge::Cited;

/// Searches of knowledge bases, and how answers cite what they found.
#[derive(Clone, Debug)]
pub struct RetrievalMetrics {
    /// `retrieval_queries_total{outcome}`: searches by agents (their task's first search and their
    /// `knowledge_search` calls), `hit` when something matched, `miss` when nothing did.
    queries_total: IntCounterVec,
    /// `retrieval_citation_score`: each citation's retrieval score relative to the best of its search (1: the best
    /// match), the quality of what answers rest on.
    citation_score: Histogram,
    /// `retrieval_citations_per_answer`: citations of each grounded answer (0: it cites nothing).
    citations_per_answer: Histogram,
    /// `retrieval_citations_dropped_total`: markers dropped because no source has their number or the cited
    /// chunk does not hold the quoted text.
    pub citations_dropped_total: IntCounter,
}

impl RetrievalMetrics {
    pub(super) fn register(r: &Registrar<'_>) -> Result<Self, Error> {
        let queries_total = r.int_counter_vec(
            "retrieval_queries_total",
            "Knowledge-base searches by agents, by outcome (hit: something matched; miss: nothing did)",
            &["outcome"],
        )?;
        for outcome in ["hit", "miss"] {
            queries_total.with_label_values(&[outcome]);
        }
        Ok(Self {
            queries_total,
            citation_score: r.histogram(
                "retrieval_citation_score",
                "Citations' retrieval scores relative to the best match of their search (1: the best)",
                &[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
            )?,
            citations_per_answer: r.histogram(
                "retrieval_citations_per_answer",
                "Citations in each answer grounded on knowledge bases",
                &[0.0, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0],
            )?,
            citations_dropped_total: r.int_counter(
                "retrieval_citations_dropped_total",
                "Citation markers dropped: no source has the number, or the cited chunk lacks the quoted text",
            )?,
        })
    }

    /// Counts one search.
    pub fn searched(&self, found: bool) {
        self.queries_total.with_label_values(&[if found { "hit" } else { "miss" }]).inc();
    }

    /// Records the citations of one grounded answer.
    pub fn answered(&self, cited: &Cited) {
        self.citations_per_answer.observe(cited.citations.len() as f64);
        for citation in &cited.citations {
            self.citation_score.observe(citation.score);
        }
        self.citations_dropped_total.inc_by(u64::from(cited.dropped));
    }
}

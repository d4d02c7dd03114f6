//! Citations: an answer's `[n]` markers mapped to the sources a run retrieved, each with the snippet of its chunk
//! that supports the sentence it marks. A quoted passage before a marker must be in the cited chunk, or the
//! citation is dropped (and counted): a model that cites what the source does not say gets no citation for it.
//! An answer without markers that repeats a source's words (six or more in a row) cites that source implicitly.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::{DocumentId, KnowledgeBaseId};
use crate::model::ScoredChunk;

/// The fewest words in a row an answer must share with a source to cite it without a marker.
const IMPLICIT_RUN: usize = 6;
/// The longest snippet, in characters.
const MAX_SNIPPET_CHARS: usize = 400;

/// A chunk a run retrieved, under the number the model cites it by.
#[derive(Clone, Debug, PartialEq)]
pub struct Source {
    /// Its number: `[n]` in the answer.
    pub number: u32,
    /// The knowledge base it is from.
    pub knowledge_base_id: KnowledgeBaseId,
    /// The chunk, as the search returned it.
    pub chunk: ScoredChunk,
    /// Its score over the best score of the search that found it (1 for the best), in (0, 1].
    pub relative_score: f64,
}

/// A source an answer cites.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Citation {
    /// The marker's number (`[n]`); 0 for a source cited by its words alone.
    pub marker: u32,
    /// The knowledge base.
    pub knowledge_base_id: KnowledgeBaseId,
    /// The document.
    pub document_id: DocumentId,
    /// The chunk's stable id.
    pub chunk_id: String,
    /// The document's title.
    pub title: String,
    /// The chunk's words that support the answer (always text of the chunk).
    pub snippet: String,
    /// The chunk's retrieval score relative to the best of its search, in (0, 1].
    pub score: f64,
}

/// What [`cite`] found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cited {
    /// The citations, in the order the answer first cites them.
    pub citations: Vec<Citation>,
    /// Markers dropped: a number no source has, or a quote the cited chunk does not hold.
    pub dropped: u32,
}

/// The citations of `answer` among `sources`.
pub fn cite(answer: &str, sources: &[Source]) -> Cited {
    let mut cited = Cited::default();
    let markers = markers(answer);
    if markers.is_empty() {
        cited.citations = implicit(answer, sources);
        return cited;
    }
    for marker in markers {
        let claim = &answer[sentence_start(answer, marker.at)..marker.at];
        let quote = quoted(claim);
        for number in marker.numbers {
            let Some(source) = sources.iter().find(|s| s.number == number) else {
                cited.dropped += 1;
                continue;
            };
            let text = &source.chunk.text;
            let snippet = match quote {
                Some(quote) => match find_normalized(text, quote) {
                    Some(found) => found,
                    None => {
                        cited.dropped += 1;
                        continue;
                    }
                },
                None => best_sentence(text, claim),
            };
            // A source cited again is listed once, at its first citation (a false quote is dropped all the same).
            if !cited.citations.iter().any(|c| c.marker == number) {
                cited.citations.push(citation(number, source, snippet));
            }
        }
    }
    cited
}

fn citation(marker: u32, source: &Source, snippet: &str) -> Citation {
    Citation {
        marker,
        knowledge_base_id: source.knowledge_base_id,
        document_id: source.chunk.document_id,
        chunk_id: source.chunk.chunk_id.clone(),
        title: source.chunk.title.clone(),
        snippet: clip(snippet.trim()),
        score: source.relative_score,
    }
}

/// `text` cut to [`MAX_SNIPPET_CHARS`] at a word (a cut snippet is still text of the chunk).
fn clip(text: &str) -> String {
    match text.char_indices().nth(MAX_SNIPPET_CHARS) {
        None => text.to_owned(),
        Some((end, _)) => {
            let cut = &text[..end];
            cut.rfind(char::is_whitespace).map_or(cut, |space| &cut[..space]).trim_end().to_owned()
        }
    }
}

/// A `[n]` or `[n, m]` marker: where it starts and its numbers.
struct Marker {
    at: usize,
    numbers: Vec<u32>,
}

fn markers(answer: &str) -> Vec<Marker> {
    let mut found = Vec::new();
    let bytes = answer.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'[' {
            i += 1;
            continue;
        }
        let close = bytes[i..].iter().position(|&b| b == b']').map(|p| i + p);
        let Some(close) = close.filter(|&c| c - i <= 24) else {
            i += 1;
            continue;
        };
        let inner = &answer[i + 1..close];
        let numbers: Option<Vec<u32>> = inner
            .split([',', ';'])
            .map(|n| n.trim().trim_start_matches('#'))
            .map(|n| n.parse::<u32>().ok().filter(|&n| n > 0))
            .collect();
        match numbers {
            Some(numbers) if !numbers.is_empty() => {
                found.push(Marker { at: i, numbers });
                i = close + 1;
            }
            _ => i += 1,
        }
    }
    found
}

/// Where the sentence holding byte `at` begins: after the last `.`, `!`, `?` or line break before it that is
/// followed by a space (an earlier marker's `]` ends a sentence too).
fn sentence_start(text: &str, at: usize) -> usize {
    let before = &text[..at];
    let mut start = 0;
    for (i, c) in before.char_indices() {
        let next = before[i + c.len_utf8()..].chars().next();
        if c == '\n' || (matches!(c, '.' | '!' | '?' | ']') && next.is_some_and(char::is_whitespace)) {
            start = i + c.len_utf8();
        }
    }
    start
}

/// The last quoted passage of a claim ("…", “…” or «…»), if it is long enough to say something.
fn quoted(claim: &str) -> Option<&str> {
    for (open, close) in [('"', '"'), ('\u{201c}', '\u{201d}'), ('\u{ab}', '\u{bb}')] {
        let Some(end) = claim.rfind(close) else { continue };
        let Some(start) = claim[..end].rfind(open) else { continue };
        let quote = claim[start + open.len_utf8()..end].trim();
        if quote.split_whitespace().count() >= 3 {
            return Some(quote);
        }
    }
    None
}

/// Lower-cased words of `text`, letters and digits only.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// The passage of `text` that is `quote` up to case, spacing and punctuation, as `text` writes it.
fn find_normalized<'a>(text: &'a str, quote: &str) -> Option<&'a str> {
    let wanted = words(quote);
    if wanted.is_empty() {
        return None;
    }
    // Each word of `text` with where it is.
    let spans: Vec<(usize, usize, String)> = word_spans(text);
    let start = spans.windows(wanted.len()).position(|w| w.iter().zip(&wanted).all(|(s, q)| s.2 == *q))?;
    let (from, to) = (spans[start].0, spans[start + wanted.len() - 1].1);
    Some(&text[from..to])
}

fn word_spans(text: &str) -> Vec<(usize, usize, String)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                spans.push((s, i, text[s..i].to_lowercase()));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, text.len(), text[s..].to_lowercase()));
    }
    spans
}

/// The sentences of a chunk's text, as it writes them.
fn sentences(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let end_here =
            c == '\n' || (matches!(c, '.' | '!' | '?') && chars.peek().is_none_or(|(_, n)| n.is_whitespace()));
        if end_here {
            let end = i + c.len_utf8();
            if !text[start..end].trim().is_empty() {
                found.push(text[start..end].trim());
            }
            start = end;
        }
    }
    if !text[start..].trim().is_empty() {
        found.push(text[start..].trim());
    }
    found
}

/// The sentence of `text` sharing the most words with `claim` (the first on a tie; the first sentence when none
/// shares any).
fn best_sentence<'a>(text: &'a str, claim: &str) -> &'a str {
    let claim: std::collections::HashSet<String> = words(claim).into_iter().filter(|w| w.chars().count() > 2).collect();
    let sentences = sentences(text);
    let mut best = (0, sentences.first().copied().unwrap_or(text));
    for sentence in &sentences {
        let shared = words(sentence).iter().filter(|w| claim.contains(*w)).count();
        if shared > best.0 {
            best = (shared, sentence);
        }
    }
    best.1
}

/// The sources an answer without markers repeats: a sentence of the source whose words appear in the answer,
/// [`IMPLICIT_RUN`] or more in a row.
fn implicit(answer: &str, sources: &[Source]) -> Vec<Citation> {
    let answer = words(answer);
    let mut cited = Vec::new();
    for source in sources {
        let repeated = sentences(&source.chunk.text).into_iter().find(|sentence| {
            let sentence = words(sentence);
            sentence.len() >= IMPLICIT_RUN
                && sentence.windows(IMPLICIT_RUN).any(|run| answer.windows(IMPLICIT_RUN).any(|a| a == run))
        });
        if let Some(sentence) = repeated
            && !cited.iter().any(|c: &Citation| c.chunk_id == source.chunk.chunk_id)
        {
            cited.push(citation(0, source, sentence));
        }
    }
    cited
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(number: u32, text: &str) -> Source {
        Source {
            number,
            knowledge_base_id: KnowledgeBaseId::new(),
            chunk: ScoredChunk {
                document_id: DocumentId::new(),
                chunk_id: format!("chunk{number}"),
                title: format!("Doc {number}"),
                position: 0,
                headings: Vec::new(),
                text: text.into(),
                score: 2.0,
            },
            relative_score: 1.0 / f64::from(number),
        }
    }

    fn sources() -> Vec<Source> {
        vec![
            source(1, "Refunds are paid within five business days. Gift cards are never refunded."),
            source(2, "Orders ship from Lisbon.\nExpress shipping takes two days; standard takes a week."),
        ]
    }

    #[test]
    fn markers_cite_the_sentence_of_their_source_that_supports_the_claim() {
        let answer = "Express orders arrive in two days [2]. Refunds take five business days [1][2].";
        let cited = cite(answer, &sources());
        let got: Vec<(u32, &str)> = cited.citations.iter().map(|c| (c.marker, c.snippet.as_str())).collect();
        assert_eq!(
            got,
            [
                (2, "Express shipping takes two days; standard takes a week."),
                (1, "Refunds are paid within five business days.")
            ]
        );
        assert_eq!(cited.dropped, 0);
        assert_eq!(cited.citations[1].score, 1.0);
        assert_eq!(cited.citations[0].chunk_id, "chunk2");
    }

    #[test]
    fn a_number_no_source_has_and_a_quote_the_source_lacks_are_dropped() {
        let answer = "Shipping is \"free for every order worldwide\" [2]. Returns are easy [7]. \
                      As the policy says, \"gift cards are never refunded\" [1].";
        let cited = cite(answer, &sources());
        assert_eq!(cited.dropped, 2);
        assert_eq!(cited.citations.len(), 1);
        // The quote is found up to case and returned as the source writes it.
        assert_eq!(cited.citations[0].snippet, "Gift cards are never refunded");
    }

    #[test]
    fn lists_and_odd_brackets_are_read_as_markers_or_left_alone() {
        let cited = cite("Both hold [1, 2]. See [link](x) and [0] and [a] and [12345678901234567890].", &sources());
        assert_eq!(cited.citations.iter().map(|c| c.marker).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(cited.dropped, 0);
    }

    #[test]
    fn an_answer_without_markers_cites_the_sources_it_repeats() {
        let answer = "You asked about shipping. Express shipping takes two days; standard takes a week, they say.";
        let cited = cite(answer, &sources());
        assert_eq!(cited.citations.len(), 1);
        assert_eq!((cited.citations[0].marker, cited.citations[0].chunk_id.as_str()), (0, "chunk2"));
        assert!(sources()[1].chunk.text.contains(&cited.citations[0].snippet));
        assert!(cite("Nothing from the sources here at all, I am afraid.", &sources()).citations.is_empty());
    }

    #[test]
    fn every_snippet_is_text_of_its_chunk_and_bounded() {
        let long = format!("{} end.", "word ".repeat(200));
        let sources = [source(1, &long)];
        let cited = cite("It is all words [1].", &sources);
        assert!(cited.citations[0].snippet.chars().count() <= MAX_SNIPPET_CHARS);
        assert!(long.contains(&cited.citations[0].snippet));
    }
}

//! Documents split into chunks on their structure: Markdown headings make sections, blank lines paragraphs, and
//! a chunk packs whole paragraphs up to a size, carrying the end of the one before it so a sentence cut at a
//! chunk's edge is whole in one of them. Fenced code stays whole unless it alone is over the size. Every chunk
//! keeps its position, the headings above it, where it is in the document's text, and an id derived from the
//! document's content, so the same document uploaded again has the same chunk ids.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// How big chunks are, in characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkSizes {
    /// The most characters in a chunk, overlap included (a single word longer than this is cut).
    pub max_chars: usize,
    /// How much of the end of a chunk starts the next one in the same section (cut at a sentence or word).
    pub overlap_chars: usize,
}

impl Default for ChunkSizes {
    /// About 300 tokens a chunk, with about 50 of overlap.
    fn default() -> Self {
        Self { max_chars: 1_200, overlap_chars: 200 }
    }
}

/// One chunk of a document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Chunk {
    /// Stable id: the same for the same document content and position.
    pub id: String,
    /// 0-based position in the document.
    pub position: u32,
    /// The headings above it, outermost first (`["Install", "Linux"]`).
    pub headings: Vec<String>,
    /// Its text.
    pub text: String,
}

/// The SHA-256 of a document's content, in lower-case hex: what makes a re-upload of the same document idempotent.
pub fn content_hash(content: &str) -> String {
    hex(&Sha256::digest(content.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The id of the chunk at `position` of the document whose content hashes to `hash`.
fn chunk_id(hash: &str, position: u32) -> String {
    let digest = Sha256::digest(format!("{hash}:{position}").as_bytes());
    hex(&digest[..16])
}

/// A Markdown ATX heading (`## Title`): its level and text.
fn heading(line: &str) -> Option<(usize, &str)> {
    let trimmed = line.trim_start();
    let level = trimmed.bytes().take_while(|&b| b == b'#').count();
    if !(1..=6).contains(&level) {
        return None;
    }
    let rest = &trimmed[level..];
    (rest.is_empty() || rest.starts_with(' ')).then(|| (level, rest.trim().trim_end_matches('#').trim()))
}

/// A section: the headings above it and its paragraphs (a fenced code block is one paragraph).
struct Section {
    headings: Vec<String>,
    paragraphs: Vec<String>,
}

/// Splits Markdown (or plain text, which has no headings) into sections of paragraphs.
fn sections(text: &str) -> Vec<Section> {
    let mut sections = vec![Section { headings: Vec::new(), paragraphs: Vec::new() }];
    let mut path: Vec<(usize, String)> = Vec::new();
    let mut paragraph: Vec<&str> = Vec::new();
    let mut in_fence = false;
    let flush = |paragraph: &mut Vec<&str>, sections: &mut Vec<Section>| {
        let text = paragraph.join("\n").trim().to_owned();
        paragraph.clear();
        if !text.is_empty()
            && let Some(section) = sections.last_mut()
        {
            section.paragraphs.push(text);
        }
    };
    for line in text.lines() {
        let fence = line.trim_start().starts_with("```") || line.trim_start().starts_with("~~~");
        if in_fence {
            paragraph.push(line);
            if fence {
                in_fence = false;
                flush(&mut paragraph, &mut sections);
            }
            continue;
        }
        if fence {
            flush(&mut paragraph, &mut sections);
            in_fence = true;
            paragraph.push(line);
            continue;
        }
        if let Some((level, title)) = heading(line) {
            flush(&mut paragraph, &mut sections);
            path.retain(|(l, _)| *l < level);
            path.push((level, title.to_owned()));
            sections.push(Section { headings: path.iter().map(|(_, t)| t.clone()).collect(), paragraphs: Vec::new() });
            continue;
        }
        if line.trim().is_empty() {
            flush(&mut paragraph, &mut sections);
        } else {
            paragraph.push(line);
        }
    }
    flush(&mut paragraph, &mut sections);
    sections.retain(|s| !s.paragraphs.is_empty());
    sections
}

/// The longest prefix of `text` of at most `max` characters, cut after a sentence end, else at a space, else
/// at `max` characters; never empty when `text` is not.
fn cut(text: &str, max: usize) -> &str {
    let Some((end, _)) = text.char_indices().nth(max) else { return text };
    let head = &text[..end];
    let sentence = head.rfind(['.', '!', '?', '\n']).map(|at| at + 1).filter(|&at| at > max / 3);
    let word = head.rfind(' ').filter(|&at| at > max / 3);
    let at = sentence.or(word).unwrap_or(end);
    &text[..at]
}

/// The last `max` characters or fewer of `text`, starting after a sentence end or a space when there is one.
fn tail(text: &str, max: usize) -> &str {
    let count = text.chars().count();
    if count <= max {
        return text;
    }
    let start = text.char_indices().nth(count - max).map_or(0, |(at, _)| at);
    let window = &text[start..];
    let sentence = window.find(['.', '!', '?', '\n']).map(|at| at + 1).filter(|&at| at < window.len());
    let word = window.find(' ').map(|at| at + 1);
    match sentence.or(word) {
        Some(at) => window[at..].trim_start(),
        None => window,
    }
}

/// Pieces of at most `max` characters that a paragraph too big for one chunk is split into.
fn pieces(paragraph: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = paragraph.trim();
    while !rest.is_empty() {
        let head = cut(rest, max);
        out.push(head.trim().to_owned());
        rest = rest[head.len()..].trim_start();
    }
    out
}

/// Splits a document (Markdown or plain text) into chunks.
pub fn chunk(content: &str, sizes: ChunkSizes) -> Vec<Chunk> {
    let max = sizes.max_chars.max(50);
    let overlap = sizes.overlap_chars.min(max / 2);
    let hash = content_hash(content);
    let mut chunks: Vec<Chunk> = Vec::new();
    for section in sections(content) {
        let mut current = String::new();
        let emit = |current: &mut String, chunks: &mut Vec<Chunk>| -> String {
            let text = std::mem::take(current).trim().to_owned();
            let position = u32::try_from(chunks.len()).unwrap_or(u32::MAX);
            let carry = tail(&text, overlap).to_owned();
            chunks.push(Chunk { id: chunk_id(&hash, position), position, headings: section.headings.clone(), text });
            carry
        };
        for paragraph in &section.paragraphs {
            // A paragraph too big for a chunk is cut so that each piece fits beside the overlap it follows.
            let parts = if paragraph.chars().count() > max {
                pieces(paragraph, max - overlap - 2)
            } else {
                vec![paragraph.clone()]
            };
            for part in parts {
                let size = part.chars().count();
                if !current.is_empty() && current.chars().count() + 2 + size > max {
                    current = emit(&mut current, &mut chunks);
                    // The overlap goes only where it fits.
                    if current.chars().count() + 2 + size > max {
                        current.clear();
                    }
                }
                if !current.is_empty() {
                    current.push_str("\n\n");
                }
                current.push_str(&part);
            }
        }
        if !current.trim().is_empty() {
            emit(&mut current, &mut chunks);
        }
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUIDE: &str = "Intro paragraph about the product.\n\n# Install\n\nDownload the package.\n\n## Linux\n\nRun the installer.\nIt needs root.\n\n```sh\nsudo ./install.sh\n\necho done\n```\n\n## macOS\n\nDrag the app to Applications.\n\n# Use\n\nOpen it.\n";

    #[test]
    fn sections_follow_headings_and_fences_stay_whole() {
        let chunks = chunk(GUIDE, ChunkSizes::default());
        let shape: Vec<(Vec<&str>, &str)> =
            chunks.iter().map(|c| (c.headings.iter().map(String::as_str).collect(), c.text.as_str())).collect();
        assert_eq!(
            shape,
            [
                (vec![], "Intro paragraph about the product."),
                (vec!["Install"], "Download the package."),
                (
                    vec!["Install", "Linux"],
                    "Run the installer.\nIt needs root.\n\n```sh\nsudo ./install.sh\n\necho done\n```"
                ),
                (vec!["Install", "macOS"], "Drag the app to Applications."),
                (vec!["Use"], "Open it."),
            ]
        );
        assert_eq!(chunks.iter().map(|c| c.position).collect::<Vec<_>>(), [0, 1, 2, 3, 4]);
    }

    #[test]
    fn ids_are_stable_for_the_same_content_and_differ_otherwise() {
        let once = chunk(GUIDE, ChunkSizes::default());
        let again = chunk(GUIDE, ChunkSizes::default());
        assert_eq!(once, again);
        let ids: std::collections::BTreeSet<&str> = once.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids.len(), once.len(), "unique within a document");
        assert!(once.iter().all(|c| c.id.len() == 32));
        let edited = chunk(&GUIDE.replace("Open it.", "Open it twice."), ChunkSizes::default());
        assert_ne!(edited[0].id, once[0].id, "another content, other ids");
        assert_eq!(content_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn long_sections_pack_paragraphs_with_overlap_and_cut_at_sentences() {
        let sentence = |n: usize| format!("Sentence number {n} says something useful about the topic.");
        let paragraphs: Vec<String> =
            (0..12).map(|p| (0..3).map(|s| sentence(p * 3 + s)).collect::<Vec<_>>().join(" ")).collect();
        let text = paragraphs.join("\n\n");
        let sizes = ChunkSizes { max_chars: 400, overlap_chars: 80 };
        let chunks = chunk(&text, sizes);
        assert!(chunks.len() >= 6, "{}", chunks.len());
        for pair in chunks.windows(2) {
            assert!(pair[0].text.chars().count() <= 400, "{}", pair[0].text);
            // The next chunk starts with the end of this one: a whole sentence.
            let start: String = pair[1].text.split("\n\n").next().unwrap_or("").to_owned();
            assert!(pair[0].text.ends_with(&start), "{:?} then {:?}", pair[0].text, start);
            assert!(start.ends_with('.'), "{start}");
        }
        // Every sentence of the document is in some chunk.
        for n in 0..36 {
            assert!(chunks.iter().any(|c| c.text.contains(&sentence(n))), "sentence {n} lost");
        }
    }

    #[test]
    fn a_paragraph_bigger_than_a_chunk_is_cut_without_losing_a_word() {
        let words: Vec<String> = (0..400).map(|n| format!("w{n}")).collect();
        let text = words.join(" ");
        let chunks = chunk(&text, ChunkSizes { max_chars: 300, overlap_chars: 50 });
        assert!(chunks.len() > 5);
        assert!(chunks.iter().all(|c| c.text.chars().count() <= 300));
        let seen: std::collections::BTreeSet<&str> = chunks.iter().flat_map(|c| c.text.split_whitespace()).collect();
        assert!(words.iter().all(|w| seen.contains(w.as_str())), "a word was lost");
        // Multi-byte text is cut on character boundaries.
        let accents = "é".repeat(1000);
        assert!(
            chunk(&accents, ChunkSizes { max_chars: 100, overlap_chars: 10 })
                .iter()
                .all(|c| c.text.chars().count() <= 100)
        );
        assert!(chunk("", ChunkSizes::default()).is_empty());
        assert!(chunk("\n\n   \n", ChunkSizes::default()).is_empty());
    }
}

//! Uploaded documents turned into text to chunk: Markdown, whose headings the chunker follows. Core reads plain
//! text and Markdown itself; readers of other formats (HTML, PDF) are the host's, like the other parsers
//! (`agentic_tools::DocumentReaders` reads both), because core carries no document parser.

/// A document's text, ready to chunk, and its title when the document names one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadDocument {
    /// The title (`<title>`, a PDF's Title, the first heading), if any.
    pub title: Option<String>,
    /// The text, as Markdown: headings as `#` lines, paragraphs separated by blank lines.
    pub text: String,
}

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// No reader takes this content type.
    #[error("documents of type `{0}` cannot be read (text/plain, text/markdown, and what the platform's readers add)")]
    Unsupported(String),
    /// The bytes are not a document of the type they claim.
    #[error("the document cannot be read: {0}")]
    Invalid(String),
}

/// Reads uploaded bytes of some content types into text to chunk.
pub trait DocumentReader: Send + Sync + std::fmt::Debug {
    /// The content types it reads (`text/html`, `application/pdf`), lower case, without parameters.
    fn content_types(&self) -> &[&'static str];

    /// The document's text. Reading untrusted bytes must not panic: a malformed document is [`ReadError::Invalid`].
    fn read(&self, content_type: &str, bytes: &[u8]) -> Result<ReadDocument, ReadError>;
}

/// The content type without its parameters, in lower case (`Text/HTML; charset=utf-8` → `text/html`).
pub fn media_type(content_type: &str) -> String {
    content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// The media type of a file by its extension (`.md`, `.markdown`, `.txt`, `.text`, `.html`, `.htm`, `.pdf`), for
/// uploads that do not say what they are.
pub fn media_type_of_file(file_name: &str) -> Option<&'static str> {
    let extension = file_name.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match extension.as_str() {
        "md" | "markdown" => "text/markdown",
        "txt" | "text" => "text/plain",
        "html" | "htm" => "text/html",
        "pdf" => "application/pdf",
        _ => return None,
    })
}

/// Plain text and Markdown, in UTF-8 (a byte order mark is dropped); the title is the first heading.
#[derive(Clone, Copy, Debug, Default)]
pub struct PlainReader;

impl DocumentReader for PlainReader {
    fn content_types(&self) -> &[&'static str] {
        &["text/plain", "text/markdown"]
    }

    fn read(&self, content_type: &str, bytes: &[u8]) -> Result<ReadDocument, ReadError> {
        let media = media_type(content_type);
        if !self.content_types().contains(&media.as_str()) {
            return Err(ReadError::Unsupported(media));
        }
        let text = std::str::from_utf8(bytes).map_err(|e| ReadError::Invalid(format!("not UTF-8 text: {e}")))?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text).replace("\r\n", "\n");
        let title = (media == "text/markdown")
            .then(|| text.lines().find_map(|l| l.trim_start().strip_prefix("# ").map(|t| t.trim().to_owned())))
            .flatten();
        Ok(ReadDocument { title, text })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_files_type_is_read_from_its_extension() {
        assert_eq!(media_type_of_file("Guide.MD"), Some("text/markdown"));
        assert_eq!(media_type_of_file("a.b/notes.txt"), Some("text/plain"));
        assert_eq!(media_type_of_file("page.htm"), Some("text/html"));
        assert_eq!(media_type_of_file("scan.pdf"), Some("application/pdf"));
        assert_eq!(media_type_of_file("archive.zip"), None);
        assert_eq!(media_type_of_file("README"), None);
    }

    #[test]
    fn plain_text_and_markdown_are_read_and_others_refused() {
        let doc = PlainReader.read("text/markdown; charset=utf-8", "\u{feff}# Refunds\r\n\r\nFive days.".as_bytes());
        assert_eq!(doc, Ok(ReadDocument { title: Some("Refunds".into()), text: "# Refunds\n\nFive days.".into() }));
        assert_eq!(PlainReader.read("TEXT/PLAIN", b"# not a title").unwrap().title, None);
        assert_eq!(PlainReader.read("text/html", b"<p>x</p>"), Err(ReadError::Unsupported("text/html".into())));
        assert!(matches!(PlainReader.read("text/plain", &[0xff, 0xfe, 0x00]), Err(ReadError::Invalid(_))));
    }
}

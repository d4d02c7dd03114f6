//! Document readers for knowledge bases (core's [`DocumentReader`]): HTML through html5ever (via `scraper`) into
//! Markdown that keeps its headings, paragraphs, lists, code and tables; PDF through its text layer
//! (`pdf-extract`). A scanned PDF without a text layer reads as empty and is refused as such.

use agentic_core::knowledge::{DocumentReader, ReadDocument, ReadError, media_type};
use scraper::{ElementRef, Html, Node, Selector};

/// Reads `text/html`, `application/xhtml+xml` and `application/pdf`.
#[derive(Clone, Copy, Debug, Default)]
pub struct DocumentReaders;

/// Elements whose content is never document text.
const SKIPPED: [&str; 8] = ["script", "style", "noscript", "template", "svg", "nav", "head", "iframe"];

/// Blocks: their text starts on a line of its own.
const BLOCKS: [&str; 18] = [
    "p",
    "div",
    "section",
    "article",
    "main",
    "header",
    "footer",
    "aside",
    "ul",
    "ol",
    "table",
    "tr",
    "blockquote",
    "figure",
    "figcaption",
    "dl",
    "dt",
    "dd",
];

struct Markdown {
    out: String,
}

impl Markdown {
    fn break_block(&mut self) {
        let trimmed = self.out.trim_end_matches([' ', '\t']).len();
        self.out.truncate(trimmed);
        if !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push_str(if self.out.ends_with('\n') { "\n" } else { "\n\n" });
        }
    }

    /// Inline text: its whitespace collapsed, a space kept where the source had one at either end.
    fn text(&mut self, text: &str) {
        let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if collapsed.is_empty() {
            if text.contains(char::is_whitespace) && !self.out.ends_with([' ', '\n']) && !self.out.is_empty() {
                self.out.push(' ');
            }
            return;
        }
        if text.starts_with(char::is_whitespace) && !self.out.ends_with([' ', '\n']) && !self.out.is_empty() {
            self.out.push(' ');
        }
        self.out.push_str(&collapsed);
        if text.ends_with(char::is_whitespace) {
            self.out.push(' ');
        }
    }

    fn element(&mut self, element: ElementRef<'_>) {
        let name = element.value().name();
        if SKIPPED.contains(&name) {
            return;
        }
        match name {
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                self.break_block();
                let level = usize::from(name.as_bytes()[1] - b'0');
                let text = element.text().collect::<Vec<_>>().join(" ");
                let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
                self.out.push_str(&format!("{} {text}\n\n", "#".repeat(level)));
            }
            "pre" => {
                self.break_block();
                let code: String = element.text().collect();
                self.out.push_str(&format!("```\n{}\n```\n\n", code.trim_end()));
            }
            "br" => self.out.push('\n'),
            "li" => {
                if !self.out.ends_with('\n') && !self.out.is_empty() {
                    self.out.push('\n');
                }
                self.out.push_str("- ");
                self.children(element);
                self.out.push('\n');
            }
            "td" | "th" => {
                if !self.out.ends_with('\n') && !self.out.is_empty() {
                    self.out.push_str(" | ");
                }
                self.children(element);
            }
            _ if BLOCKS.contains(&name) => {
                self.break_block();
                self.children(element);
                self.break_block();
            }
            _ => self.children(element),
        }
    }

    fn children(&mut self, element: ElementRef<'_>) {
        for child in element.children() {
            match child.value() {
                Node::Text(text) => self.text(text),
                Node::Element(_) => {
                    if let Some(child) = ElementRef::wrap(child) {
                        self.element(child);
                    }
                }
                _ => {}
            }
        }
    }
}

/// An HTML document as Markdown: the `<main>` (or `<article>`) when there is one, else the `<body>`.
pub fn html_to_markdown(html: &str) -> ReadDocument {
    let document = Html::parse_document(html);
    let first = |css: &str| Selector::parse(css).ok().and_then(|s| document.select(&s).next());
    // One <article> is the content; several (a listing) are all of it, so the body is read.
    let articles = Selector::parse("article").map(|s| document.select(&s).count()).unwrap_or(0);
    let article = if articles == 1 { first("article") } else { None };
    let root = first("main").or(article).or_else(|| first("body")).unwrap_or(document.root_element());
    let mut markdown = Markdown { out: String::new() };
    markdown.children(root);
    let text = markdown.out.lines().map(str::trim_end).collect::<Vec<_>>().join("\n");
    let text = text.trim().to_owned();
    let title = first("title")
        .map(|t| t.text().collect::<String>().trim().to_owned())
        .filter(|t| !t.is_empty())
        .or_else(|| first("h1").map(|h| h.text().collect::<Vec<_>>().join(" ").trim().to_owned()));
    ReadDocument { title, text }
}

/// A PDF's text layer. pdf-extract reads untrusted bytes, and a library panic must not take the request with it:
/// one is caught and reported as an unreadable document.
fn pdf_text(bytes: &[u8]) -> Result<String, ReadError> {
    let bytes = bytes.to_vec();
    let read = std::panic::catch_unwind(move || pdf_extract::extract_text_from_mem(&bytes));
    match read {
        Ok(Ok(text)) => Ok(text),
        Ok(Err(error)) => Err(ReadError::Invalid(format!("PDF: {error}"))),
        Err(_) => Err(ReadError::Invalid("PDF: the file is malformed".into())),
    }
}

impl DocumentReader for DocumentReaders {
    fn content_types(&self) -> &[&'static str] {
        &["text/html", "application/xhtml+xml", "application/pdf"]
    }

    fn read(&self, content_type: &str, bytes: &[u8]) -> Result<ReadDocument, ReadError> {
        match media_type(content_type).as_str() {
            "text/html" | "application/xhtml+xml" => {
                let html = String::from_utf8_lossy(bytes);
                Ok(html_to_markdown(&html))
            }
            "application/pdf" => {
                if !bytes.starts_with(b"%PDF-") {
                    return Err(ReadError::Invalid("not a PDF: it does not start with %PDF-".into()));
                }
                let raw = pdf_text(bytes)?;
                // Pages come separated by form feeds; lines wrapped by the layout are rejoined per paragraph.
                let paragraphs: Vec<String> = raw
                    .replace('\u{c}', "\n\n")
                    .split("\n\n")
                    .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
                    .filter(|p| !p.is_empty())
                    .collect();
                if paragraphs.is_empty() {
                    return Err(ReadError::Invalid("the PDF has no text layer (a scan?)".into()));
                }
                Ok(ReadDocument { title: None, text: paragraphs.join("\n\n") })
            }
            other => Err(ReadError::Unsupported(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_keeps_its_structure_as_markdown() {
        let html = "<!doctype html><html><head><title>Returns policy</title><style>p{}</style></head><body>\
                    <nav><a href='/'>Home</a></nav><main><h1>Returns</h1><p>Items can be returned\n   within <b>30 days</b>.</p>\
                    <h2>Exceptions</h2><ul><li>Gift cards</li><li>Opened <i>software</i></li></ul>\
                    <pre>refund --order 42\n  --full</pre><table><tr><th>Plan</th><th>Days</th></tr><tr><td>Pro</td><td>60</td></tr></table>\
                    <script>track()</script></main><footer>© Acme</footer></body></html>";
        let doc = html_to_markdown(html);
        assert_eq!(doc.title.as_deref(), Some("Returns policy"));
        assert_eq!(
            doc.text,
            "# Returns\n\nItems can be returned within 30 days.\n\n## Exceptions\n\n- Gift cards\n- Opened software\n\n\
             ```\nrefund --order 42\n  --full\n```\n\nPlan | Days\n\nPro | 60"
        );
        // The chunker follows the headings it made.
        let chunks = agentic_core::knowledge::chunk(&doc.text, agentic_core::knowledge::ChunkSizes::default());
        assert_eq!(chunks[1].headings, ["Returns", "Exceptions"]);
    }

    #[test]
    fn a_page_of_several_articles_keeps_them_all() {
        let html = "<html><body><article><h2>First</h2><p>One.</p></article><article><h2>Second</h2><p>Two.</p></article></body></html>";
        let doc = html_to_markdown(html);
        assert_eq!(doc.text, "## First\n\nOne.\n\n## Second\n\nTwo.");
    }

    #[test]
    fn a_pdf_is_read_through_its_text_layer_and_bad_bytes_are_refused() {
        let pdf = minimal_pdf(&["Refunds take five days.", "Shipping is free over fifty euros."]);
        let doc = DocumentReaders.read("application/pdf", &pdf).unwrap();
        assert!(doc.text.contains("Refunds take five days."), "{:?}", doc.text);
        assert!(doc.text.contains("Shipping is free over fifty euros."), "{:?}", doc.text);
        assert!(matches!(DocumentReaders.read("application/pdf", b"hello"), Err(ReadError::Invalid(_))));
        let truncated = &pdf[..pdf.len() / 2];
        assert!(matches!(DocumentReaders.read("application/pdf", truncated), Err(ReadError::Invalid(_))));
        assert!(matches!(DocumentReaders.read("image/png", b"x"), Err(ReadError::Unsupported(_))));
    }

    /// A one-page PDF whose text layer holds `lines`, with a correct cross-reference table.
    fn minimal_pdf(lines: &[&str]) -> Vec<u8> {
        let mut content = String::from("BT /F1 12 Tf 72 720 Td 14 TL\n");
        for line in lines {
            content.push_str(&format!("({line}) Tj T*\n"));
        }
        content.push_str("ET");
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
                .to_owned(),
            format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_owned(),
        ];
        let mut pdf = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (i, object) in objects.iter().enumerate() {
            offsets.push(pdf.len());
            pdf.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
        }
        let xref = pdf.len();
        pdf.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
        for offset in offsets {
            pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
        }
        pdf.extend_from_slice(
            format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
        );
        pdf
    }
}

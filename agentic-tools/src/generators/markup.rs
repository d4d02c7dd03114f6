//! Checks for generated user interfaces, and the HTML each renders so that `accessibility_checker` can read it:
//! a React component's JSX, a Vue single-file component's template, a whole HTML page.

use crate::generators::code::tree_sitter;

/// Elements that never have a closing tag.
const VOID: [&str; 14] =
    ["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"];

/// One tag of a markup scan: its name, whether it closes, whether it closes itself, and its line.
struct Tag {
    name: String,
    closing: bool,
    self_closing: bool,
    line: usize,
}

/// The tags of `markup` in order, reading quoted attribute values whole (so `v-if="a > b"` does not end a tag) and
/// skipping comments.
fn tags(markup: &str) -> Vec<Tag> {
    let bytes = markup.as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(offset) = markup[at..].find('<') {
        let start = at + offset;
        if markup[start..].starts_with("<!--") {
            at = markup[start..].find("-->").map_or(markup.len(), |end| start + end + 3);
            continue;
        }
        let closing = bytes.get(start + 1) == Some(&b'/');
        let name_start = start + 1 + usize::from(closing);
        let name_len = markup[name_start..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).unwrap_or(0);
        if name_len == 0 {
            at = start + 1;
            continue;
        }
        let mut quote = None;
        let mut end = name_start + name_len;
        while end < bytes.len() {
            match (quote, bytes[end]) {
                (None, b'"' | b'\'') => quote = Some(bytes[end]),
                (Some(q), c) if c == q => quote = None,
                (None, b'>') => break,
                _ => {}
            }
            end += 1;
        }
        let self_closing = end > 0 && bytes.get(end - 1) == Some(&b'/');
        let name = markup[name_start..name_start + name_len].to_ascii_lowercase();
        at = end.min(markup.len());
        // A script's or a style's text is not markup (`i<items.length` opens no tag): on to its closing tag.
        if !closing && !self_closing && matches!(name.as_str(), "script" | "style") {
            let close = format!("</{name}");
            at = markup[at..].to_ascii_lowercase().find(&close).map_or(markup.len(), |found| at + found);
        }
        out.push(Tag { name, closing, self_closing, line: markup[..start].lines().count().max(1) });
    }
    out
}

/// Every opened element is closed, in order (HTML parsers forgive this; Vue's compiler and readers do not).
fn balanced(markup: &str, what: &str) -> Result<(), String> {
    let mut open: Vec<(String, usize)> = Vec::new();
    for tag in tags(markup) {
        if tag.self_closing || VOID.contains(&tag.name.as_str()) {
            continue;
        }
        if !tag.closing {
            open.push((tag.name, tag.line));
            continue;
        }
        match open.pop() {
            Some((name, _)) if name == tag.name => {}
            Some((name, line)) => {
                return Err(format!(
                    "{what}: `</{}>` at line {} closes `<{name}>` opened at line {line}",
                    tag.name, tag.line
                ));
            }
            None => return Err(format!("{what}: `</{}>` at line {} closes nothing", tag.name, tag.line)),
        }
    }
    match open.pop() {
        Some((name, line)) => Err(format!("{what}: `<{name}>` opened at line {line} is never closed")),
        None => Ok(()),
    }
}

/// A top-level block of a single-file component: from a line starting `<name` to the last line starting `</name>`
/// (a template nests templates; the first block of `name` is the one read).
fn sfc_block<'a>(sfc: &'a str, name: &str) -> Option<(&'a str, &'a str)> {
    let open = format!("<{name}");
    let close = format!("</{name}>");
    let start = sfc.match_indices(&open).find(|(at, _)| *at == 0 || sfc.as_bytes()[at - 1] == b'\n')?.0;
    let open_end = start + sfc[start..].find('>')?;
    let end = sfc.match_indices(&close).filter(|(at, _)| *at == 0 || sfc.as_bytes()[at - 1] == b'\n').last()?.0;
    (end > open_end).then(|| (&sfc[start..open_end], &sfc[open_end + 1..end]))
}

/// Every `<script>` block of a single-file component (a component may have a `<script>` and a `<script setup>`):
/// each from a line starting `<script` to the next `</script>`.
fn script_blocks(sfc: &str) -> Vec<(&str, &str)> {
    let mut blocks = Vec::new();
    let mut at = 0;
    while let Some(found) = sfc[at..].find("<script") {
        let start = at + found;
        at = start + "<script".len();
        if start != 0 && sfc.as_bytes()[start - 1] != b'\n' {
            continue;
        }
        let Some(open_end) = sfc[start..].find('>').map(|e| start + e) else { break };
        let Some(end) = sfc[open_end..].find("</script>").map(|e| open_end + e) else { break };
        blocks.push((&sfc[start..open_end], &sfc[open_end + 1..end]));
        at = end + "</script>".len();
    }
    blocks
}

/// A Vue single-file component: a `<template>` whose elements balance, and a `<script>` (or `<script setup>`)
/// that parses as TypeScript when `lang="ts"`, else JavaScript.
pub(super) fn vue(sfc: &str) -> Result<(), String> {
    let (_, template) = sfc_block(sfc, "template").ok_or("no `<template>` block: a component renders a template")?;
    if template.trim().is_empty() {
        return Err("the `<template>` block is empty".into());
    }
    balanced(template, "template")?;
    for (open, script) in script_blocks(sfc) {
        if open.contains("lang=\"ts\"") || open.contains("lang='ts'") {
            tree_sitter(tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(), script, "TypeScript (script)")?;
        } else {
            tree_sitter(tree_sitter_javascript::LANGUAGE.into(), script, "JavaScript (script)")?;
        }
    }
    Ok(())
}

/// The HTML a Vue template renders, as far as accessibility goes: bound attributes (`:alt`, `v-bind:alt`) count as
/// the attribute, interpolations as text.
pub(super) fn vue_html(sfc: &str) -> Option<String> {
    let (_, template) = sfc_block(sfc, "template")?;
    Some(template.replace("v-bind:", "").replace(" :", " ").replace("\n:", "\n"))
}

/// A whole HTML page: a doctype, a viewport for small screens, elements balanced, and a responsive rule (a media
/// query, or fluid sizing with `clamp()`, `minmax()` or wrapping flex).
pub(super) fn html_page(page: &str) -> Result<(), String> {
    let lower = page.to_ascii_lowercase();
    if !lower.trim_start().starts_with("<!doctype html>") {
        return Err("start the page with `<!doctype html>`".into());
    }
    if !lower.contains("name=\"viewport\"") && !lower.contains("name='viewport'") {
        return Err("add `<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">`".into());
    }
    let without_doctype = page.trim_start().split_once('>').map_or("", |(_, rest)| rest);
    balanced(without_doctype, "HTML")?;
    if !["@media", "clamp(", "minmax(", "flex-wrap"].iter().any(|r| lower.contains(r)) {
        return Err(
            "the page is not responsive: add a `@media` query or fluid sizing (`clamp()`, grid `minmax()`)".into()
        );
    }
    Ok(())
}

/// The HTML a React component's JSX renders, as far as accessibility goes: lowercase elements with their attributes
/// (`className` → `class`, `htmlFor` → `for`, an expression as a placeholder value), text, and the JSX inside
/// expressions; a capitalised component renders only its children. An element spreading props is given the benefit
/// of the doubt for its name and alt text. `None` if the code does not parse.
pub(super) fn jsx_html(code: &str) -> Option<String> {
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(&tree_sitter_typescript::LANGUAGE_TSX.into()).ok()?;
    let tree = parser.parse(code, None)?;
    let mut html = String::new();
    render_within(tree.root_node(), code, &mut html);
    Some(html)
}

fn is_jsx(kind: &str) -> bool {
    matches!(kind, "jsx_element" | "jsx_self_closing_element")
}

/// Renders the outermost JSX elements under `node`.
fn render_within(node: tree_sitter::Node<'_>, code: &str, html: &mut String) {
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        if is_jsx(child.kind()) {
            render(child, code, html);
        } else {
            render_within(child, code, html);
        }
    }
}

fn render(node: tree_sitter::Node<'_>, code: &str, html: &mut String) {
    let text = |n: tree_sitter::Node<'_>| code.get(n.byte_range()).unwrap_or("");
    let opening = if node.kind() == "jsx_element" { node.child_by_field_name("open_tag") } else { Some(node) };
    let name = opening.and_then(|o| o.child_by_field_name("name")).map(text).unwrap_or("");
    let is_element = name.chars().next().is_some_and(|c| c.is_ascii_lowercase()) && !name.contains('.');
    if is_element {
        html.push('<');
        html.push_str(name);
        let mut spread = false;
        let mut present = Vec::new();
        if let Some(opening) = opening {
            let mut cursor = opening.walk();
            for attribute in opening.children_by_field_name("attribute", &mut cursor) {
                if attribute.kind() != "jsx_attribute" {
                    spread = true;
                    continue;
                }
                let Some(key) = attribute.named_child(0) else { continue };
                let key = match text(key) {
                    "className" => "class",
                    "htmlFor" => "for",
                    other => other,
                };
                present.push(key.to_owned());
                let value = attribute.named_child(1).map(|v| {
                    if v.kind() == "string" { text(v).trim_matches(['"', '\'']).to_owned() } else { "{…}".to_owned() }
                });
                html.push(' ');
                html.push_str(key);
                if let Some(value) = value {
                    html.push_str("=\"");
                    html.push_str(&value.replace('"', "&quot;"));
                    html.push('"');
                }
            }
        }
        if spread {
            for (element, attribute) in [("img", "alt"), ("", "aria-label")] {
                if (element.is_empty() || element == name) && !present.iter().any(|p| p == attribute) {
                    html.push_str(&format!(" {attribute}=\"{{…props}}\""));
                }
            }
        }
        html.push('>');
    }
    if node.kind() == "jsx_element" {
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            match child.kind() {
                "jsx_text" => html.push_str(text(child)),
                kind if is_jsx(kind) => render(child, code, html),
                "jsx_expression" => {
                    let before = html.len();
                    render_within(child, code, html);
                    if html.len() == before {
                        html.push_str("{…}");
                    }
                }
                _ => {}
            }
        }
    }
    if is_element && !VOID.contains(&name) {
        html.push_str("</");
        html.push_str(name);
        html.push('>');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsx_renders_to_the_html_an_accessibility_check_reads() {
        let code = r#"export function Card({ user, items, ...rest }: Props) {
  return (
    <section className="card">
      <Avatar user={user} />
      <img src={user.photo} />
      <label htmlFor="q">Search</label><input id="q" disabled />
      <button onClick={() => go()}>{user.name}</button>
      <ul>{items.map((item) => <li key={item}>{item}</li>)}</ul>
      <img {...rest} />
    </section>
  );
}"#;
        assert_eq!(
            jsx_html(code).unwrap(),
            "<section class=\"card\"><img src=\"{…}\"><label for=\"q\">Search</label><input id=\"q\" disabled>\
             <button onClick=\"{…}\">{…}</button><ul><li key=\"{…}\">{…}</li></ul>\
             <img alt=\"{…props}\" aria-label=\"{…props}\"></section>"
        );
        // What the checker then finds: the image without alt text, and nothing the spread may supply.
        let findings = crate::AccessibilityChecker.check_fragment(&jsx_html(code).unwrap());
        assert_eq!(findings.iter().map(|f| f.element.as_str()).collect::<Vec<_>>(), ["img"]);
    }

    #[test]
    fn vue_templates_balance_and_scripts_parse() {
        let good = "<template>\n  <div v-if=\"count > 0\">\n    <img :src=\"logo\" :alt=\"name\" />\n    <template v-for=\"i in items\"><p>{{ i }}</p></template>\n  </div>\n</template>\n\n\
                    <script setup lang=\"ts\">\nconst count: number = 1;\n</script>\n";
        assert_eq!(vue(good), Ok(()));
        assert!(vue_html(good).unwrap().contains("<img src=\"logo\" alt=\"name\" />"));
        let unclosed = good.replace("</p>", "");
        assert!(vue(&unclosed).unwrap_err().contains("`</template>` at line 4 closes `<p>`"), "{:?}", vue(&unclosed));
        assert!(vue(&good.replace("count: number = 1", "count: = ")).unwrap_err().contains("TypeScript"));
        assert!(vue("<script>\nexport default {}\n</script>\n").unwrap_err().contains("no `<template>`"));
        // A <script> and a <script setup> are two blocks, each parsed on its own.
        let two = format!("{good}<script lang=\"ts\">\nexport default {{ name: 'Card' }};\n</script>\n");
        assert_eq!(vue(&two), Ok(()));
        assert!(vue(&two.replace("name: 'Card'", "name: ")).unwrap_err().contains("TypeScript"));
    }

    #[test]
    fn a_page_must_be_whole_and_responsive() {
        let page = "<!doctype html>\n<html lang=\"en\"><head><meta name=\"viewport\" content=\"width=device-width\">\
                    <style>@media (max-width: 40rem) { nav { display: none } }</style></head>\
                    <body><main><h1>Hi</h1><br></main></body></html>";
        assert_eq!(html_page(page), Ok(()));
        assert!(html_page(&page.replace("<!doctype html>", "")).unwrap_err().contains("doctype"));
        assert!(html_page(&page.replace("viewport", "x")).unwrap_err().contains("viewport"));
        assert!(html_page(&page.replace("@media", "@supports")).unwrap_err().contains("responsive"));
        assert!(html_page(&page.replace("</main>", "")).unwrap_err().contains("closes `<main>`"));
        // A script's text is not markup.
        let scripted = page.replace("</main>", "<script>for (let i = 0; i<items.length; i++) {}</script></main>");
        assert_eq!(html_page(&scripted), Ok(()));
    }
}

//! `agentic knowledge`: knowledge bases, uploads with a progress bar, and searches.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use agentic_sdk::AgenticClient;
use agentic_sdk::api::CreateKnowledgeBaseRequest;
use agentic_sdk::ids::KnowledgeBaseId;
use agentic_sdk::model::TextLanguage;
use agentic_sdk::query::PageRequest;
use agentic_sdk::resources::DocumentFile;
use serde::Serialize;

use super::Context;
use crate::cli::KnowledgeCommand;
use crate::error::CliError;

pub(crate) async fn knowledge(ctx: &Context, command: KnowledgeCommand) -> Result<(), CliError> {
    match command {
        KnowledgeCommand::List => {
            let bases = ctx.client.knowledge().list(PageRequest { limit: 200, after: None }).await?;
            ctx.out.show(&bases, &["ID", "NAME", "LANGUAGE", "DOCUMENTS", "CHUNKS"], || {
                bases
                    .data
                    .iter()
                    .map(|b| {
                        vec![
                            b.id.to_string(),
                            b.name.clone(),
                            b.language.as_str().to_owned(),
                            b.documents.to_string(),
                            b.chunks.to_string(),
                        ]
                    })
                    .collect()
            })
        }
        KnowledgeCommand::Create { name, description, language, project } => {
            let language = match language.as_deref() {
                None => None,
                Some(name) => Some(TextLanguage::parse(name).ok_or_else(|| {
                    let known: Vec<&str> = TextLanguage::ALL.iter().map(|l| l.as_str()).collect();
                    CliError::Usage(format!("`{name}` is not a language: {}", known.join(", ")))
                })?),
            };
            let project_id = match project {
                Some(project) => Some(super::project(&ctx.client, &project).await?),
                None => None,
            };
            let request = CreateKnowledgeBaseRequest { name, description, language, project_id };
            let base = ctx.client.knowledge().create(&request).await?;
            if ctx.out.json {
                return ctx.out.json(&base);
            }
            ctx.out.line(&format!("created knowledge base {} ({})", base.name, base.id))
        }
        KnowledgeCommand::Upload { base, files, title } => upload(ctx, &base, &files, title).await,
        KnowledgeCommand::Search { base, query, k } => {
            let base = knowledge_base(&ctx.client, &base).await?;
            let hits = ctx.client.knowledge().search(base, &query, Some(k)).await?;
            ctx.out.show(&hits, &["SCORE", "TITLE", "SECTION", "TEXT"], || {
                hits.iter()
                    .map(|h| {
                        let text: String = h.text.split_whitespace().collect::<Vec<_>>().join(" ");
                        let text = match text.char_indices().nth(80) {
                            Some((end, _)) => format!("{}…", &text[..end]),
                            None => text,
                        };
                        vec![format!("{:.3}", h.score), h.title.clone(), h.headings.join(" › "), text]
                    })
                    .collect()
            })
        }
        KnowledgeCommand::Delete { base } => {
            let id = knowledge_base(&ctx.client, &base).await?;
            ctx.client.knowledge().delete(id).await?;
            ctx.out.line(&format!("deleted knowledge base {base}"))
        }
    }
}

/// A knowledge base named by id or by name.
async fn knowledge_base(client: &AgenticClient, given: &str) -> Result<KnowledgeBaseId, CliError> {
    if let Ok(id) = given.trim().parse::<KnowledgeBaseId>() {
        return Ok(id);
    }
    let mut page = PageRequest { limit: 200, after: None };
    loop {
        let bases = client.knowledge().list(page).await?;
        if let Some(found) = bases.data.iter().find(|b| b.name == given.trim()) {
            return Ok(found.id);
        }
        match bases.next_cursor {
            Some(cursor) => page.after = Some(cursor),
            None => return Err(CliError::Usage(format!("no knowledge base named `{given}`"))),
        }
    }
}

/// What became of one file.
#[derive(Debug, Serialize)]
struct Uploaded {
    file: String,
    /// `created`, `unchanged` or `failed`.
    result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    document_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chunks: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Uploads `files` one by one, a progress bar on a terminal; a file that fails does not stop the others, and the
/// command fails at the end if any did.
async fn upload(ctx: &Context, base: &str, files: &[PathBuf], title: Option<String>) -> Result<(), CliError> {
    if title.is_some() && files.len() > 1 {
        return Err(CliError::Usage("--title names one document: upload one file with it".into()));
    }
    let id = knowledge_base(&ctx.client, base).await?;
    let total: u64 = files.iter().map(|f| std::fs::metadata(f).map_or(0, |m| m.len())).sum();
    let bar = (!ctx.out.json && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(total);
        let style = indicatif::ProgressStyle::with_template("{bar:30} {bytes}/{total_bytes} {pos_files} {msg}")
            .or_else(|_| indicatif::ProgressStyle::with_template("{bar:30} {bytes}/{total_bytes} {msg}"))
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        bar.set_style(style);
        bar
    });
    let mut results = Vec::with_capacity(files.len());
    for (i, path) in files.iter().enumerate() {
        let name = display_name(path);
        if let Some(bar) = &bar {
            bar.set_message(format!("[{}/{}] {name}", i + 1, files.len()));
        }
        let result = upload_one(&ctx.client, id, path, title.clone()).await;
        if let Some(bar) = &bar {
            bar.inc(std::fs::metadata(path).map_or(0, |m| m.len()));
        }
        results.push(match result {
            Ok((created, document)) => Uploaded {
                file: name,
                result: if created { "created" } else { "unchanged" },
                document_id: Some(document.id.to_string()),
                chunks: Some(document.chunk_count),
                error: None,
            },
            Err(error) => Uploaded {
                file: name,
                result: "failed",
                document_id: None,
                chunks: None,
                error: Some(error.to_string()),
            },
        });
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    ctx.out.show(&results, &["FILE", "RESULT", "DOCUMENT", "CHUNKS", "ERROR"], || {
        results
            .iter()
            .map(|r| {
                vec![
                    r.file.clone(),
                    r.result.to_owned(),
                    r.document_id.clone().unwrap_or_default(),
                    r.chunks.map(|c| c.to_string()).unwrap_or_default(),
                    r.error.clone().unwrap_or_default(),
                ]
            })
            .collect()
    })?;
    let failed = results.iter().filter(|r| r.result == "failed").count();
    if failed > 0 {
        return Err(CliError::Failed(format!("{failed} of {} files could not be uploaded", results.len())));
    }
    Ok(())
}

fn display_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

async fn upload_one(
    client: &AgenticClient,
    base: KnowledgeBaseId,
    path: &Path,
    title: Option<String>,
) -> Result<(bool, agentic_sdk::model::KnowledgeDocument), CliError> {
    let bytes = std::fs::read(path).map_err(|e| CliError::Usage(format!("cannot read {}: {e}", path.display())))?;
    let mut file = DocumentFile::named(&display_name(path), bytes);
    file.title = title;
    let uploaded = client.knowledge().upload(base, &file).await?;
    Ok((uploaded.created, uploaded.document))
}

//! `docs/configuration.md`, written from the clap definitions so it cannot drift from them: the test below fails
//! when the committed file differs, and rewrites it with `AGENTIC_UPDATE_DOCS=1`.

use clap::CommandFactory;

use super::cli::Cli;

/// The reference as Markdown: every setting with its flag, environment variable, default and meaning.
fn render() -> String {
    let command = Cli::command();
    let mut text = String::from(
        "# Configuration reference\n\n\
         Every setting of `agentic-server`, as its `--help` gives it: a flag, the environment variable of the same \
         setting, or a key in the TOML file given with `--config` (the flag's name in snake_case, e.g. \
         `bind = \"0.0.0.0:9000\"`). A flag wins over the environment, which wins over the file. Secrets (marked \
         *secret*) are never printed.\n\n\
         This file is generated from the server's definitions by `AGENTIC_UPDATE_DOCS=1 cargo test -p \
         agentic-server --bin agentic-server configuration_reference`; the same test fails when it is stale.\n\n\
         | environment variable | flag | default | meaning |\n|---|---|---|---|\n",
    );
    for arg in command.get_arguments() {
        let Some(env) = arg.get_env() else { continue };
        let env = env.to_string_lossy();
        let flag = arg.get_long().map(|l| format!("`--{l}`")).unwrap_or_default();
        let default: Vec<String> = arg.get_default_values().iter().map(|v| v.to_string_lossy().into_owned()).collect();
        let default = match default.join(",") {
            d if d.is_empty() => "—".to_owned(),
            d => format!("`{d}`"),
        };
        let help = arg.get_long_help().or(arg.get_help()).map(|h| h.to_string()).unwrap_or_default();
        let help = help.replace('\n', " ").replace('|', "\\|");
        let secret = if arg.is_hide_env_values_set() { " *secret*" } else { "" };
        text.push_str(&format!("| `{env}` | {flag} | {default} | {help}{secret} |\n"));
    }
    text.push_str(
        "\nCommands: `agentic-server migrate` applies the database migrations to `DATABASE_URL` and exits; \
         `agentic-server healthcheck` asks the server on `AGENTIC_BIND` for `/health` (a container's health check).\n",
    );
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn configuration_reference_is_the_one_the_definitions_make() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/configuration.md");
        let expected = super::render();
        if std::env::var("AGENTIC_UPDATE_DOCS").as_deref() == Ok("1") {
            std::fs::write(&path, &expected).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == expected,
            "docs/configuration.md is stale: run AGENTIC_UPDATE_DOCS=1 cargo test -p agentic-server --bin \
             agentic-server configuration_reference"
        );
        assert!(expected.contains("| `DATABASE_URL` |") && expected.contains("| `AGENTIC_TRUSTED_PROXIES` |"));
    }
}

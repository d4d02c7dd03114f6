//! `agentic`: the agentic platform's API from a terminal, over the typed client (`agentic-sdk`).
//!
//! ```text
//! agentic login --url http://127.0.0.1:9000 --key agk_…
//! agentic projects create Site --budget 25.00
//! agentic agents execute qa_tester "Review the login form" --project Site --wait
//! agentic runs list --status completed --json
//! agentic approvals approve <id> --comment "go"
//! agentic costs Site --by model
//! agentic events tail --type agent.failed
//! ```
//!
//! Profiles live in a TOML file ([`config`]); tables for people, `--json` for scripts; exit codes tell usage
//! errors, API errors, budget refusals, unsuccessful runs and timeouts apart ([`cli::EXIT_CODES`]).

mod cli;
mod commands;
mod config;
mod error;
mod output;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("agentic: cannot start: {error}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("agentic: {error}");
            error.exit_code()
        }
    }
}

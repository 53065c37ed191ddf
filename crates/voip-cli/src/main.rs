//! `voip`: the command-line face of the SIP stack.
//!
//! `voip parse` reads one SIP message and prints a summary or a JSON verdict.

#![forbid(unsafe_code)]

mod parse_cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// The SIP stack's command-line tool.
#[derive(Parser, Debug)]
#[command(
    name = "voip",
    version,
    about = "SIP from the command line: parse messages, more to come"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Parse one SIP message and print its summary or a JSON verdict.
    Parse(parse_cmd::ParseArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Command::Parse(args) => parse_cmd::run(&args),
    }
}

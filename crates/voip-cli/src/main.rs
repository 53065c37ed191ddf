//! `voip`: the command-line face of the SIP stack.
//!
//! `voip parse` reads one SIP message and prints a summary or a JSON verdict;
//! `voip digest` computes a digest response for debugging authentication;
//! `voip register` registers an account; `voip registrar` runs a small registrar;
//! `voip call` places a call and `voip listen` takes calls; `voip demo` runs all of
//! it end to end on loopback.

#![forbid(unsafe_code)]

mod account;
mod call_cmd;
mod demo_cmd;
mod digest_cmd;
mod listen_cmd;
mod logging;
mod media_plan;
mod parse_cmd;
mod register_cmd;
mod registrar_cmd;
mod runtime;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// The SIP stack's command-line tool.
#[derive(Parser, Debug)]
#[command(
    name = "voip",
    version,
    about = "SIP from the command line: parse messages, compute digest responses, register, run a registrar, place and take calls"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    log: logging::LogArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the stack end to end on loopback: an embedded registrar, two users, a call.
    Demo(demo_cmd::DemoArgs),
    /// Parse one SIP message and print its summary or a JSON verdict.
    Parse(parse_cmd::ParseArgs),
    /// Compute a digest response and Authorization value, to debug authentication.
    Digest(Box<digest_cmd::DigestArgs>),
    /// Register with a server, print what it holds; deregister with --once or Ctrl-C.
    Register(Box<register_cmd::RegisterArgs>),
    /// Run a small registrar and location proxy until Ctrl-C.
    Registrar(registrar_cmd::RegistrarArgs),
    /// Place a call, print the SIP ladder, and check how it ended.
    Call(Box<call_cmd::CallArgs>),
    /// Take calls: answer, refuse busy, or let them ring.
    Listen(Box<listen_cmd::ListenArgs>),
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
    cli.log.init();
    let trace = match cli.log.tap() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("voip: {e}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Command::Demo(args) => demo_cmd::run(&args, trace),
        Command::Parse(args) => parse_cmd::run(&args),
        Command::Digest(args) => digest_cmd::run(&args),
        Command::Register(args) => register_cmd::run(&args, trace),
        Command::Registrar(args) => registrar_cmd::run(&args, trace),
        Command::Call(args) => call_cmd::run(&args, trace),
        Command::Listen(args) => listen_cmd::run(&args, trace),
    }
}

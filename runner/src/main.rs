//! `plugspec`: the conformance suite against the reference loader, and tools for plugin authors.
//!
//! * `plugspec [test]` — build the fixtures (showing each build and its time), run the cases,
//!   print the per-rule report; `--json FILE` / `--markdown FILE` write the reports; `--rule`,
//!   `--area`, `--case` (repeatable) select cases.
//! * `plugspec list` / `plugspec rules` — the cases, and the rules with their coverage.
//! * `plugspec inspect FILE` — what a plugin file declares, read without running any of it.
//! * `plugspec check FILE...` — whether a host would accept these plugins, with every reason.
//! * `plugspec host` — the host description `check` uses, as a host file.
//!
//! Exit status: 0 success; 1 a case failed, a plugin was refused, a file could not be read;
//! 2 bad arguments.

mod cli;

use std::process::ExitCode;

use clap::Parser;
use plugspec::ReferenceLoader;
use plugspec_runner::child;

#[global_allocator]
static ALLOC: plugspec_runner::CountingAllocator = plugspec_runner::CountingAllocator;

fn main() -> ExitCode {
    if child::is_child() {
        child::main::<ReferenceLoader>();
    }
    let cli = cli::Cli::parse();
    match cli.command {
        None => cli::suite::test(cli.test),
        Some(cli::Command::Test(args)) => cli::suite::test(args),
        Some(cli::Command::List(args)) => cli::suite::list(&args),
        Some(cli::Command::Rules(args)) => cli::suite::rules(&args),
        Some(cli::Command::Inspect(args)) => cli::plugins::inspect(&args),
        Some(cli::Command::Check(args)) => cli::plugins::check(&args),
        Some(cli::Command::Host(args)) => cli::plugins::host(&args),
    }
}

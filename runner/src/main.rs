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

/// Output into a closed pipe (`plugspec list | head -1`) ends the process quietly, as it does
/// for other command-line tools, instead of a panic on the failed write: Rust ignores SIGPIPE,
/// so the default action is put back.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called once at the start of `main`, before any thread is started; setting a
    // signal's disposition to its default has no other precondition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    if child::is_child() {
        child::main::<ReferenceLoader>();
    }
    let cli = cli::Cli::parse();
    // Not while cases run: the parent writes to its children, and a child that died early must
    // not take the parent with it.
    let runs_cases = match &cli.command {
        None => !cli.test.list,
        Some(cli::Command::Test(args)) => !args.list,
        Some(_) => false,
    };
    if !runs_cases {
        restore_sigpipe();
    }
    match cli.command {
        None => cli::suite::test(cli.test),
        Some(cli::Command::Test(args)) => cli::suite::test(args),
        Some(cli::Command::List(args)) => cli::suite::list(&args),
        Some(cli::Command::Rules(args)) => cli::suite::rules(&args),
        Some(cli::Command::Inspect(args)) => cli::plugins::inspect(&args),
        Some(cli::Command::Check(args)) => cli::plugins::check(&args),
        Some(cli::Command::Host(args)) => cli::plugins::host(&args),
        Some(cli::Command::Compare(args)) => cli::compare(&args),
    }
}

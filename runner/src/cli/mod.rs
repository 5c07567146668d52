//! The command line of `plugspec` (clap): the commands and their arguments.

pub mod plugins;
pub mod suite;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use plugspec_runner::host::SharedPackage;

/// Exit status for a failed run, a refused plugin, a file that cannot be read.
pub const FAILED: u8 = 1;
/// Exit status for bad arguments (clap's own errors use it too).
pub const USAGE: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "plugspec",
    version,
    about = "The plugspec conformance suite against the reference loader, and plugin checks for plugin authors",
    after_help = "Without a command, runs `plugspec test`.\n\
                  Exit status: 0 success; 1 a case failed, a plugin was refused or a file could not be read; 2 bad arguments.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub test: TestArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build the fixtures and run the cases against the reference loader (the default).
    Test(TestArgs),
    /// List the cases: trial name, rules, title.
    List(ListArgs),
    /// List the rules of SPEC.md: ID, level, title, number of cases, case IDs.
    Rules(DirArgs),
    /// Describe a plugin file: identity, fingerprint, shared packages, exports. Runs none of
    /// its code.
    Inspect(InspectArgs),
    /// Would a host accept these plugins? Each is accepted or refused with every reason, judged
    /// from the file without running any of its code. Exit status 1 if any is refused.
    Check(CheckArgs),
    /// Print the host description `check` would use, as a host file (TOML).
    Host(HostOptions),
    /// Several JSON reports side by side: a rule × implementation matrix as text, Markdown or
    /// a self-contained HTML page.
    Compare(CompareArgs),
}

/// How `compare` renders its matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for a terminal.
    Text,
    /// A Markdown table, then each implementation's failures and known failures.
    Markdown,
    /// A self-contained HTML page, colour-coded, with every case linked.
    Html,
}

#[derive(Debug, Clone, Args)]
pub struct CompareArgs {
    /// The JSON reports (`plugspec test --json FILE`), one column each, in this order.
    #[arg(required = true, value_name = "REPORT")]
    pub reports: Vec<PathBuf>,
    /// The rendering.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Write to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// What case links start with: a case's file is `<BASE><area>/<ID>-<slug>.toml`
    /// (Markdown and HTML).
    #[arg(long, value_name = "BASE", default_value = "conformance/")]
    pub case_base: String,
}

#[derive(Debug, Clone, Default, Args)]
pub struct DirArgs {
    /// The directory of cases.
    #[arg(long, value_name = "DIR")]
    pub cases: Option<PathBuf>,
    /// The directory of fixture sources.
    #[arg(long, value_name = "DIR")]
    pub fixtures: Option<PathBuf>,
}

/// Which cases: a case is selected when it matches one of the values of every option given.
#[derive(Debug, Clone, Default, Args)]
pub struct Selection {
    /// Only the cases checking this rule (repeatable), such as OPEN-2.
    #[arg(long = "rule", id = "rule_ids", value_name = "RULE")]
    pub rules: Vec<String>,
    /// Only the cases of this area (repeatable), such as open.
    #[arg(long = "area", id = "area_names", value_name = "AREA")]
    pub areas: Vec<String>,
    /// Only this case (repeatable), such as OPN-0002.
    #[arg(long = "case", id = "case_ids", value_name = "ID")]
    pub cases: Vec<String>,
}

impl Selection {
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.areas.is_empty() && self.cases.is_empty()
    }
}

#[derive(Debug, Clone, Default, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub dirs: DirArgs,
    #[command(flatten)]
    pub selection: Selection,
}

#[derive(Debug, Clone, Default, Args)]
pub struct TestArgs {
    /// Run only the cases whose trial name contains this.
    pub filter: Option<String>,
    /// Match the filter exactly.
    #[arg(long)]
    pub exact: bool,
    #[command(flatten)]
    pub selection: Selection,
    /// Write the report as JSON to FILE (structure: runner/report.schema.json).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the per-rule report as Markdown to FILE.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// List the trials instead of running them (builds nothing, starts no child).
    #[arg(long)]
    pub list: bool,
    /// Do not compare transcripts with snapshots (the default outside `cargo run`).
    #[arg(long)]
    pub no_snapshots: bool,
    /// The known failures file.
    #[arg(long, value_name = "FILE")]
    pub known_failures: Option<PathBuf>,
    /// Run the cases in this driver of the protocol (runner/PROTOCOL.md) instead of the
    /// reference loader's: `--driver CMD [ARGS…]` (one fresh process per case run; give it
    /// last, or end its arguments with `;`). `--driver go` builds and runs the bundled Go
    /// driver (Go's standard `plugin` package) with the Go fixture kit.
    #[arg(long, value_name = "CMD", num_args = 1.., value_terminator = ";")]
    pub driver: Vec<String>,
    /// The fixture kit of `--driver CMD`: a directory with a kit.toml (default: the Rust
    /// fixtures; `--driver go` uses conformance/kits/go).
    #[arg(long, value_name = "DIR")]
    pub kit: Option<PathBuf>,
    /// Time limit of one child, in seconds.
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<f64>,
    /// How many cases run at once (default: the number of CPUs; at least 1).
    #[arg(long, value_name = "N")]
    pub test_threads: Option<std::num::NonZeroUsize>,
    /// Colour in the test output: auto (on a terminal), always, never (default: auto, or
    /// $CARGO_TERM_COLOR).
    #[arg(long, value_name = "WHEN", value_enum)]
    pub color: Option<Color>,
    #[command(flatten)]
    pub dirs: DirArgs,
}

/// When to colour the output (`--color`), as cargo and nextest say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Color {
    /// On a terminal only.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// `1 case`, `2 cases`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[derive(Debug, Clone, Args)]
pub struct InspectArgs {
    /// The plugin file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Exit non-zero when there is a warning (the object header disagrees with the manifest's
    /// target).
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// The plugin files.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub host: HostOptions,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// The host to check against: this binary's build sharing only `plugspec`, unless a host file
/// or a plugin says otherwise; then the options, in this order.
#[derive(Debug, Clone, Default, Args)]
pub struct HostOptions {
    /// Read the host from a host file (TOML; see `plugspec_runner::host`).
    #[arg(long = "host", value_name = "FILE", conflicts_with = "like")]
    pub host_file: Option<PathBuf>,
    /// A host built like this plugin: its toolchain, target, target features, panic strategy
    /// and shared packages (use a plugin the host is known to accept).
    #[arg(long, value_name = "PLUGIN")]
    pub like: Option<PathBuf>,
    /// A package the host shares with plugins (repeatable); replaces one of the same name.
    #[arg(long, value_name = "NAME=VERSION#HASH", value_parser = SharedPackage::parse)]
    pub shared: Vec<SharedPackage>,
    /// Require every plugin to declare this API version.
    #[arg(long, value_name = "N")]
    pub api_version: Option<u32>,
    /// Require every plugin to declare this build ID.
    #[arg(long, value_name = "ID")]
    pub build_id: Option<String>,
    /// Refuse a plugin file, or a directory on its resolved path, that group or others can
    /// write or that another user than root or you owns (as a host requiring safe permissions
    /// does: OPEN-11).
    #[arg(long)]
    pub require_safe_permissions: bool,
}

/// `plugspec compare`: reads every report (an unreadable or invalid one is a usage error,
/// named), then writes the matrix.
pub fn compare(args: &CompareArgs) -> std::process::ExitCode {
    use plugspec_runner::{compare, report::Report};
    let mut reports = Vec::new();
    for path in &args.reports {
        let read = std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|text| Report::from_json(&text));
        match read {
            Ok(r) => reports.push(r),
            Err(e) => {
                eprintln!("plugspec: compare: {}: {e}", plugspec::error::escaped(path));
                return std::process::ExitCode::from(USAGE);
            }
        }
    }
    let rendered = match args.format {
        Format::Text => compare::text(&reports),
        Format::Markdown => compare::markdown(&reports, &args.case_base),
        Format::Html => compare::html(&reports, &args.case_base),
    };
    let written = match &args.output {
        Some(path) => std::fs::write(path, rendered)
            .map_err(|e| format!("cannot write {}: {e}", plugspec::error::escaped(path))),
        None => {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            out.write_all(rendered.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| format!("cannot write the matrix: {e}"))
        }
    };
    match written {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("plugspec: compare: {e}");
            std::process::ExitCode::from(FAILED)
        }
    }
}

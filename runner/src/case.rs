//! The case format: one TOML file per case under `conformance/<area>/<ID>-<slug>.toml`, parsed
//! and validated here.
//!
//! ```toml
//! id = "OPN-0003"                       # opaque, permanent, never reused
//! title = "A byte copy of a loaded plugin is already loaded"
//! rules = ["OPEN-3"]                    # IDs from plugspec::rules
//! clauses = []                          # optional: the rules' clauses it checks (`VER-4.b`)
//! platforms = ["loading"]               # optional: loading (default), refusing, any, an OS family or a triple
//! repeat = 1                            # optional: run N times, each in a fresh child
//! requires = []                         # optional capabilities of the test binary: "alloc_count"
//!
//! [host]                                # optional: what the host requires of plugins
//! api_version = 2
//! build_id = "fixture-build-1"
//!
//! [[step]]
//! op = "open"
//! fixture = "basic"                     # or: path = "sub/../libfx_basic.so" (relative to the case dir)
//! as = "p1"
//!
//! [[step]]
//! op = "copy"
//! from = "$FIXTURE(basic)"
//! to = "copy.so"
//!
//! [[step]]
//! op = "open"
//! path = "copy.so"
//! expect = { error = "already_loaded" }
//! ```
//!
//! Each step is an operation ([`Op`], tagged by `op`) plus an optional `expect` table
//! ([`Expect`]). Loader operations without `expect` must succeed; file operations must succeed
//! and take no `expect`. Strings may use `$CASE_DIR` (the case's scratch directory) and
//! `$FIXTURE(name)` (the path of the case's own copy of a built fixture).
//!
//! Validation ([`load_suite`]) rejects, naming the file and the problem: an unknown field, an
//! unknown rule ID, a duplicate case ID, an ID that does not match the file name, an unknown
//! fixture, a handle or symbol name used before it is bound (or after it was dropped), an
//! expected error kind that does not exist, and an expectation that does not apply to its
//! operation.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::fixtures::Catalog;

/// The areas a case can be filed under: each directory of the suite with the prefix every case
/// ID in it carries (`open/OPN-0003-….toml`). This table is the one place that pairs the two
/// vocabularies; a case whose prefix does not match its directory is rejected.
pub const AREA_PREFIXES: [(&str, &str); 11] = [
    ("api", "API"),
    ("open", "OPN"),
    ("cache", "CAC"),
    ("init", "INI"),
    ("lookup", "LKP"),
    ("unload", "UNL"),
    ("versions", "VER"),
    ("platform", "PLT"),
    ("discovery", "DSC"),
    ("errors", "ERR"),
    ("bad-input", "BAD"),
];

/// The areas a case can be filed under, as directory names (the first column of
/// [`AREA_PREFIXES`]).
pub const AREAS: [&str; AREA_PREFIXES.len()] = {
    let mut areas = [""; AREA_PREFIXES.len()];
    let mut i = 0;
    while i < areas.len() {
        areas[i] = AREA_PREFIXES[i].0;
        i += 1;
    }
    areas
};

/// The case-ID prefix of the cases filed under `area` (`"open"` → `"OPN"`).
#[must_use]
pub fn prefix_of(area: &str) -> Option<&'static str> {
    AREA_PREFIXES
        .iter()
        .find(|(dir, _)| *dir == area)
        .map(|(_, prefix)| *prefix)
}

/// Capabilities a case may require of the test binary (`requires = [...]`).
/// `unprivileged`: the child does not run as root (root ignores permission bits); a runner that
/// is root starts the child as `nobody` for such a case.
pub const CAPABILITIES: [&str; 2] = ["alloc_count", "unprivileged"];

/// A validated case.
#[derive(Debug, Clone, Serialize)]
pub struct Case {
    /// The stable ID, such as `OPN-0003`.
    pub id: String,
    /// The slug from the file name, such as `byte-copy-already-loaded`.
    pub slug: String,
    /// The area (the directory), such as `open`.
    pub area: String,
    /// One line saying what the case checks.
    pub title: String,
    /// The rules the case checks.
    pub rules: Vec<String>,
    /// The clauses of those rules the case checks (`VER-4.b`; see [`plugspec::rules::Clause`]).
    pub clauses: Vec<String>,
    /// Where the case applies (see [`crate::platforms`]).
    pub platforms: Vec<String>,
    /// Capabilities the test binary must have.
    pub requires: Vec<String>,
    /// How many fresh children run the case; all must pass.
    pub repeat: u32,
    /// What the host requires of plugins.
    pub host: HostSpec,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// The fixtures the case uses (copied into its scratch directory before it runs).
    pub fixtures: BTreeSet<String>,
    /// The file the case came from.
    pub file: PathBuf,
}

impl Case {
    /// The request of no steps that asks a driver for its `hello` ([`crate::run::probe`]).
    pub fn probe() -> Case {
        Case {
            id: "PROBE".into(),
            slug: "hello".into(),
            area: String::new(),
            title: "the driver's hello".into(),
            rules: Vec::new(),
            clauses: Vec::new(),
            platforms: Vec::new(),
            requires: Vec::new(),
            repeat: 1,
            host: HostSpec::default(),
            steps: Vec::new(),
            fixtures: BTreeSet::new(),
            file: PathBuf::new(),
        }
    }

    /// The trial name: `<area>/<ID>-<slug>`.
    pub fn trial_name(&self) -> String {
        format!("{}/{}-{}", self.area, self.id, self.slug)
    }

    /// The snapshot name: `<ID>-<slug>`.
    pub fn snapshot_name(&self) -> String {
        format!("{}-{}", self.id, self.slug)
    }

    /// Whether any step needs a loaded plugin or a built fixture (such cases are ignored on
    /// refusing platforms unless they say otherwise: a fixture there is no plugin, and reading
    /// its manifest has nothing to read).
    pub fn loads(&self) -> bool {
        !self.fixtures.is_empty() || self.steps.iter().any(|s| s.op.is_loader_op())
    }

    /// The driver capabilities ([`crate::protocol::DRIVER_CAPABILITIES`]) this case needs:
    /// those of its operations, of its `[host]` table, and the ones it `requires`. A driver
    /// lacking one reports the case as not applicable.
    pub fn needs(&self) -> BTreeSet<&'static str> {
        let mut needs: BTreeSet<&'static str> =
            self.steps.iter().filter_map(|s| s.op.needs()).collect();
        for step in &self.steps {
            match &step.op {
                Op::Lookup {
                    rust_type: Some(_), ..
                } => {
                    needs.insert("typed_lookup");
                }
                Op::Truncate {
                    section,
                    section_header,
                    ..
                }
                | Op::Patch {
                    section,
                    section_header,
                    ..
                } if section.is_some() || section_header.is_some() => {
                    needs.insert("elf_sections");
                    // The manifest's own section exists only in plugspec plugins.
                    if [section, section_header]
                        .iter()
                        .any(|s| s.as_deref() == Some(plugspec::abi::SECTION_ELF))
                    {
                        needs.insert("manifest");
                    }
                }
                _ => {}
            }
        }
        if self.host != HostSpec::default() {
            needs.insert("host_context");
        }
        for r in &self.requires {
            if let Some((c, _)) = crate::protocol::DRIVER_CAPABILITIES
                .iter()
                .find(|(c, _)| c == r)
            {
                needs.insert(c);
            }
        }
        needs
    }
}

/// What the host requires of plugins in this case (rules VER-9, VER-10).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HostSpec {
    /// Every plugin must declare this API version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<u32>,
    /// Every plugin must declare this build ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_id: Option<String>,
    /// Further shared packages the host declares (besides `plugspec` and `fixture-common`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared: Vec<PackageSpec>,
}

/// A shared package as a case declares it for the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PackageSpec {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Source hash.
    pub hash: String,
}

/// One step: what to do and what the parent expects of it.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// The operation (this, and only this, is sent to the child).
    pub op: Op,
    /// What the parent expects (never sent to the child).
    pub expect: Expect,
}

/// Function or variable, as cases write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An exported function.
    Function,
    /// An exported variable.
    Variable,
}

impl Kind {
    /// As plugspec's [`plugspec::SymbolKind`].
    pub fn symbol_kind(self) -> plugspec::SymbolKind {
        match self {
            Kind::Function => plugspec::SymbolKind::Function,
            Kind::Variable => plugspec::SymbolKind::Variable,
        }
    }

    /// `function` or `variable`.
    pub fn as_str(self) -> &'static str {
        self.symbol_kind().as_str()
    }
}

/// An operation. This is also the step as the protocol sends it to the child, after the parent
/// replaced `fixture = "x"` by the copy's path and substituted `$CASE_DIR` and `$FIXTURE(x)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Op {
    /// `loader.open(path)`; binds the plugin to `as`.
    Open {
        /// The path as given to `open` (relative paths are relative to the case directory).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<String>,
        /// Shorthand for the path of the case's copy of this fixture (case files only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fixture: Option<String>,
        /// The handle name to bind.
        #[serde(default, rename = "as", skip_serializing_if = "Option::is_none")]
        bind: Option<String>,
    },
    /// `threads` threads released together by a barrier, each calling `loader.open(path)`;
    /// binds the first thread's plugin to `as`.
    OpenConcurrent {
        /// The path as given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<String>,
        /// Shorthand for the path of the case's copy of this fixture.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fixture: Option<String>,
        /// How many threads.
        threads: u32,
        /// The handle name to bind.
        #[serde(default, rename = "as", skip_serializing_if = "Option::is_none")]
        bind: Option<String>,
        /// An `i32` or `AtomicI32` variable each thread reads right after its `open` returned.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        read_after: Option<String>,
    },
    /// One thread per path, released together by a barrier, each calling `loader.open` on its
    /// own path (so that opens of different plugins overlap, as in an open cycle across
    /// threads). Binds nothing: open the paths again to get their handles.
    OpenEach {
        /// The paths as given, one per thread (at least two).
        paths: Vec<String>,
    },
    /// `plugin.lookup(name)`, typed when `type` is given; binds the symbol to `as` (default:
    /// the name).
    Lookup {
        /// The handle name of the plugin.
        plugin: String,
        /// The name looked up, exactly.
        name: String,
        /// The symbol name to bind (default: `name`).
        #[serde(default, rename = "as", skip_serializing_if = "Option::is_none")]
        bind: Option<String>,
        /// For a typed lookup: the kind asked for (default: `function` when the type starts
        /// with `extern`, else `variable`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kind: Option<Kind>,
        /// For a typed lookup: the written Rust type asked for.
        #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
        rust_type: Option<String>,
    },
    /// Calls a bound function symbol. Supported written types: `extern "C" fn() -> i32`,
    /// `extern "C" fn(i32)`, `extern "C" fn(i32) -> i32`, `extern "C" fn(i32, i32) -> i32`.
    Call {
        /// The bound symbol.
        symbol: String,
        /// The arguments.
        #[serde(default)]
        args: Vec<i32>,
    },
    /// Reads a bound `i32` or `AtomicI32` variable.
    Read {
        /// The bound symbol.
        symbol: String,
    },
    /// Writes a bound variable: `value` into an `i32`/`AtomicI32`, or, with `host_fn`, a host
    /// function returning that constant into an `extern "C" fn() -> i32` variable.
    Write {
        /// The bound symbol.
        symbol: String,
        /// The value to store.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<i32>,
        /// Store a host function that returns this.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        host_fn: Option<i32>,
    },
    /// Drops plugin handles (symbols stay usable: nothing is unloaded).
    Drop {
        /// Handle names.
        handles: Vec<String>,
    },
    /// Copies a file.
    Copy {
        /// Source.
        from: String,
        /// Destination.
        to: String,
    },
    /// Creates a symbolic link `link` pointing at `target` (as written).
    Symlink {
        /// What the link points at.
        target: String,
        /// The link to create.
        link: String,
    },
    /// Creates a hard link `to` of `from`.
    Hardlink {
        /// Existing file.
        from: String,
        /// New name.
        to: String,
    },
    /// Deletes a file (or an empty directory).
    Delete {
        /// The path.
        path: String,
    },
    /// Overwrites `path` with the bytes of `with` (a new file at the same path).
    Replace {
        /// The path to replace.
        path: String,
        /// Where the new bytes come from.
        with: String,
    },
    /// Writes a text file.
    WriteText {
        /// The path.
        path: String,
        /// The contents.
        text: String,
        /// Write `text` this many times over (for long files; default 1).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        repeat: Option<u32>,
    },
    /// Creates a directory (and its parents).
    Mkdir {
        /// The path.
        path: String,
    },
    /// Creates a FIFO.
    Mkfifo {
        /// The path.
        path: String,
    },
    /// Creates a Unix domain socket bound to `path` (the child keeps it listening).
    Mksocket {
        /// The path (keep it short: a socket path has about 100 bytes at most).
        path: String,
    },
    /// Cuts a file to `len` bytes.
    Truncate {
        /// The path.
        path: String,
        /// The new length (counted from the start of `section` or `section_header`, if given).
        len: u64,
        /// An ELF section: `len` counts from the first byte of its data in the file.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        section: Option<String>,
        /// An ELF section: `len` counts from the first byte of its entry in the section headers.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        section_header: Option<String>,
    },
    /// Overwrites bytes of a file in place at `offset` with `hex` (such as `"b700"`).
    Patch {
        /// The path.
        path: String,
        /// Byte offset (counted from the start of `section` or `section_header`, if given).
        offset: u64,
        /// The bytes, as hex digits.
        hex: String,
        /// An ELF section: `offset` counts from the first byte of its data in the file.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        section: Option<String>,
        /// An ELF section: `offset` counts from the first byte of its entry in the section
        /// headers (`Elf64_Shdr`: `sh_type` at 4, `sh_offset` at 24, `sh_size` at 32).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        section_header: Option<String>,
    },
    /// Changes one item of the plugspec manifest in a plugin file in place, leaving every other
    /// byte alone, so that the plugin differs from the host in that item only. The item's last
    /// character becomes the next one of its class (`0`-`8` → +1, `9` → `0`, `a`-`e` → +1,
    /// `f` → `a`, `g`-`y` → +1, `z` → `g`, the same for capitals, any other character → `x`),
    /// so hex stays hex and the length is kept; `abi_version` is incremented. Items: `identity`,
    /// `rustc_version`, `rustc_commit`, `target`, `target_features`, `panic`, `build_id`,
    /// `abi_version`, and `package <name> name|version|hash`.
    AlterManifest {
        /// The plugin file.
        path: String,
        /// The item.
        item: String,
    },
    /// Changes a file's permission bits (octal, such as `"000"`).
    Chmod {
        /// The path.
        path: String,
        /// Octal mode.
        mode: String,
    },
    /// Sets an environment variable in the child (only before the first loader operation).
    Env {
        /// Name.
        name: String,
        /// Value.
        value: String,
    },
    /// Whether the library at `path` is still mapped into the child.
    Mapped {
        /// The library's path.
        path: String,
    },
    /// Whether `name` resolves in the process's global symbol namespace
    /// (`dlsym(RTLD_DEFAULT, name)`): a plugin mapped into the global namespace would make its
    /// symbols visible there (LOOKUP-6).
    Global {
        /// The symbol name.
        name: String,
    },
    /// Reads the fixtures' init log (`PLUGSPEC_INIT_LOG`, one file per case run).
    InitLog {},
    /// Sleeps.
    Sleep {
        /// Milliseconds.
        ms: u64,
    },
    /// `plugspec::discovery::discover(loader, dir, entry, kind)`.
    Discover {
        /// The directory.
        dir: String,
        /// The entry symbol.
        entry: String,
        /// Its kind.
        kind: Kind,
    },
    /// Reads a plugin's manifest from the file without mapping it (the SDK's pointer-free
    /// section, VER-1/VER-8); reports identity and fingerprint.
    Inspect {
        /// The file.
        path: String,
    },
}

impl Op {
    /// The driver capability the operation needs, if any (`drop`, `env` and `sleep` need none).
    pub fn needs(&self) -> Option<&'static str> {
        Some(match self {
            Op::Open { .. } | Op::OpenConcurrent { .. } | Op::OpenEach { .. } => "open",
            Op::Lookup { .. } => "lookup",
            Op::Call { .. } => "call",
            Op::Read { .. } => "read",
            Op::Write { .. } => "write",
            Op::Drop { .. } | Op::Env { .. } | Op::Sleep { .. } => return None,
            Op::InitLog {} => "init_log",
            Op::Mapped { .. } => "mapped",
            Op::Global { .. } => "global",
            Op::Discover { .. } => "discovery",
            Op::Inspect { .. } | Op::AlterManifest { .. } => "manifest",
            _ => "files",
        })
    }

    /// The `op` name.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Open { .. } => "open",
            Op::OpenConcurrent { .. } => "open_concurrent",
            Op::OpenEach { .. } => "open_each",
            Op::Lookup { .. } => "lookup",
            Op::Call { .. } => "call",
            Op::Read { .. } => "read",
            Op::Write { .. } => "write",
            Op::Drop { .. } => "drop",
            Op::Copy { .. } => "copy",
            Op::Symlink { .. } => "symlink",
            Op::Hardlink { .. } => "hardlink",
            Op::Delete { .. } => "delete",
            Op::Replace { .. } => "replace",
            Op::WriteText { .. } => "write_text",
            Op::Mkdir { .. } => "mkdir",
            Op::Mkfifo { .. } => "mkfifo",
            Op::Mksocket { .. } => "mksocket",
            Op::Chmod { .. } => "chmod",
            Op::Truncate { .. } => "truncate",
            Op::Patch { .. } => "patch",
            Op::AlterManifest { .. } => "alter_manifest",
            Op::Env { .. } => "env",
            Op::Mapped { .. } => "mapped",
            Op::Global { .. } => "global",
            Op::InitLog {} => "init_log",
            Op::Sleep { .. } => "sleep",
            Op::Discover { .. } => "discover",
            Op::Inspect { .. } => "inspect",
        }
    }

    /// Operations that call the loader under test.
    pub fn is_loader_op(&self) -> bool {
        matches!(
            self,
            Op::Open { .. } | Op::OpenConcurrent { .. } | Op::OpenEach { .. } | Op::Discover { .. }
        )
    }

    /// Operations whose failure is the subject of a case (the others are setup and must work).
    pub fn may_fail(&self) -> bool {
        matches!(
            self,
            Op::Open { .. }
                | Op::OpenConcurrent { .. }
                | Op::OpenEach { .. }
                | Op::Lookup { .. }
                | Op::Discover { .. }
                | Op::Inspect { .. }
        )
    }

    /// Every string field that may hold a path or `$…` reference, mutably.
    fn strings_mut(&mut self) -> Vec<&mut String> {
        let mut out: Vec<&mut String> = Vec::new();
        match self {
            Op::Open { path, .. } | Op::OpenConcurrent { path, .. } => out.extend(path.as_mut()),
            Op::OpenEach { paths } => out.extend(paths.iter_mut()),
            Op::Copy { from, to } | Op::Hardlink { from, to } => {
                out.push(from);
                out.push(to)
            }
            Op::Symlink { target, link } => {
                out.push(target);
                out.push(link)
            }
            Op::Replace { path, with } => {
                out.push(path);
                out.push(with)
            }
            Op::Delete { path }
            | Op::WriteText { path, .. }
            | Op::Mkdir { path }
            | Op::Mkfifo { path }
            | Op::Mksocket { path }
            | Op::Chmod { path, .. }
            | Op::Truncate { path, .. }
            | Op::Patch { path, .. }
            | Op::AlterManifest { path, .. }
            | Op::Mapped { path }
            | Op::Inspect { path } => out.push(path),
            Op::Env { value, .. } => out.push(value),
            Op::Discover { dir, .. } => out.push(dir),
            _ => {}
        }
        out
    }

    /// The op as the child receives it: `fixture` turned into `path`, `$CASE_DIR` and
    /// `$FIXTURE(x)` substituted.
    pub fn resolved(&self, case_dir: &Path, fixture_path: &dyn Fn(&str) -> PathBuf) -> Op {
        let mut op = self.clone();
        if let Op::Open { path, fixture, .. } | Op::OpenConcurrent { path, fixture, .. } = &mut op
            && let Some(name) = fixture.take()
        {
            *path = Some(fixture_path(&name).display().to_string());
        }
        for s in op.strings_mut() {
            *s = substitute(s, case_dir, fixture_path);
        }
        op
    }
}

/// `$CASE_DIR`: see [`SUBSTITUTIONS`].
const CASE_DIR: &str = "$CASE_DIR";
/// `$DLL`: see [`SUBSTITUTIONS`].
const DLL: &str = "$DLL";
/// `$FIXTURE(`: see [`SUBSTITUTIONS`].
const FIXTURE: &str = "$FIXTURE(";

/// What [`substitute`] replaces in a step's strings, and with what.
pub const SUBSTITUTIONS: [(&str, &str); 3] = [
    (
        CASE_DIR,
        "the case's scratch directory (absolute; relative paths are relative to it anyway)",
    ),
    (
        DLL,
        "this platform's library extension without the dot: `so`, `dylib` (or `dll`)",
    ),
    (
        "$FIXTURE(name)",
        "the path of the case's own copy of the built fixture `name` (an error if no fixture has that name)",
    ),
];

/// Replaces `$DLL` in `s` with this platform's library extension (`so`, `dylib`): all that an
/// expectation's file names may use ([`SUBSTITUTIONS`]).
pub fn with_library_extension(s: &str) -> String {
    s.replace(DLL, std::env::consts::DLL_EXTENSION)
}

/// Replaces `$CASE_DIR`, `$DLL` (this platform's library extension, `so` or `dylib`) and
/// `$FIXTURE(name)` in `s` ([`SUBSTITUTIONS`]).
pub fn substitute(s: &str, case_dir: &Path, fixture_path: &dyn Fn(&str) -> PathBuf) -> String {
    let mut out = with_library_extension(&s.replace(CASE_DIR, &case_dir.display().to_string()));
    while let Some(start) = out.find(FIXTURE) {
        let Some(len) = out[start..].find(')') else {
            break;
        };
        let name = out[start + FIXTURE.len()..start + len].to_string();
        out.replace_range(
            start..start + len + 1,
            &fixture_path(&name).display().to_string(),
        );
    }
    out
}

/// The names in every `$FIXTURE(name)` of `s`.
fn fixture_refs(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find(FIXTURE) {
        let after = &rest[start + FIXTURE.len()..];
        match after.find(')') {
            Some(end) => {
                out.push(after[..end].to_string());
                rest = &after[end..];
            }
            None => {
                out.push(after.to_string());
                break;
            }
        }
    }
    out
}

/// One name or several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Names {
    /// One name.
    One(String),
    /// Several names.
    Many(Vec<String>),
}

impl Names {
    /// The names as a list.
    pub fn list(&self) -> Vec<String> {
        match self {
            Names::One(n) => vec![n.clone()],
            Names::Many(v) => v.clone(),
        }
    }
}

/// A file discovery is expected to skip, and the error kind why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SkippedFile {
    /// The file name.
    pub file: String,
    /// The error kind.
    pub error: String,
}

/// What the parent expects of a step. Every field is optional; a loader step with no
/// `error` must succeed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The step fails with this error kind (`plugspec::ErrorKind::as_str`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The error is (or is not) a cached failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_failure: Option<bool>,
    /// The message starts with this (only for the normative shapes: ERR-2, ERR-3, PLAT-2);
    /// `$PATH` is the path as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_starts_with: Option<String>,
    /// The message ends with this (only for the normative shape of CACHE-3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_ends_with: Option<String>,
    /// The opened plugin is `==` to each of these handles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same_as: Option<Names>,
    /// The opened plugin is `!=` to each of these handles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub differs_from: Option<Names>,
    /// The opened plugin's identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// The value a call returned or a read gave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<i32>,
    /// The value is at least this (the transcript then shows the bound, not the value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<i32>,
    /// version_mismatch: exactly these differing items, in order (`toolchain`, `target`,
    /// `target features`, `panic strategy`, `package <name>`, `api version`, `build id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub differences: Option<Vec<String>>,
    /// The kind of the looked-up symbol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    /// The written type of the looked-up symbol.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub rust_type: Option<String>,
    /// The looked-up symbol's size in bytes, as the loader reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<usize>,
    /// The looked-up symbol's alignment in bytes, as the loader reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub align: Option<usize>,
    /// The lookup allocated this many times (needs capability `alloc_count`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocations: Option<u64>,
    /// The symbol has the same address as this earlier bound symbol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same_address_as: Option<String>,
    /// open_concurrent: every thread succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_ok: Option<bool>,
    /// open_concurrent: every thread got the same plugin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_identical: Option<bool>,
    /// open_concurrent: every thread read this value right after its open returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub each_read: Option<i32>,
    /// mapped: whether the library is mapped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapped: Option<bool>,
    /// global: whether the name resolves in the global namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found: Option<bool>,
    /// init_log: exactly these lines, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<String>>,
    /// discover: exactly these files loaded (file names, in order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loaded: Option<Vec<String>>,
    /// discover: exactly these files skipped, in order, with the error kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<Vec<SkippedFile>>,
    /// The step returned within this many milliseconds, whatever its outcome (ERR-4: a bad
    /// input never hangs; the transcript leaves durations out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ms: Option<u64>,
}

impl Expect {
    /// The names of the fields that are set.
    fn set_fields(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        let mut f = |set: bool, name| {
            if set {
                v.push(name)
            }
        };
        f(self.error.is_some(), "error");
        f(self.previous_failure.is_some(), "previous_failure");
        f(self.message_starts_with.is_some(), "message_starts_with");
        f(self.message_ends_with.is_some(), "message_ends_with");
        f(self.same_as.is_some(), "same_as");
        f(self.differs_from.is_some(), "differs_from");
        f(self.identity.is_some(), "identity");
        f(self.value.is_some(), "value");
        f(self.at_least.is_some(), "at_least");
        f(self.differences.is_some(), "differences");
        f(self.kind.is_some(), "kind");
        f(self.rust_type.is_some(), "type");
        f(self.size.is_some(), "size");
        f(self.align.is_some(), "align");
        f(self.allocations.is_some(), "allocations");
        f(self.same_address_as.is_some(), "same_address_as");
        f(self.all_ok.is_some(), "all_ok");
        f(self.all_identical.is_some(), "all_identical");
        f(self.each_read.is_some(), "each_read");
        f(self.mapped.is_some(), "mapped");
        f(self.found.is_some(), "found");
        f(self.lines.is_some(), "lines");
        f(self.loaded.is_some(), "loaded");
        f(self.skipped.is_some(), "skipped");
        f(self.max_ms.is_some(), "max_ms");
        v
    }
}

/// The expectation fields that apply to an op.
fn applicable(op: &Op) -> &'static [&'static str] {
    applicable_to(op.name())
}

/// The expectation fields that apply to the op named `op` (its `op` value; none for an unknown
/// name).
pub fn applicable_to(op: &str) -> &'static [&'static str] {
    const ERR: [&str; 5] = [
        "error",
        "previous_failure",
        "message_starts_with",
        "message_ends_with",
        "differences",
    ];
    match op {
        "open" => &[
            "error",
            "differences",
            "previous_failure",
            "message_starts_with",
            "message_ends_with",
            "same_as",
            "differs_from",
            "identity",
            "max_ms",
        ],
        "open_concurrent" => &[
            "error",
            "differences",
            "previous_failure",
            "message_starts_with",
            "message_ends_with",
            "same_as",
            "differs_from",
            "identity",
            "all_ok",
            "all_identical",
            "each_read",
            "max_ms",
        ],
        "open_each" => &["error", "all_ok", "max_ms"],
        "lookup" => &[
            "error",
            "previous_failure",
            "message_starts_with",
            "message_ends_with",
            "kind",
            "type",
            "size",
            "align",
            "allocations",
            "same_address_as",
        ],
        "call" | "read" => &["value", "at_least"],
        "mapped" => &["mapped"],
        "global" => &["found"],
        "init_log" => &["lines"],
        "discover" => &["error", "loaded", "skipped", "max_ms"],
        "inspect" => &[ERR[0], ERR[1], ERR[2], ERR[3], ERR[4], "identity", "max_ms"],
        _ => &[],
    }
}

/// The raw file, before validation. Its field docs are the case format's top-level keys in
/// `conformance/README.md` and `conformance/case.schema.json` ([`crate::authoring`]).
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCase {
    /// The case's ID: the area's prefix, `-` and four digits (`OPN-0003`); opaque, permanent,
    /// never reused, and the start of the file name (`OPN-0003-<slug>.toml`).
    id: String,
    /// One line saying what the case checks.
    title: String,
    /// The rules the case checks: IDs from `spec/SPEC.md` (`OPEN-3`).
    rules: Vec<String>,
    /// The clauses of those rules the case checks (`VER-4.b`); each belongs to one of `rules`.
    #[serde(default)]
    clauses: Vec<String>,
    /// Where the case applies: `loading` (the default: where plugins load), `refusing`, `any`,
    /// an OS family (`linux`, `macos`, `freebsd`, `windows`) or a target triple.
    #[serde(default)]
    platforms: Vec<String>,
    /// Capabilities the test binary or driver must have (`alloc_count`, `unprivileged`).
    #[serde(default)]
    requires: Vec<String>,
    /// Run the case this many times, each in a fresh child; every run must pass (default 1).
    #[serde(default)]
    repeat: Option<u32>,
    /// What the host requires of plugins.
    #[serde(default)]
    host: HostSpec,
    /// The steps, in order: each an operation (`op`) with its keys and an optional `expect`
    /// table.
    #[serde(default, rename = "step")]
    #[schemars(with = "Vec<serde_json::Value>")]
    steps: Vec<toml::Table>,
}

/// A problem with a case file: the file and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseError {
    /// The file.
    pub file: PathBuf,
    /// What is wrong.
    pub problem: String,
}

impl fmt::Display for CaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file.display(), self.problem)
    }
}

impl std::error::Error for CaseError {}

/// The set of rule IDs a case may name.
pub fn known_rules() -> HashSet<&'static str> {
    plugspec::rules::all().iter().map(|r| r.id).collect()
}

/// Parses and validates one case file. `area` is the directory it sits in.
pub fn parse_case(
    file: &Path,
    area: &str,
    text: &str,
    catalog: &Catalog,
) -> Result<Case, CaseError> {
    let err = |problem: String| CaseError {
        file: file.to_path_buf(),
        problem,
    };
    let raw: RawCase = toml::from_str(text).map_err(|e| err(one_line(&e.to_string())))?;
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or_else(|| err("the file name is not UTF-8".into()))?;
    let slug = match stem.strip_prefix(&raw.id).and_then(|s| s.strip_prefix('-')) {
        Some(slug) if !slug.is_empty() => slug.to_string(),
        _ => {
            return Err(err(format!(
                "the ID {:?} does not match the file name {stem:?} (expected {}-<slug>.toml)",
                raw.id, raw.id
            )));
        }
    };
    if !valid_id(&raw.id) {
        return Err(err(format!(
            "the ID {:?} is not of the form ABC-0001 (three capital letters, a dash, four digits)",
            raw.id
        )));
    }
    let Some(prefix) = prefix_of(area) else {
        return Err(err(format!(
            "the directory {area:?} is not an area (one of {})",
            AREAS.join(", ")
        )));
    };
    if !raw.id.starts_with(prefix) {
        return Err(err(format!(
            "the ID {:?} is filed under {area}/, whose cases are {prefix}-NNNN",
            raw.id
        )));
    }
    if raw.rules.is_empty() {
        return Err(err(
            "`rules` is empty: every case checks at least one rule".into()
        ));
    }
    let rules = known_rules();
    for rule in &raw.rules {
        if !rules.contains(rule.as_str()) {
            return Err(err(format!(
                "unknown rule ID {rule:?} (not in spec/SPEC.md)"
            )));
        }
    }
    for id in &raw.clauses {
        let Some(clause) = plugspec::rules::clause(id) else {
            return Err(err(format!(
                "unknown clause ID {id:?} (not in spec/SPEC.md)"
            )));
        };
        if !raw.rules.iter().any(|r| r == clause.rule) {
            return Err(err(format!(
                "clause {id} belongs to rule {}, which `rules` does not name",
                clause.rule
            )));
        }
    }
    for p in &raw.platforms {
        if !crate::platforms::is_known(p) {
            return Err(err(format!(
                "unknown platform {p:?} (loading, refusing, any, an OS family such as linux, or a target triple)"
            )));
        }
    }
    for c in &raw.requires {
        if !CAPABILITIES.contains(&c.as_str()) {
            return Err(err(format!(
                "unknown capability {c:?} (known: {})",
                CAPABILITIES.join(", ")
            )));
        }
    }
    let repeat = raw.repeat.unwrap_or(1);
    if repeat == 0 {
        return Err(err("`repeat` must be at least 1".into()));
    }
    if raw.steps.is_empty() {
        return Err(err("the case has no [[step]]".into()));
    }
    let mut steps = Vec::new();
    for (i, mut table) in raw.steps.into_iter().enumerate() {
        let at = |problem: String| err(format!("step {}: {problem}", i + 1));
        let expect = match table.remove("expect") {
            None => Expect::default(),
            Some(v) => Expect::deserialize(v)
                .map_err(|e| at(format!("expect: {}", one_line(&e.to_string()))))?,
        };
        let op =
            Op::deserialize(toml::Value::Table(table)).map_err(|e| at(one_line(&e.to_string())))?;
        steps.push(Step { op, expect });
    }
    let fixtures = check_steps(&steps, catalog).map_err(err)?;
    Ok(Case {
        id: raw.id,
        slug,
        area: area.to_string(),
        title: raw.title,
        rules: raw.rules,
        clauses: raw.clauses,
        platforms: raw.platforms,
        requires: raw.requires,
        repeat,
        host: raw.host,
        steps,
        fixtures,
        file: file.to_path_buf(),
    })
}

fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn valid_id(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 8
        && b[..3].iter().all(u8::is_ascii_uppercase)
        && b[3] == b'-'
        && b[4..].iter().all(u8::is_ascii_digit)
}

/// Checks names, fixtures, kinds and expectations across the steps; returns the fixtures used.
fn check_steps(steps: &[Step], catalog: &Catalog) -> Result<BTreeSet<String>, String> {
    let mut fixtures = BTreeSet::new();
    let mut plugins: HashSet<String> = HashSet::new();
    let mut symbols: HashSet<String> = HashSet::new();
    let mut loaded_yet = false;
    for (i, step) in steps.iter().enumerate() {
        let at = |p: String| format!("step {} ({}): {p}", i + 1, step.op.name());
        let mut use_fixture = |name: &str| -> Result<(), String> {
            if !catalog.contains(name) {
                return Err(at(format!(
                    "unknown fixture {name:?} (known: {})",
                    catalog.names().join(", ")
                )));
            }
            fixtures.insert(name.to_string());
            Ok(())
        };
        let mut op = step.op.clone();
        for s in op.strings_mut() {
            for name in fixture_refs(s) {
                use_fixture(&name)?;
            }
        }
        let plugin_ref = |plugins: &HashSet<String>, name: &str| -> Result<(), String> {
            if plugins.contains(name) {
                Ok(())
            } else {
                Err(at(format!(
                    "undefined handle {name:?} (bind it with `as` on an earlier open; dropped handles are gone)"
                )))
            }
        };
        let symbol_ref = |symbols: &HashSet<String>, name: &str| -> Result<(), String> {
            if symbols.contains(name) {
                Ok(())
            } else {
                Err(at(format!(
                    "undefined symbol {name:?} (bind it with an earlier lookup)"
                )))
            }
        };
        // Expectations first: they refer to names bound before this step.
        for field in step.expect.set_fields() {
            if !applicable(&step.op).contains(&field) {
                return Err(at(format!(
                    "expectation `{field}` does not apply to `{}`",
                    step.op.name()
                )));
            }
        }
        if let Some(kind) = &step.expect.error {
            if plugspec::ErrorKind::from_name(kind).is_none() {
                return Err(at(format!(
                    "unknown error kind {kind:?} (known: {})",
                    plugspec::ErrorKind::ALL.map(|k| k.as_str()).join(", ")
                )));
            }
            for field in [
                "same_as",
                "differs_from",
                "identity",
                "kind",
                "type",
                "all_ok",
                "all_identical",
                "each_read",
                "allocations",
                "same_address_as",
                "loaded",
                "skipped",
            ] {
                if step.expect.set_fields().contains(&field) {
                    return Err(at(format!(
                        "expectation `{field}` describes a success, but the step expects error {kind}"
                    )));
                }
            }
        }
        for n in step
            .expect
            .same_as
            .iter()
            .chain(&step.expect.differs_from)
            .flat_map(Names::list)
        {
            plugin_ref(&plugins, &n)?;
        }
        if let Some(s) = &step.expect.same_address_as {
            symbol_ref(&symbols, s)?;
        }
        if let Some(skipped) = &step.expect.skipped {
            for s in skipped {
                if plugspec::ErrorKind::from_name(&s.error).is_none() {
                    return Err(at(format!("unknown error kind {:?}", s.error)));
                }
            }
        }
        match &step.op {
            Op::Open {
                path,
                fixture,
                bind,
            }
            | Op::OpenConcurrent {
                path,
                fixture,
                bind,
                ..
            } => {
                match (path, fixture) {
                    (Some(_), None) => {}
                    (None, Some(f)) => use_fixture(f)?,
                    _ => return Err(at("give exactly one of `path` and `fixture`".into())),
                }
                if let Op::OpenConcurrent { threads, .. } = &step.op
                    && *threads == 0
                {
                    return Err(at("`threads` must be at least 1".into()));
                }
                if let Some(b) = bind {
                    if step.expect.error.is_some() {
                        return Err(at(format!(
                            "binds {b:?} but expects an error: nothing would be bound"
                        )));
                    }
                    plugins.insert(b.clone());
                }
            }
            Op::OpenEach { paths } if paths.len() < 2 => {
                return Err(at("`paths` must name at least two paths".into()));
            }
            Op::Lookup {
                plugin,
                name,
                bind,
                kind,
                rust_type,
            } => {
                plugin_ref(&plugins, plugin)?;
                if kind.is_some() && rust_type.is_none() {
                    return Err(at("`kind` needs `type` (a typed lookup)".into()));
                }
                if step.expect.error.is_none() {
                    symbols.insert(bind.clone().unwrap_or_else(|| name.clone()));
                }
            }
            Op::Call { symbol, args } => {
                symbol_ref(&symbols, symbol)?;
                if args.len() > 2 {
                    return Err(at("at most two arguments are supported".into()));
                }
            }
            Op::Read { symbol } => symbol_ref(&symbols, symbol)?,
            Op::Write {
                symbol,
                value,
                host_fn,
            } => {
                symbol_ref(&symbols, symbol)?;
                if value.is_some() == host_fn.is_some() {
                    return Err(at("give exactly one of `value` and `host_fn`".into()));
                }
            }
            Op::Drop { handles } => {
                for h in handles {
                    plugin_ref(&plugins, h)?;
                    plugins.remove(h);
                }
            }
            Op::Env { .. } if loaded_yet => {
                return Err(at(
                    "`env` must come before the first open or discover (plugin threads may read the environment)"
                        .into(),
                ));
            }
            Op::Patch { hex, .. }
                if hex.len() % 2 != 0 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                return Err(at(format!(
                    "hex {hex:?} is not an even number of hex digits"
                )));
            }
            Op::AlterManifest { item, .. } if !crate::fileops::is_manifest_item(item) => {
                return Err(at(format!(
                    "{item:?} is not a manifest item (one of {}, or `package <name> name|version|hash`)",
                    crate::fileops::MANIFEST_ITEMS.join(", ")
                )));
            }
            Op::Chmod { mode, .. } if u32::from_str_radix(mode, 8).is_err() => {
                return Err(at(format!("mode {mode:?} is not octal")));
            }
            Op::Truncate {
                section: Some(_),
                section_header: Some(_),
                ..
            }
            | Op::Patch {
                section: Some(_),
                section_header: Some(_),
                ..
            } => {
                return Err(at(
                    "give at most one of `section` and `section_header`".into()
                ));
            }
            Op::WriteText {
                repeat: Some(0), ..
            } => return Err(at("`repeat` must be at least 1".into())),
            _ => {}
        }
        if step.op.is_loader_op() {
            loaded_yet = true;
        }
    }
    Ok(fixtures)
}

/// A loaded suite: every case, in trial-name order.
#[derive(Debug, Clone, Default)]
pub struct Suite {
    /// The cases.
    pub cases: Vec<Case>,
}

/// Loads and validates every `conformance/<area>/*.toml`. Returns every problem found, each
/// naming its file.
pub fn load_suite(dir: &Path, catalog: &Catalog) -> Result<Suite, Vec<CaseError>> {
    let mut errors = Vec::new();
    let mut cases = Vec::new();
    let read_dir = |d: &Path| -> Result<Vec<PathBuf>, CaseError> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(d)
            .map_err(|e| CaseError {
                file: d.to_path_buf(),
                problem: format!("cannot read the directory: {e}"),
            })?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        v.sort();
        Ok(v)
    };
    let entries = match read_dir(dir) {
        Ok(v) => v,
        Err(e) => return Err(vec![e]),
    };
    for area_dir in entries.into_iter().filter(|p| p.is_dir()) {
        let area = area_dir
            .file_name()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let files = match read_dir(&area_dir) {
            Ok(v) => v,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        for file in files
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        {
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) => {
                    errors.push(CaseError {
                        file,
                        problem: format!("cannot read: {e}"),
                    });
                    continue;
                }
            };
            match parse_case(&file, &area, &text, catalog) {
                Ok(c) => cases.push(c),
                Err(e) => errors.push(e),
            }
        }
    }
    let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
    for c in &cases {
        if let Some(first) = seen.insert(c.id.clone(), c.file.clone()) {
            errors.push(CaseError {
                file: c.file.clone(),
                problem: format!("duplicate case ID {} (also in {})", c.id, first.display()),
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    cases.sort_by_key(Case::trial_name);
    Ok(Suite { cases })
}

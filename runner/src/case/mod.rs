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
//! Each step is an operation ([`Op`], tagged by `op`) plus an optional `expect` table, read
//! into the operation's own expectation type ([`Expect`]). Loader operations without `expect` must succeed; file operations must succeed
//! and take no `expect`. Strings may use `$CASE_DIR` (the case's scratch directory) and
//! `$FIXTURE(name)` (the path of the case's own copy of a built fixture).
//!
//! Validation ([`load_suite`]) rejects, naming the file and the problem: an unknown field, an
//! unknown rule ID, a duplicate case ID, an ID that does not match the file name, an unknown
//! fixture, a handle or symbol name used before it is bound (or after it was dropped), an
//! expected error kind that does not exist, and an expectation that does not apply to its
//! operation (serde rejects it: each operation's expectation type has only its own keys).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

mod expect;
mod load;
mod op;

pub use expect::{
    DiscoverExpect, Ending, Expect, GlobalExpect, InitLogExpect, InspectExpect, LookupExpect,
    MappedExpect, OpenConcurrentExpect, OpenEachExpect, OpenExpect, ValueExpect,
};
pub(crate) use load::RawCase;
use load::one_line;
pub use load::{CaseError, known_rules, load_suite, parse_case};
use op::fixture_refs;
pub use op::{Op, SUBSTITUTIONS, substitute, with_library_extension};

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
/// is root starts the child as `nobody` for such a case. `root`: the runner and the child run as
/// root (only root may `chown` a file to another user); elsewhere such a case is ignored.
pub const CAPABILITIES: [&str; 3] = ["alloc_count", "unprivileged", "root"];

/// What a driver can do, as its `hello` announces it. A case needs some of them
/// ([`Case::needs`]); a case whose needs the driver lacks is reported as *not
/// applicable* for that driver, never run and never a pass.
pub const DRIVER_CAPABILITIES: [(&str, &str); 16] = [
    ("open", "open and open_concurrent: the loader's open"),
    ("lookup", "lookup by name, untyped"),
    (
        "typed_lookup",
        "lookup with a kind and a written Rust type the loader checks",
    ),
    ("call", "call a looked-up function with i32 arguments"),
    ("read", "read an i32 variable through the looked-up pointer"),
    (
        "write",
        "write an i32 variable, or a host function into a function-typed variable",
    ),
    ("init_log", "read the fixtures' init log"),
    (
        "mapped",
        "whether a library is mapped into the driver's process",
    ),
    (
        "global",
        "whether a name resolves in the process's global symbol namespace",
    ),
    (
        "files",
        "the file operations (copy, symlink, delete, write_text, chmod, …)",
    ),
    (
        "elf_sections",
        "truncate and patch counted from an ELF section",
    ),
    (
        "manifest",
        "the plugspec manifest: inspect a plugin, alter_manifest",
    ),
    (
        "host_context",
        "a host configuration: required API version, pinned build ID, shared packages",
    ),
    (
        "safe_permissions",
        "a host that requires safe permissions of plugin files and their directories (OPEN-11)",
    ),
    ("discovery", "plugspec's discovery of a plugin directory"),
    ("alloc_count", "count the allocations a lookup makes"),
];

/// The fixtures cases may name, as validation needs them: whether one exists, and all of them
/// (for the message when one does not). [`crate::fixtures::Catalog`] is the runner's.
pub trait KnownFixtures {
    /// Whether a fixture of this name exists.
    fn contains(&self, name: &str) -> bool;
    /// Every fixture's name, sorted.
    fn names(&self) -> Vec<&str>;
}

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
    /// The request of no steps that asks a driver for its `hello` ([`crate::parent::run::probe`]).
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

    /// The driver capabilities ([`DRIVER_CAPABILITIES`]) this case needs:
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
        if self.host.safe_permissions {
            needs.insert("safe_permissions");
        }
        for r in &self.requires {
            if let Some((c, _)) = DRIVER_CAPABILITIES.iter().find(|(c, _)| c == r) {
                needs.insert(c);
            }
        }
        needs
    }
}

/// What the host requires of plugins in this case (rules VER-9, VER-10, OPEN-11).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HostSpec {
    /// Every plugin must declare this API version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<u32>,
    /// Every plugin must declare this build ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_id: Option<String>,
    /// Further shared packages the host declares (besides `plugspec`, `fixture-common` and
    /// `fixture-extra`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared: Vec<PackageSpec>,
    /// The host requires safe permissions of every plugin file and of every directory on its
    /// resolved path (`HostConfig::require_safe_permissions`, OPEN-11).
    #[serde(default, skip_serializing_if = "is_false")]
    pub safe_permissions: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
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

/// A loaded suite: every case, in trial-name order.
#[derive(Debug, Clone, Default)]
pub struct Suite {
    /// The cases.
    pub cases: Vec<Case>,
}

//! The operations of a step ([`Op`]), their substitutions and their one-line description.

use super::*;

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
    /// Gives a file to another user, by name (such as `nobody`): that user's uid and primary
    /// group, without following a symlink. Only root may: a case using it requires `root`.
    Chown {
        /// The path.
        path: String,
        /// The user's name.
        user: String,
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
            Op::Chown { .. } => "chown",
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

    /// Operations whose failure is the subject of a case (the others are setup and must work):
    /// those whose expectation type says how the step ends ([`Expect::ending`]).
    pub fn may_fail(&self) -> bool {
        Expect::empty_for(self).ending().is_some()
    }

    /// Every string field that may hold a path or `$…` reference, mutably.
    pub(super) fn strings_mut(&mut self) -> Vec<&mut String> {
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
            | Op::Chown { path, .. }
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
pub(super) fn fixture_refs(s: &str) -> Vec<String> {
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

/// A compact description, as transcripts and failure messages show a step:
/// `open fixture=basic as=p1` (the `op` name, then each key as serialised, control characters
/// escaped).
impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())?;
        if let Ok(serde_json::Value::Object(map)) = serde_json::to_value(self) {
            for (k, v) in map {
                if k == "op" {
                    continue;
                }
                let v = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                write!(f, " {k}={}", crate::parent::normalize::escape_controls(&v))?;
            }
        }
        Ok(())
    }
}

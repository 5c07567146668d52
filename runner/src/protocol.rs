//! The parent↔child protocol: JSON lines, versioned ([`PROTOCOL_VERSION`]).
//!
//! The parent starts the driver (for Rust loaders: the test binary itself, re-executed with
//! [`CHILD_ENV`] set to the protocol version) with the case's scratch directory as its working
//! directory and `PLUGSPEC_INIT_LOG` naming the case's init log, writes **one** line to its
//! standard input and closes it:
//!
//! ```json
//! {"type":"run","protocol":2,"case":"OPN-0003","case_dir":"/…/OPN-0003-1","host":{"api_version":2},
//!  "steps":[{"op":"open","path":"/…/libfx_basic.so","as":"p1"},{"op":"open","path":"copy.so"}]}
//! ```
//!
//! The steps are the case's operations with every fixture reference replaced by the path of the
//! case's copy, and **without expectations**: the driver is never told what is expected. It
//! answers on standard output, one JSON object per line:
//!
//! 1. `{"type":"hello","protocol":2,"driver":"plugspec-runner 0.1.0","loader":"…",
//!    "capabilities":["open","lookup",…],"kit":"plugspec"}` — what the driver can do
//!    ([`DRIVER_CAPABILITIES`]) and which fixture kit its plugins come from;
//! 2. one `{"type":"observation", …}` per step, in order ([`Observation`]); a driver stops early
//!    only when the loader panicked (it reports that step with `panic`);
//! 3. `{"type":"done"}`, then exit status 0.
//!
//! Anything else is a failure of the case: a missing or malformed line, another protocol
//! version, a missing `done`, a non-zero exit status, a signal, or the parent's time limit.
//! The driver keeps its standard output for the protocol: the Rust driver points file
//! descriptor 1 at standard error before running any step, so a plugin's prints never corrupt
//! it.
//!
//! `runner/PROTOCOL.md` is the public description, with a JSON Schema for every message.

use serde::{Deserialize, Serialize};

use crate::case::{HostSpec, Op};

/// The protocol version this runner speaks.
/// Version 2 added `capabilities` and `kit` to `hello`.
pub const PROTOCOL_VERSION: u32 = 2;

pub use crate::case::DRIVER_CAPABILITIES;

/// The fixture kit of the Rust driver: the cdylib crates of `fixtures/`.
pub const RUST_KIT: &str = "plugspec";

/// The environment variable that makes a harness binary act as the child (its value is the
/// protocol version).
pub const CHILD_ENV: &str = "PLUGSPEC_RUNNER_CHILD";

/// The environment variable naming the fixtures' init log, as `fixture-common` reads it
/// (`fixture_common::INIT_LOG_ENV`; a test checks they agree).
pub const INIT_LOG_ENV: &str = "PLUGSPEC_INIT_LOG";

/// Parent → child.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// Run these steps.
    Run {
        /// [`PROTOCOL_VERSION`].
        protocol: u32,
        /// The case ID (for messages only).
        case: String,
        /// The case's scratch directory (also the child's working directory).
        case_dir: String,
        /// What the host requires of plugins.
        host: HostSpec,
        /// The operations, resolved, without expectations.
        steps: Vec<Op>,
    },
}

/// Child → parent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Message {
    /// First line: who is answering.
    Hello {
        /// [`PROTOCOL_VERSION`].
        protocol: u32,
        /// The driver's name and version.
        driver: String,
        /// The loader under test, with its version where it has one (a Rust type name for
        /// the Rust driver, `Go go1.19.8 plugin (linux/amd64)` for the Go driver).
        loader: String,
        /// What the driver can do ([`DRIVER_CAPABILITIES`]).
        #[serde(default)]
        capabilities: Vec<String>,
        /// The fixture kit the driver's plugins come from ([`RUST_KIT`], `go-plugin`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kit: Option<String>,
    },
    /// The result of one step.
    Observation(Box<Observation>),
    /// Every step was run.
    Done,
}

/// An error as observed: its kind, message, and what the loader says about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedError {
    /// `plugspec::ErrorKind::as_str`.
    pub kind: String,
    /// The error's `Display`.
    pub message: String,
    /// The path the error carries, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Whether the loader marks it a cached failure.
    #[serde(default)]
    pub previous_failure: bool,
    /// For `version_mismatch`: every differing item the error names (`toolchain`, `target`,
    /// `package <name>`, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub differences: Vec<String>,
}

/// One thread of an `open_concurrent`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadObservation {
    /// The error, if the open failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ObservedError>,
    /// The value of `read_after`, read right after the open returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<i32>,
    /// Whether this thread's plugin `==` the first successful thread's.
    #[serde(default)]
    pub same_as_first: bool,
}

/// A looked-up symbol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedSymbol {
    /// `function` or `variable`.
    pub kind: String,
    /// The written Rust type the plugin declared.
    pub rust_type: String,
    /// Earlier bound symbols with the same address.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub same_address_as: Vec<String>,
    /// The size in bytes the loader reports for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<usize>,
    /// The alignment in bytes the loader reports for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub align: Option<usize>,
}

/// A file discovery skipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedSkip {
    /// The file name.
    pub file: String,
    /// Why.
    pub error: ObservedError,
}

/// The result of one step. Fields that do not apply to the step's operation are absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// The step's index (from 0).
    pub step: usize,
    /// The operation failed with this error (for `open_concurrent`: the first thread's error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ObservedError>,
    /// The driver could not carry the step out (a file operation failed, an unsupported type):
    /// a problem of the case or the driver, never a result of the loader.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub harness_error: Option<String>,
    /// The loader panicked; the driver stops after reporting this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub panic: Option<String>,
    /// The identity of the opened plugin (or of an inspected manifest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// Names of the live handles `==` to the opened plugin.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identical_to: Vec<String>,
    /// The value a call returned or a read gave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<i32>,
    /// The looked-up symbol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbol: Option<ObservedSymbol>,
    /// Allocations made by the lookup on the calling thread, when the driver counts them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocations: Option<u64>,
    /// open_concurrent: one entry per thread, in thread order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<Vec<ThreadObservation>>,
    /// mapped: whether the library is mapped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapped: Option<bool>,
    /// global: whether the name resolves in the global namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found: Option<bool>,
    /// init_log: the log's lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<String>>,
    /// discover: loaded file names, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loaded: Option<Vec<String>>,
    /// discover: skipped files, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<Vec<ObservedSkip>>,
    /// inspect: the fingerprint's items as `name = value` lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<Vec<String>>,
    /// How long the step took, in microseconds (never part of a snapshot).
    #[serde(default)]
    pub duration_us: u64,
}

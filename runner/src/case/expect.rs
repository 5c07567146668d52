//! What the parent expects of a step: one type per kind of operation ([`Expect`]). Each type
//! denies unknown fields, so serde itself rejects a key that does not apply to its operation;
//! [`Expect::empty_for`] is the one place that pairs an operation with its expectation type.

use serde::de::DeserializeOwned;

use super::*;

/// What the parent expects of a step, typed by the step's operation. A fallible step (see
/// [`Op::may_fail`]) with no `error` must succeed; an operation that takes no `expect`
/// ([`Expect::Nothing`]) must succeed too.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Expect {
    /// `open`.
    Open(OpenExpect),
    /// `open_concurrent`.
    OpenConcurrent(OpenConcurrentExpect),
    /// `open_each`.
    OpenEach(OpenEachExpect),
    /// `lookup`.
    Lookup(LookupExpect),
    /// `call` and `read`.
    Value(ValueExpect),
    /// `mapped`.
    Mapped(MappedExpect),
    /// `global`.
    Global(GlobalExpect),
    /// `init_log`.
    InitLog(InitLogExpect),
    /// `discover`.
    Discover(DiscoverExpect),
    /// `inspect`.
    Inspect(InspectExpect),
    /// An operation that takes no `expect` (file operations, `write`, `drop`, `env`, `sleep`).
    Nothing,
}

/// `expect` of `open`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenExpect {
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
    /// The message ends with this (only for the normative shape of CACHE-3); `$PATH` is the
    /// path as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_ends_with: Option<String>,
    /// The message contains this (only where SPEC.md says what a message names: OPEN-10.c, the
    /// operating system loader's own reason); `$PATH` is the path as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_contains: Option<String>,
    /// version_mismatch: exactly these differing items, in order (`toolchain`, `target`,
    /// `target features`, `panic strategy`, `package <name>`, `api version`, `build id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub differences: Option<Vec<String>>,
    /// The opened plugin is `==` to each of these handles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same_as: Option<Names>,
    /// The opened plugin is `!=` to each of these handles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub differs_from: Option<Names>,
    /// The opened plugin's identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// The step returned within this many milliseconds, whatever its outcome (ERR-4: a bad
    /// input never hangs; the transcript leaves durations out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ms: Option<u64>,
}

/// `expect` of `open_concurrent`: that of `open` (judged on the first thread's plugin), and
/// what every thread saw. Without `error`, every thread must succeed; with it, every thread
/// must fail with that kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenConcurrentExpect {
    /// Every thread fails with this error kind (`plugspec::ErrorKind::as_str`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The first thread's error is (or is not) a cached failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_failure: Option<bool>,
    /// The first thread's message starts with this; `$PATH` is the path as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_starts_with: Option<String>,
    /// The first thread's message ends with this; `$PATH` is the path as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_ends_with: Option<String>,
    /// The message contains this (only where SPEC.md says what a message names: OPEN-10.c, the
    /// operating system loader's own reason); `$PATH` is the path as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_contains: Option<String>,
    /// version_mismatch: the first thread's error names exactly these differing items, in
    /// order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub differences: Option<Vec<String>>,
    /// The first thread's plugin is `==` to each of these handles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same_as: Option<Names>,
    /// The first thread's plugin is `!=` to each of these handles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub differs_from: Option<Names>,
    /// The first thread's plugin's identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// Every thread got the same plugin (`==` the first thread's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_identical: Option<bool>,
    /// Every thread read this value (`read_after`) right after its open returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub each_read: Option<i32>,
    /// The step returned within this many milliseconds, whatever its outcome (ERR-4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ms: Option<u64>,
}

/// `expect` of `open_each`. Without `error`, every thread must succeed; with it, every thread
/// must fail with that kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenEachExpect {
    /// Every thread fails with this error kind (`plugspec::ErrorKind::as_str`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The step returned within this many milliseconds, whatever its outcome (ERR-4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ms: Option<u64>,
}

/// `expect` of `lookup`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupExpect {
    /// The lookup fails with this error kind (`plugspec::ErrorKind::as_str`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The error is (or is not) a cached failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_failure: Option<bool>,
    /// The message starts with this (only for the normative shapes: ERR-2, ERR-3, PLAT-2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_starts_with: Option<String>,
    /// The message ends with this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_ends_with: Option<String>,
    /// The message contains this (only where SPEC.md says what a message names: OPEN-10.c, the
    /// operating system loader's own reason); `$PATH` is the path as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_contains: Option<String>,
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
}

/// `expect` of `call` and `read`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ValueExpect {
    /// The value the call returned or the read gave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<i32>,
    /// The value is at least this (the transcript then shows the bound, not the value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<i32>,
}

/// `expect` of `mapped`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MappedExpect {
    /// Whether the library is mapped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapped: Option<bool>,
}

/// `expect` of `global`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GlobalExpect {
    /// Whether the name resolves in the global namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found: Option<bool>,
}

/// `expect` of `init_log`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InitLogExpect {
    /// Exactly these lines, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<String>>,
}

/// `expect` of `discover`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscoverExpect {
    /// Discovery fails with this error kind (`plugspec::ErrorKind::as_str`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Exactly these files loaded (file names, in order; `$DLL` is the library extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loaded: Option<Vec<String>>,
    /// Exactly these files skipped, in order, with the error kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<Vec<SkippedFile>>,
    /// The step returned within this many milliseconds, whatever its outcome (ERR-4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ms: Option<u64>,
}

/// `expect` of `inspect`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectExpect {
    /// Reading the manifest fails with this error kind (`plugspec::ErrorKind::as_str`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The error is (or is not) a cached failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_failure: Option<bool>,
    /// The message starts with this; `$PATH` is the path as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_starts_with: Option<String>,
    /// The message ends with this; `$PATH` is the path as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_ends_with: Option<String>,
    /// The message contains this (only where SPEC.md says what a message names: OPEN-10.c, the
    /// operating system loader's own reason); `$PATH` is the path as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_contains: Option<String>,
    /// version_mismatch: exactly these differing items, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub differences: Option<Vec<String>>,
    /// The manifest's identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// The step returned within this many milliseconds, whatever its outcome (ERR-4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ms: Option<u64>,
}

/// How a fallible step ends, as its expectation says: the keys every fallible expectation
/// type shares (absent ones are `None`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Ending<'a> {
    /// The step fails with this error kind; `None`: it succeeds.
    pub error: Option<&'a str>,
    /// The error is (or is not) a cached failure.
    pub previous_failure: Option<bool>,
    /// The message starts with this (`$PATH`: the path as given).
    pub message_starts_with: Option<&'a str>,
    /// The message ends with this (`$PATH`: the path as given).
    pub message_ends_with: Option<&'a str>,
    /// The message contains this (`$PATH`: the path as given).
    pub message_contains: Option<&'a str>,
    /// version_mismatch: exactly these differing items, in order.
    pub differences: Option<&'a [String]>,
    /// The step returns within this many milliseconds, whatever its outcome.
    pub max_ms: Option<u64>,
}

impl Ending<'_> {
    /// The keys of [`Ending`] as cases write them: every other key of a fallible
    /// expectation describes a success, and cannot go with `error`.
    pub const KEYS: [&'static str; 7] = [
        "error",
        "previous_failure",
        "message_starts_with",
        "message_ends_with",
        "message_contains",
        "differences",
        "max_ms",
    ];
}

impl Expect {
    /// The empty expectation of `op`'s kind: the expectation of a step without `expect`, and
    /// the one place that pairs each operation with its expectation type.
    pub fn empty_for(op: &Op) -> Expect {
        match op {
            Op::Open { .. } => Expect::Open(OpenExpect::default()),
            Op::OpenConcurrent { .. } => Expect::OpenConcurrent(OpenConcurrentExpect::default()),
            Op::OpenEach { .. } => Expect::OpenEach(OpenEachExpect::default()),
            Op::Lookup { .. } => Expect::Lookup(LookupExpect::default()),
            Op::Call { .. } | Op::Read { .. } => Expect::Value(ValueExpect::default()),
            Op::Mapped { .. } => Expect::Mapped(MappedExpect::default()),
            Op::Global { .. } => Expect::Global(GlobalExpect::default()),
            Op::InitLog {} => Expect::InitLog(InitLogExpect::default()),
            Op::Discover { .. } => Expect::Discover(DiscoverExpect::default()),
            Op::Inspect { .. } => Expect::Inspect(InspectExpect::default()),
            Op::Write { .. }
            | Op::Drop { .. }
            | Op::Copy { .. }
            | Op::Symlink { .. }
            | Op::Hardlink { .. }
            | Op::Delete { .. }
            | Op::Replace { .. }
            | Op::WriteText { .. }
            | Op::Mkdir { .. }
            | Op::Mkfifo { .. }
            | Op::Mksocket { .. }
            | Op::Truncate { .. }
            | Op::Patch { .. }
            | Op::AlterManifest { .. }
            | Op::Chmod { .. }
            | Op::Chown { .. }
            | Op::Env { .. }
            | Op::Sleep { .. } => Expect::Nothing,
        }
    }

    /// Reads `op`'s `expect` table into `op`'s expectation type. A key of another type is
    /// rejected, naming the key and the operation.
    pub fn parse(op: &Op, table: toml::Value) -> Result<Expect, String> {
        Ok(match Expect::empty_for(op) {
            Expect::Open(_) => Expect::Open(typed(op, table)?),
            Expect::OpenConcurrent(_) => Expect::OpenConcurrent(typed(op, table)?),
            Expect::OpenEach(_) => Expect::OpenEach(typed(op, table)?),
            Expect::Lookup(_) => Expect::Lookup(typed(op, table)?),
            Expect::Value(_) => Expect::Value(typed(op, table)?),
            Expect::Mapped(_) => Expect::Mapped(typed(op, table)?),
            Expect::Global(_) => Expect::Global(typed(op, table)?),
            Expect::InitLog(_) => Expect::InitLog(typed(op, table)?),
            Expect::Discover(_) => Expect::Discover(typed(op, table)?),
            Expect::Inspect(_) => Expect::Inspect(typed(op, table)?),
            Expect::Nothing => match table.as_table().and_then(|t| t.keys().next()) {
                Some(key) => {
                    return Err(format!(
                        "expectation `{key}` does not apply to `{}` (it takes no `expect`: it must succeed)",
                        op.name()
                    ));
                }
                None => Expect::Nothing,
            },
        })
    }

    /// The JSON Schema of `op`'s expectation type; `None` when it takes no `expect`.
    pub fn schema_for(op: &Op) -> Option<schemars::Schema> {
        Some(match Expect::empty_for(op) {
            Expect::Open(_) => schemars::schema_for!(OpenExpect),
            Expect::OpenConcurrent(_) => schemars::schema_for!(OpenConcurrentExpect),
            Expect::OpenEach(_) => schemars::schema_for!(OpenEachExpect),
            Expect::Lookup(_) => schemars::schema_for!(LookupExpect),
            Expect::Value(_) => schemars::schema_for!(ValueExpect),
            Expect::Mapped(_) => schemars::schema_for!(MappedExpect),
            Expect::Global(_) => schemars::schema_for!(GlobalExpect),
            Expect::InitLog(_) => schemars::schema_for!(InitLogExpect),
            Expect::Discover(_) => schemars::schema_for!(DiscoverExpect),
            Expect::Inspect(_) => schemars::schema_for!(InspectExpect),
            Expect::Nothing => return None,
        })
    }

    /// How the step ends, for a fallible operation's expectation; `None` for the others.
    pub fn ending(&self) -> Option<Ending<'_>> {
        fn s(v: &Option<String>) -> Option<&str> {
            v.as_deref()
        }
        Some(match self {
            Expect::Open(x) => Ending {
                error: s(&x.error),
                previous_failure: x.previous_failure,
                message_starts_with: s(&x.message_starts_with),
                message_ends_with: s(&x.message_ends_with),
                message_contains: s(&x.message_contains),
                differences: x.differences.as_deref(),
                max_ms: x.max_ms,
            },
            Expect::OpenConcurrent(x) => Ending {
                error: s(&x.error),
                previous_failure: x.previous_failure,
                message_starts_with: s(&x.message_starts_with),
                message_ends_with: s(&x.message_ends_with),
                message_contains: s(&x.message_contains),
                differences: x.differences.as_deref(),
                max_ms: x.max_ms,
            },
            Expect::OpenEach(x) => Ending {
                error: s(&x.error),
                max_ms: x.max_ms,
                ..Ending::default()
            },
            Expect::Lookup(x) => Ending {
                error: s(&x.error),
                previous_failure: x.previous_failure,
                message_starts_with: s(&x.message_starts_with),
                message_ends_with: s(&x.message_ends_with),
                message_contains: s(&x.message_contains),
                ..Ending::default()
            },
            Expect::Discover(x) => Ending {
                error: s(&x.error),
                max_ms: x.max_ms,
                ..Ending::default()
            },
            Expect::Inspect(x) => Ending {
                error: s(&x.error),
                previous_failure: x.previous_failure,
                message_starts_with: s(&x.message_starts_with),
                message_ends_with: s(&x.message_ends_with),
                message_contains: s(&x.message_contains),
                differences: x.differences.as_deref(),
                max_ms: x.max_ms,
            },
            Expect::Value(_)
            | Expect::Mapped(_)
            | Expect::Global(_)
            | Expect::InitLog(_)
            | Expect::Nothing => return None,
        })
    }

    /// The error kind the step must fail with, if any.
    pub fn error(&self) -> Option<&str> {
        self.ending().and_then(|e| e.error)
    }

    /// The keys that are set, as the case wrote them.
    pub fn keys(&self) -> Vec<String> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }

    /// The keys that are set and describe a success (every key but those of [`Ending`]).
    pub fn success_keys(&self) -> Vec<String> {
        self.keys()
            .into_iter()
            .filter(|k| !Ending::KEYS.contains(&k.as_str()))
            .collect()
    }
}

/// Reads `table` as `T`, naming a key `T` does not have (and the keys it has) when there is
/// one.
fn typed<T: DeserializeOwned + schemars::JsonSchema>(
    op: &Op,
    table: toml::Value,
) -> Result<T, String> {
    let given: Vec<String> = table
        .as_table()
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default();
    T::deserialize(table).map_err(|e| {
        let schema = schemars::schema_for!(T);
        let known: Vec<&str> = schema
            .get("properties")
            .and_then(serde_json::Value::as_object)
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default();
        match given.iter().find(|k| !known.contains(&k.as_str())) {
            Some(key) => format!(
                "expectation `{key}` does not apply to `{}`: {}",
                op.name(),
                one_line(&e.to_string())
            ),
            None => format!("expect: {}", one_line(&e.to_string())),
        }
    })
}

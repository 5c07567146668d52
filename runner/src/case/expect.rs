//! What the parent expects of a step ([`Expect`]), and which expectations apply to which
//! operation.

use super::*;

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
    pub(super) fn set_fields(&self) -> Vec<&'static str> {
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
pub(super) fn applicable(op: &Op) -> &'static [&'static str] {
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

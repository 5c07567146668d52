//! # plugspec-runner — the conformance suite for runtime plugin loaders
//!
//! The runner checks a [`plugspec::Loader`] against the rules of `spec/SPEC.md`: it builds the
//! fixture plugins, runs every case of `conformance/` in a fresh child process, judges what the
//! child observed against what the case expects, compares the observed transcript with a
//! reviewed snapshot, and reports per case and per rule.
//!
//! ## Checking your loader (about ten lines)
//!
//! ```toml
//! # Cargo.toml of your loader crate
//! [dev-dependencies]
//! plugspec-runner = { git = "…" }   # or a path
//!
//! [[test]]
//! name = "conformance"
//! harness = false
//! ```
//!
//! ```no_run
//! // tests/conformance.rs
//! # mod my_crate { pub type MyLoader = plugspec::ReferenceLoader; }
//! fn main() {
//!     plugspec_runner::Harness::<my_crate::MyLoader>::new()
//!         .known_failures("tests/known-failures.toml") // optional
//!         .run(); // parses libtest args; in child mode runs the child instead; exits
//! }
//! ```
//!
//! Then `cargo test --test conformance` (or `cargo nextest run`) runs one trial per case, named
//! `<area>/<ID>-<slug>` (`open/OPN-0003-byte-copy-already-loaded`), so filters, `--exact`,
//! `--list` and `--ignored` work. Your loader is built with
//! `L::with_host(config)` where `config` declares the fixtures' shared packages
//! (`fixture-common` and `fixture-extra`, their hashes read from the fixture sources the suite builds) plus what a
//! case's `[host]` requires.
//!
//! * **Snapshots**: each case's transcript (steps, outcomes, error kinds, messages, values,
//!   paths normalised) is an insta snapshot in `<your crate>/tests/snapshots/plugspec/` (one set for every OS).
//!   A snapshot never decides conformance: a new or changed one is a separate outcome per case
//!   (`snapshot: new` / `snapshot: changed`) in every report. Without `CI` they are written as
//!   `.snap.new` for `cargo insta review` and the exit status follows the verdicts alone; with
//!   `CI=true` a new or changed snapshot makes the run fail (insta's convention) while the
//!   report keeps every rule's true outcome. `--no-snapshots` (after `--`) or
//!   `PLUGSPEC_NO_SNAPSHOTS=1` turn them off. A message is judged only where SPEC.md fixes
//!   its shape or what it names (`message_starts_with` / `message_ends_with` /
//!   `message_contains`: ERR-2, ERR-3, CACHE-3, PLAT-2, OPEN-10.c); otherwise only the snapshot
//!   records it.
//! * **Known failures** ([`known_failures`]): `[[failure]] id, reason, link?, platform?`. A listed
//!   case that fails shows as ignored with "known failure"; one that passes is an error, and so
//!   is an unknown ID.
//! * **Allocation counting** ([`CountingAllocator`]): install it as the `#[global_allocator]` of
//!   the test binary, or the cases that measure allocations are ignored.
//! * **Time limit**: 30 s per child, `PLUGSPEC_CASE_TIMEOUT=<seconds>` to change it.
//!
//! ## How a case runs
//!
//! | concern | module |
//! |---|---|
//! | the case format and its validation | [`case`] (`conformance/<area>/<ID>-<slug>.toml`) |
//! | which fixtures exist, building them once per process | [`fixtures`], [`cargo`] |
//! | the parent↔child protocol (versioned JSON lines) | [`protocol`] |
//! | the child: steps against `L`, file operations, allocation counting, observations back | [`child`] |
//! | the parent's side of one case: each run in a fresh child, judged ([`parent::run::run_case`]); the child process, time limit | [`parent::run`] |
//! | scratch directories and their permissions | [`parent::scratch`] |
//! | observations vs expectations → verdict | [`parent::judge`] |
//! | transcripts and snapshots | [`parent::snapshot`], [`parent::normalize`] |
//! | known failures | [`known_failures`] |
//! | rule coverage, the per-rule report | [`coverage`], [`report`] |
//! | libtest-mimic trials | [`harness`] |
//! | report files: JSON (documented structure, `runner/report.schema.json`) and Markdown | [`report`] |
//! | reading plugin files without running them (`plugspec inspect`, `plugspec check`) | [`inspect`], [`host`] |
//!
//! 1. **List** (no build, no child): read the fixture sources and the cases, validate them
//!    (unknown fields, rule IDs, fixtures, handle names, error kinds…), make one trial per case;
//!    cases that do not apply here (platform, capability, no C compiler) are ignored with the
//!    reason.
//! 2. **Build** on first use: each fixture workspace once per process, with escargot, into
//!    `<target>/plugspec-fixtures/<workspace>`; compiler diagnostics are shown on failure.
//! 3. **Run** each repetition (`repeat = N`) in a fresh scratch directory holding the case's own
//!    copies of its fixtures, in a fresh child: the test binary re-executed with
//!    `PLUGSPEC_RUNNER_CHILD` set. The child gets the steps — never the expectations — and
//!    answers one observation per step. A crash, abort, timeout, protocol error or non-zero
//!    exit is a failure carrying the child's standard error.
//! 4. **Judge** in the parent: error kinds, handle identity (`==`), values, init log, mapping.
//! 5. Apply known failures; compare the normalised transcript with its **snapshot** (apart from
//!    the verdict); **report** per case and per rule.
//!
//! The binary `plugspec` (`cargo run -p plugspec-runner --release`) runs the suite against the
//! reference loader and prints the per-rule report; `plugspec list` and `plugspec rules` list
//! cases and rules.

pub mod authoring;
pub mod cargo;
pub mod case;
pub mod child;
pub mod compare;
pub mod coverage;
/// The known-failures module under its former name (kept so that existing paths resolve).
pub mod expectations {
    pub use crate::known_failures::*;
}
pub mod fixtures;
pub mod harness;
pub mod host;
pub mod inspect;
pub mod known_failures;
pub mod parent;
pub mod platforms;
pub mod protocol;
pub mod report;
pub mod suite;

// The modules' former paths (kept so that existing paths resolve).
pub use child::{alloc, fileops};
pub use parent::{judge, normalize, run, snapshot};

pub use child::alloc::CountingAllocator;
pub use harness::Harness;
pub use report::Report;

//! The judge: a case's expectations against a child run's observations → a verdict with a
//! precise message. Expectations never leave the parent.
//!
//! Rules of judgement:
//! * any problem on the child's side (crash, abort, timeout, protocol error, exit status ≠ 0) is
//!   a failure, never a pass;
//! * a loader that panics fails the case (ERR-4), whatever the step expected;
//! * a step the driver could not carry out (a file operation failed, an unsupported type) fails
//!   the case as a harness error;
//! * a loader step without `expect.error` must succeed; one with it must fail with exactly that
//!   kind ("any error" never counts as the expected error);
//! * `max_ms` bounds the step's duration as the child measured it, whatever the outcome;
//! * every other key of `expect` is checked as its operation's expectation type documents it
//!   ([`crate::case::Expect`]), one type at a time.

use crate::case::{
    Case, DiscoverExpect, Ending, Expect, LookupExpect, Names, Op, Step, ValueExpect,
    with_library_extension,
};
use crate::parent::run::ChildRun;
use crate::protocol::{Observation, ObservedError};

/// Judges one run. `Err` carries the message of the first failed expectation (with the child's
/// standard error when the child itself failed).
pub fn judge(case: &Case, run: &ChildRun) -> Result<(), String> {
    for (i, step) in case.steps.iter().enumerate() {
        let Some(o) = run.observations.get(i) else {
            let why = run
                .problem
                .clone()
                .unwrap_or_else(|| "the child reported no observation".into());
            return Err(with_stderr(
                format!("{}: not reached: {why}", label(i, step)),
                run,
            ));
        };
        if let Some(p) = &o.panic {
            return Err(with_stderr(
                format!(
                    "{}: the loader panicked (ERR-4: a loader never panics): {p}",
                    label(i, step)
                ),
                run,
            ));
        }
        if let Some(e) = &o.harness_error {
            return Err(format!(
                "{}: the driver could not carry the step out: {e}",
                label(i, step)
            ));
        }
        check_step(&step.expect, o, path_as_given(i, run))
            .map_err(|m| format!("{}: {m}", label(i, step)))?;
    }
    if let Some(p) = &run.problem {
        return Err(with_stderr(format!("after the last step: {p}"), run));
    }
    Ok(())
}

fn with_stderr(message: String, run: &ChildRun) -> String {
    if run.stderr_tail.trim().is_empty() {
        message
    } else {
        format!(
            "{message}\n--- the child's standard error (tail) ---\n{}",
            run.stderr_tail.trim_end()
        )
    }
}

/// `step 3 (open fixture=basic as=p1)`.
pub fn label(i: usize, step: &Step) -> String {
    format!("step {} ({})", i + 1, step.op)
}

fn got(o: &Observation) -> String {
    match &o.error {
        Some(e) => format!("error {}: {}", e.kind, e.message),
        None => {
            let mut s = "success".to_string();
            if let Some(id) = &o.identity {
                s.push_str(&format!(" (plugin {id}"));
                if !o.identical_to.is_empty() {
                    s.push_str(&format!(", identical to {}", o.identical_to.join(", ")));
                }
                s.push(')');
            }
            s
        }
    }
}

/// The path step `i` gave the loader, as the child received it (`$PATH` in a message).
fn path_as_given(i: usize, run: &ChildRun) -> &str {
    match run.sent.get(i) {
        Some(Op::Open { path, .. } | Op::OpenConcurrent { path, .. }) => {
            path.as_deref().unwrap_or_default()
        }
        Some(Op::Inspect { path }) => path,
        Some(Op::Discover { dir, .. }) => dir,
        _ => "",
    }
}

/// The error a fallible step ended with, against the rest of its [`Ending`] (its kind is
/// already the expected one).
fn check_error(want: &Ending<'_>, e: &ObservedError, given: &str) -> Result<(), String> {
    if let Some(p) = want.previous_failure
        && p != e.previous_failure
    {
        return Err(format!(
            "expected {}a cached failure (previous failure), got {}: {}",
            if p { "" } else { "not " },
            if e.previous_failure {
                "a cached one"
            } else {
                "a fresh one"
            },
            e.message
        ));
    }
    if let Some(items) = want.differences
        && *items != e.differences
    {
        return Err(format!(
            "expected the differences {items:?}, the error names {:?}",
            e.differences
        ));
    }
    if let Some(prefix) = want.message_starts_with {
        let prefix = prefix.replace("$PATH", given);
        if !e.message.starts_with(&prefix) {
            return Err(format!(
                "expected the message to start with {prefix:?}, got {:?}",
                e.message
            ));
        }
    }
    if let Some(part) = want.message_contains {
        let part = part.replace("$PATH", given);
        if !e.message.contains(&part) {
            return Err(format!(
                "expected the message to contain {part:?}, got {:?}",
                e.message
            ));
        }
    }
    if let Some(suffix) = want.message_ends_with {
        let suffix = suffix.replace("$PATH", given);
        if !e.message.ends_with(&suffix) {
            return Err(format!(
                "expected the message to end with {suffix:?}, got {:?}",
                e.message
            ));
        }
    }
    Ok(())
}

/// One step: how it ended (for a fallible operation), then what its expectation type says,
/// one type at a time. `given` is the path the step gave the loader (`$PATH`).
fn check_step(expect: &Expect, seen: &Observation, given: &str) -> Result<(), String> {
    if let Some(want) = expect.ending() {
        check_ending(&want, seen, given)?;
    }
    match expect {
        Expect::Open(want) => check_plugin(&want.same_as, &want.differs_from, &want.identity, seen),
        Expect::OpenConcurrent(want) => {
            check_threads(
                want.error.as_deref(),
                want.all_identical,
                want.each_read,
                seen,
            )?;
            check_plugin(&want.same_as, &want.differs_from, &want.identity, seen)
        }
        Expect::OpenEach(want) => check_threads(want.error.as_deref(), None, None, seen),
        Expect::Lookup(want) => check_symbol(want, seen),
        Expect::Value(want) => check_value(want, seen),
        Expect::Mapped(want) => match want.mapped {
            Some(m) if seen.mapped != Some(m) => Err(format!(
                "expected the library {}mapped, it is {}",
                if m { "" } else { "not " },
                if seen.mapped == Some(true) {
                    "mapped"
                } else {
                    "not mapped"
                }
            )),
            _ => Ok(()),
        },
        Expect::Global(want) => match want.found {
            Some(f) if seen.found != Some(f) => Err(format!(
                "expected the name {}to resolve in the global namespace, it {}",
                if f { "" } else { "not " },
                if seen.found == Some(true) {
                    "does"
                } else {
                    "does not"
                }
            )),
            _ => Ok(()),
        },
        Expect::InitLog(want) => match &want.lines {
            Some(lines) if seen.lines.as_ref() != Some(lines) => Err(format!(
                "expected the init log {lines:?}, got {:?}",
                seen.lines.clone().unwrap_or_default()
            )),
            _ => Ok(()),
        },
        Expect::Discover(want) => check_discovery(want, seen),
        Expect::Inspect(want) => check_plugin(&None, &None, &want.identity, seen),
        Expect::Nothing => Ok(()),
    }
}

/// A fallible step's duration and outcome: success, or the expected error kind (any other
/// error never counts), then that error's details.
fn check_ending(want: &Ending<'_>, seen: &Observation, given: &str) -> Result<(), String> {
    if let Some(limit) = want.max_ms
        && seen.duration_us > limit.saturating_mul(1000)
    {
        return Err(format!(
            "expected the step to return within {limit} ms (ERR-4: bad input never hangs), it took {} ms ({})",
            seen.duration_us / 1000,
            got(seen)
        ));
    }
    match (want.error, &seen.error) {
        (Some(kind), Some(e)) if kind == e.kind => check_error(want, e, given),
        (Some(kind), _) => Err(format!("expected error {kind}, got {}", got(seen))),
        (None, Some(e)) => Err(format!(
            "expected success, got error {}: {}",
            e.kind, e.message
        )),
        (None, None) => Ok(()),
    }
}

/// The threads of `open_concurrent` and `open_each`: all failed with `error`, or all
/// succeeded; then the same plugin and the value each read, when expected.
fn check_threads(
    error: Option<&str>,
    all_identical: Option<bool>,
    each_read: Option<i32>,
    seen: &Observation,
) -> Result<(), String> {
    let Some(threads) = &seen.threads else {
        return Ok(());
    };
    let n = threads.len();
    if let Some(want) = error {
        if let Some(t) = threads
            .iter()
            .position(|t| t.error.as_ref().is_none_or(|e| e.kind != want))
        {
            return Err(format!(
                "expected every thread to fail with {want}; thread {} got {}",
                t + 1,
                threads[t]
                    .error
                    .as_ref()
                    .map_or("success".to_string(), |e| format!("error {}", e.kind))
            ));
        }
    } else {
        let failed: Vec<String> = threads
            .iter()
            .enumerate()
            .filter_map(|(t, th)| th.error.as_ref().map(|e| format!("{}: {}", t + 1, e.kind)))
            .collect();
        if !failed.is_empty() {
            return Err(format!(
                "expected all {n} threads to succeed; failed (thread: kind): {}",
                failed.join(", ")
            ));
        }
    }
    if all_identical == Some(true)
        && let Some(t) = threads.iter().position(|t| !t.same_as_first)
    {
        return Err(format!(
            "expected all {n} threads to get the same plugin (==); thread {} got a different one",
            t + 1
        ));
    }
    if let Some(v) = each_read {
        let wrong: Vec<String> = threads
            .iter()
            .enumerate()
            .filter(|(_, t)| t.read != Some(v))
            .map(|(i, t)| {
                format!(
                    "thread {} read {}",
                    i + 1,
                    t.read.map_or("nothing".into(), |r| r.to_string())
                )
            })
            .collect();
        if !wrong.is_empty() {
            return Err(format!(
                "expected every thread to read {v} right after its open returned; {}",
                wrong.join(", ")
            ));
        }
    }
    Ok(())
}

/// The opened (or inspected) plugin: `==` the handles of `same_as`, `!=` those of
/// `differs_from`, and its identity.
fn check_plugin(
    same_as: &Option<Names>,
    differs_from: &Option<Names>,
    identity: &Option<String>,
    seen: &Observation,
) -> Result<(), String> {
    for n in same_as.iter().flat_map(Names::list) {
        if !seen.identical_to.contains(&n) {
            return Err(format!(
                "expected the same plugin as {n} (==), got {}",
                got(seen)
            ));
        }
    }
    for n in differs_from.iter().flat_map(Names::list) {
        if seen.identical_to.contains(&n) {
            return Err(format!(
                "expected a plugin other than {n}, got {}",
                got(seen)
            ));
        }
    }
    if let Some(id) = identity
        && seen.identity.as_ref() != Some(id)
    {
        return Err(format!("expected identity {id:?}, got {:?}", seen.identity));
    }
    Ok(())
}

/// What a call returned or a read gave.
fn check_value(want: &ValueExpect, seen: &Observation) -> Result<(), String> {
    let shown = || seen.value.map_or("no value".into(), |g| g.to_string());
    if let Some(v) = want.value
        && seen.value != Some(v)
    {
        return Err(format!("expected the value {v}, got {}", shown()));
    }
    if let Some(min) = want.at_least
        && seen.value.is_none_or(|v| v < min)
    {
        return Err(format!(
            "expected a value of at least {min}, got {}",
            shown()
        ));
    }
    Ok(())
}

/// The looked-up symbol: kind, written type, size and alignment, address, allocations.
fn check_symbol(want: &LookupExpect, seen: &Observation) -> Result<(), String> {
    let symbol = seen.symbol.as_ref();
    if let Some(k) = want.kind {
        let found = symbol.map(|s| s.kind.as_str());
        if found != Some(k.as_str()) {
            return Err(format!("expected a {}, got {found:?}", k.as_str()));
        }
    }
    if let Some(t) = &want.rust_type {
        let found = symbol.map(|s| s.rust_type.as_str());
        if !found.is_some_and(|f| plugspec::contract::same_written_type(f, t)) {
            return Err(format!("expected the written type {t:?}, got {found:?}"));
        }
    }
    for (want, found, what) in [
        (want.size, symbol.and_then(|s| s.size), "size"),
        (want.align, symbol.and_then(|s| s.align), "alignment"),
    ] {
        if let Some(want) = want
            && found != Some(want)
        {
            return Err(match found {
                Some(f) => format!("expected the {what} {want}, the loader reports {f}"),
                None => format!("expected the {what} {want}, the driver reported none"),
            });
        }
    }
    if let Some(s) = &want.same_address_as
        && !symbol.is_some_and(|sym| sym.same_address_as.contains(s))
    {
        return Err(format!(
            "expected the same address as the earlier lookup {s}, got another address"
        ));
    }
    if let Some(a) = want.allocations {
        match seen.allocations {
            Some(n) if n == a => {}
            Some(n) => return Err(format!("expected {a} allocations, counted {n}")),
            None => {
                return Err(
                    "the driver does not count allocations (install plugspec_runner::CountingAllocator)"
                        .into(),
                );
            }
        }
    }
    Ok(())
}

/// What discovery loaded and skipped (file names with `$DLL` substituted).
fn check_discovery(want: &DiscoverExpect, seen: &Observation) -> Result<(), String> {
    if let Some(loaded) = &want.loaded {
        let loaded: Vec<String> = loaded.iter().map(|s| with_library_extension(s)).collect();
        if seen.loaded.as_ref() != Some(&loaded) {
            return Err(format!(
                "expected discovery to load {loaded:?}, it loaded {:?}",
                seen.loaded.clone().unwrap_or_default()
            ));
        }
    }
    if let Some(skipped) = &want.skipped {
        let found: Vec<(String, String)> = seen
            .skipped
            .iter()
            .flatten()
            .map(|s| (s.file.clone(), s.error.kind.clone()))
            .collect();
        let want: Vec<(String, String)> = skipped
            .iter()
            .map(|s| (with_library_extension(&s.file), s.error.clone()))
            .collect();
        if found != want {
            return Err(format!(
                "expected discovery to skip {want:?} (file, kind), it skipped {found:?}"
            ));
        }
    }
    Ok(())
}

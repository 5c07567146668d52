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
//! * every other field of `expect` is checked as documented on [`crate::case::Expect`].

use crate::case::{Case, Names, Op, Step};
use crate::protocol::{Observation, ObservedError};
use crate::run::ChildRun;

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
        check_step(step, o, run, i).map_err(|m| format!("{}: {m}", label(i, step)))?;
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

fn path_as_given(op: &Op, run: &ChildRun) -> String {
    let fixture_path = |name: &str| run.fixtures.get(name).cloned().unwrap_or_default();
    match op.resolved(&run.case_dir, &fixture_path) {
        Op::Open { path, .. } | Op::OpenConcurrent { path, .. } => path.unwrap_or_default(),
        Op::Inspect { path } => path,
        Op::Discover { dir, .. } => dir,
        _ => String::new(),
    }
}

fn check_error(step: &Step, e: &ObservedError, run: &ChildRun) -> Result<(), String> {
    let x = &step.expect;
    if let Some(p) = x.previous_failure
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
    if let Some(want) = &x.differences
        && *want != e.differences
    {
        return Err(format!(
            "expected the differences {want:?}, the error names {:?}",
            e.differences
        ));
    }
    let given = path_as_given(&step.op, run);
    if let Some(prefix) = &x.message_starts_with {
        let prefix = prefix.replace("$PATH", &given);
        if !e.message.starts_with(&prefix) {
            return Err(format!(
                "expected the message to start with {prefix:?}, got {:?}",
                e.message
            ));
        }
    }
    if let Some(suffix) = &x.message_ends_with {
        let suffix = suffix.replace("$PATH", &given);
        if !e.message.ends_with(&suffix) {
            return Err(format!(
                "expected the message to end with {suffix:?}, got {:?}",
                e.message
            ));
        }
    }
    Ok(())
}

fn check_step(step: &Step, o: &Observation, run: &ChildRun, _i: usize) -> Result<(), String> {
    let x = &step.expect;
    if let Some(limit) = x.max_ms
        && o.duration_us > limit.saturating_mul(1000)
    {
        return Err(format!(
            "expected the step to return within {limit} ms (ERR-4: bad input never hangs), it took {} ms ({})",
            o.duration_us / 1000,
            got(o)
        ));
    }
    if step.op.may_fail() {
        match (&x.error, &o.error) {
            (Some(want), Some(e)) if *want == e.kind => check_error(step, e, run)?,
            (Some(want), Some(_)) | (Some(want), None) => {
                return Err(format!("expected error {want}, got {}", got(o)));
            }
            (None, Some(e)) => {
                return Err(format!(
                    "expected success, got error {}: {}",
                    e.kind, e.message
                ));
            }
            (None, None) => {}
        }
    }
    if let Some(threads) = &o.threads {
        let n = threads.len();
        if let Some(want) = &x.error {
            if let Some(t) = threads
                .iter()
                .position(|t| t.error.as_ref().is_none_or(|e| e.kind != *want))
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
            if !failed.is_empty() && x.all_ok != Some(false) {
                return Err(format!(
                    "expected all {n} threads to succeed; failed (thread: kind): {}",
                    failed.join(", ")
                ));
            }
        }
        if x.all_identical == Some(true)
            && let Some(t) = threads.iter().position(|t| !t.same_as_first)
        {
            return Err(format!(
                "expected all {n} threads to get the same plugin (==); thread {} got a different one",
                t + 1
            ));
        }
        if let Some(v) = x.each_read {
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
    }
    if let Some(names) = x.same_as.as_ref().map(Names::list) {
        for n in names {
            if !o.identical_to.contains(&n) {
                return Err(format!(
                    "expected the same plugin as {n} (==), got {}",
                    got(o)
                ));
            }
        }
    }
    if let Some(names) = x.differs_from.as_ref().map(Names::list) {
        for n in names {
            if o.identical_to.contains(&n) {
                return Err(format!("expected a plugin other than {n}, got {}", got(o)));
            }
        }
    }
    if let Some(id) = &x.identity
        && o.identity.as_ref() != Some(id)
    {
        return Err(format!("expected identity {id:?}, got {:?}", o.identity));
    }
    if let Some(v) = x.value
        && o.value != Some(v)
    {
        return Err(format!(
            "expected the value {v}, got {}",
            o.value.map_or("no value".into(), |g| g.to_string())
        ));
    }
    if let Some(min) = x.at_least
        && o.value.is_none_or(|v| v < min)
    {
        return Err(format!(
            "expected a value of at least {min}, got {}",
            o.value.map_or("no value".into(), |g| g.to_string())
        ));
    }
    if let Some(k) = x.kind {
        let found = o.symbol.as_ref().map(|s| s.kind.as_str());
        if found != Some(k.as_str()) {
            return Err(format!("expected a {}, got {found:?}", k.as_str()));
        }
    }
    if let Some(t) = &x.rust_type {
        let found = o.symbol.as_ref().map(|s| s.rust_type.as_str());
        if !found.is_some_and(|f| plugspec::contract::same_written_type(f, t)) {
            return Err(format!("expected the written type {t:?}, got {found:?}"));
        }
    }
    for (want, found, what) in [
        (x.size, o.symbol.as_ref().and_then(|s| s.size), "size"),
        (
            x.align,
            o.symbol.as_ref().and_then(|s| s.align),
            "alignment",
        ),
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
    if let Some(s) = &x.same_address_as {
        let same = o
            .symbol
            .as_ref()
            .is_some_and(|sym| sym.same_address_as.contains(s));
        if !same {
            return Err(format!(
                "expected the same address as the earlier lookup {s}, got another address"
            ));
        }
    }
    if let Some(a) = x.allocations {
        match o.allocations {
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
    if let Some(m) = x.mapped
        && o.mapped != Some(m)
    {
        return Err(format!(
            "expected the library {}mapped, it is {}",
            if m { "" } else { "not " },
            if o.mapped == Some(true) {
                "mapped"
            } else {
                "not mapped"
            }
        ));
    }
    if let Some(f) = x.found
        && o.found != Some(f)
    {
        return Err(format!(
            "expected the name {}to resolve in the global namespace, it {}",
            if f { "" } else { "not " },
            if o.found == Some(true) {
                "does"
            } else {
                "does not"
            }
        ));
    }
    if let Some(lines) = &x.lines
        && o.lines.as_ref() != Some(lines)
    {
        return Err(format!(
            "expected the init log {lines:?}, got {:?}",
            o.lines.clone().unwrap_or_default()
        ));
    }
    let dll = |v: &[String]| -> Vec<String> {
        v.iter()
            .map(|s| crate::case::with_library_extension(s))
            .collect()
    };
    if let Some(loaded) = x.loaded.as_deref().map(dll)
        && o.loaded.as_ref() != Some(&loaded)
    {
        return Err(format!(
            "expected discovery to load {loaded:?}, it loaded {:?}",
            o.loaded.clone().unwrap_or_default()
        ));
    }
    if let Some(skipped) = &x.skipped {
        let found: Vec<(String, String)> = o
            .skipped
            .iter()
            .flatten()
            .map(|s| (s.file.clone(), s.error.kind.clone()))
            .collect();
        let want: Vec<(String, String)> = skipped
            .iter()
            .map(|s| {
                (
                    crate::case::with_library_extension(&s.file),
                    s.error.clone(),
                )
            })
            .collect();
        if found != want {
            return Err(format!(
                "expected discovery to skip {want:?} (file, kind), it skipped {found:?}"
            ));
        }
    }
    Ok(())
}

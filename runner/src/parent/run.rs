//! The parent's side of one case: each run of it (a case may repeat) in a fresh scratch
//! directory ([`super::scratch`]) and a fresh child: start the child, send the steps (never the
//! expectations), collect the observations, enforce the time limit; then the judge's verdict
//! ([`super::judge`]) and the transcript ([`super::snapshot`]). [`run_case`] is that pipeline.
//!
//! Whatever goes wrong on the child's side is recorded in [`ChildRun::problem`] — a crash, an
//! abort, a timeout, a malformed or missing protocol line, a wrong protocol version, or an exit
//! status other than 0 — with the tail of the child's standard error. The judge turns any
//! problem into a failure: never a pass.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use wait_timeout::ChildExt;

use crate::case::{Case, Op};
use crate::fixtures::{Catalog, Registry};
use crate::protocol::{CHILD_ENV, Message, Observation, PROTOCOL_VERSION, Request};

#[cfg(unix)]
use super::scratch::give_to;
// Where these lived before the scratch directories had a module of their own.
pub use super::scratch::{
    cleanup, prepare, root_problem, safe_permissions_problem, safe_scratch_root, scratch_root,
    unprivileged_problem, unprivileged_user,
};
use super::{judge, snapshot};

/// The default time limit of one child (one run of a case).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The environment variable overriding the time limit, in seconds.
pub const TIMEOUT_ENV: &str = "PLUGSPEC_CASE_TIMEOUT";

/// The environment variable that gives each child `RUST_BACKTRACE=1` (off by default: a child
/// whose plugin panics would otherwise spend hundreds of milliseconds symbolising a backtrace
/// nobody reads). Any value other than empty, `0`, `false` or `off` turns it on.
pub const BACKTRACE_ENV: &str = "PLUGSPEC_CHILD_BACKTRACE";

/// How many bytes of the child's standard error a failure shows.
const STDERR_TAIL: usize = 4000;

/// The time limit: `$PLUGSPEC_CASE_TIMEOUT` seconds if set, else `default`.
pub fn timeout_from_env(default: Duration) -> Duration {
    std::env::var(TIMEOUT_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| *s > 0.0)
        .map(Duration::from_secs_f64)
        .unwrap_or(default)
}

/// What one child run produced.
#[derive(Debug, Clone, Default)]
pub struct ChildRun {
    /// The scratch directory (the child's working directory).
    pub case_dir: PathBuf,
    /// The case's fixture copies, by fixture name.
    pub fixtures: BTreeMap<String, PathBuf>,
    /// The operations as the child received them: fixtures, `$CASE_DIR`, `$DLL` and
    /// `$FIXTURE(…)` resolved (so their paths are the paths as given to the loader).
    pub sent: Vec<Op>,
    /// The loader the child reported in its hello.
    pub loader: Option<String>,
    /// The whole hello.
    pub hello: Option<DriverInfo>,
    /// The observations, in step order.
    pub observations: Vec<Observation>,
    /// What went wrong on the child's side, if anything.
    pub problem: Option<String>,
    /// The tail of the child's standard error.
    pub stderr_tail: String,
    /// Wall time of the child.
    pub duration: Duration,
}

/// What [`run_case`] produced.
#[derive(Debug)]
pub struct CaseRun {
    /// The judge's verdict: `Err` holds what was expected and observed, and where the failing
    /// run's directory is kept.
    pub verdict: Result<(), String>,
    /// The transcript of the failing run, or of the first.
    pub transcript: Option<snapshot::Transcript>,
    /// How many children ran.
    pub runs: u32,
}

/// Runs `case` in `driver`, each of its repetitions in a fresh scratch directory and a fresh
/// child, and judges each; stops at the first failure (whose directory is kept; a passing run's
/// is removed). `fixtures_src` is where the fixtures' sources are, for the transcript.
pub fn run_case(
    case: &Case,
    driver: &Driver,
    registry: &Registry,
    timeout: Duration,
    fixtures_src: &Path,
) -> CaseRun {
    let mut transcript = None;
    for n in 1..=case.repeat {
        let (dir, fixtures) = match prepare(case, n, registry) {
            Ok(x) => x,
            Err(e) => {
                return CaseRun {
                    verdict: Err(format!("cannot prepare the case: {e}")),
                    transcript: None,
                    runs: n - 1,
                };
            }
        };
        let child = run_child(driver, case, &dir, &fixtures, timeout, registry.catalog());
        let verdict = judge::judge(case, &child);
        let t = snapshot::transcript(case, &child, registry.root(), fixtures_src);
        if n == 1 || verdict.is_err() {
            transcript = Some(t);
        }
        if let Err(message) = verdict {
            let prefix = if case.repeat > 1 {
                format!("run {n} of {}: ", case.repeat)
            } else {
                String::new()
            };
            return CaseRun {
                verdict: Err(format!(
                    "{prefix}{message}\n(the case directory is kept: {})",
                    plugspec::error::escaped(&dir)
                )),
                transcript,
                runs: n,
            };
        }
        cleanup(&dir);
    }
    CaseRun {
        verdict: Ok(()),
        transcript,
        runs: case.repeat,
    }
}

/// The driver a case runs in: a program and its arguments. For the Rust driver, the harness
/// binary itself (it acts as the child when [`CHILD_ENV`] is set, which every driver is given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Driver {
    /// The program.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
}

impl Driver {
    /// The driver as a command line, for messages.
    pub fn display(&self) -> String {
        std::iter::once(plugspec::error::escaped(&self.program).to_string())
            .chain(self.args.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// What a driver says about itself in its `hello`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverInfo {
    /// The driver's name and version.
    pub driver: String,
    /// The loader under test, with its version.
    pub loader: String,
    /// Its capabilities.
    pub capabilities: Vec<String>,
    /// Its fixture kit.
    pub kit: Option<String>,
}

/// Starts the driver once with a request of no steps and reads its `hello`: what it is, what
/// it can do, which fixture kit it uses. Any problem (it does not start, crashes, times out,
/// speaks another protocol) is an error naming the driver.
pub fn probe(driver: &Driver, dir: &Path, timeout: Duration) -> Result<DriverInfo, String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create {}: {e}", plugspec::error::escaped(dir)))?;
    let case = Case::probe();
    let run = run_child(
        driver,
        &case,
        dir,
        &BTreeMap::new(),
        timeout,
        &Catalog::default(),
    );
    if let Some(problem) = run.problem {
        return Err(format!(
            "the driver {} did not answer a request of no steps: {problem}\n{}",
            driver.display(),
            run.stderr_tail
        ));
    }
    run.hello
        .ok_or_else(|| format!("the driver {} sent no hello", driver.display()))
}

/// Runs the case once in a fresh child of `driver`; `kit` maps symbol names into the kit's
/// names and the kit's identities back.
pub fn run_child(
    driver: &Driver,
    case: &Case,
    case_dir: &Path,
    fixtures: &BTreeMap<String, PathBuf>,
    timeout: Duration,
    kit: &Catalog,
) -> ChildRun {
    let exe = driver.program.as_path();
    let started = Instant::now();
    let mut run = ChildRun {
        case_dir: case_dir.to_path_buf(),
        fixtures: fixtures.clone(),
        ..ChildRun::default()
    };
    let fixture_path = |name: &str| {
        fixtures
            .get(name)
            .cloned()
            .unwrap_or_else(|| PathBuf::from(format!("<unknown fixture {name}>")))
    };
    run.sent = case
        .steps
        .iter()
        .map(|s| kit_names(s.op.resolved(case_dir, &fixture_path), kit))
        .collect();
    let request = Request::Run {
        protocol: PROTOCOL_VERSION,
        case: case.id.clone(),
        case_dir: case_dir.display().to_string(),
        host: {
            // The fixtures' shared packages first, then what the case declares.
            let mut host = case.host.clone();
            host.shared.splice(0..0, kit.shared().iter().cloned());
            host
        },
        steps: run.sent.clone(),
    };
    let line = match serde_json::to_string(&request) {
        Ok(l) => l,
        Err(e) => {
            run.problem = Some(format!("cannot encode the request: {e}"));
            return run;
        }
    };
    let mut command = Command::new(exe);
    command.args(&driver.args);
    // Backtraces only when asked for (BACKTRACE_ENV), whatever the runner itself inherited.
    command
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE");
    if std::env::var(BACKTRACE_ENV).is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false" | "off"))
    {
        command.env("RUST_BACKTRACE", "1");
    }
    command
        .env(CHILD_ENV, PROTOCOL_VERSION.to_string())
        .env(
            crate::protocol::INIT_LOG_ENV,
            case_dir.join("plugspec-init.log"),
        )
        .current_dir(case_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Root ignores permission bits: a case about them runs as an unprivileged user, in a scratch
    // directory it owns (std drops the supplementary groups with the uid).
    #[cfg(unix)]
    if case.requires.iter().any(|r| r == "unprivileged")
        && let Some(user) = unprivileged_user()
    {
        use std::os::unix::process::CommandExt;
        if let Err(e) = give_to(case_dir, user) {
            run.problem = Some(e);
            return run;
        }
        command.uid(user.0).gid(user.1);
    }
    let spawned = command.spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            run.problem = Some(format!(
                "cannot start the child {}: {e}",
                plugspec::error::escaped(exe)
            ));
            return run;
        }
    };
    // Write the request and close stdin; a child that died early makes this fail harmlessly.
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(line.as_bytes());
        let _ = stdin.write_all(b"\n");
    }
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let out_reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        if let Some(out) = stdout {
            for line in BufReader::new(out).lines() {
                match line {
                    Ok(l) => lines.push(l),
                    Err(_) => break,
                }
            }
        }
        lines
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut err) = stderr {
            let _ = err.read_to_end(&mut buf);
        }
        buf
    });
    // Block until the child exits or the limit passes (no polling).
    let status: Option<ExitStatus> =
        match child.wait_timeout(timeout.saturating_sub(started.elapsed())) {
            Ok(Some(status)) => Some(status),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                None
            }
            Err(e) => {
                run.problem = Some(format!("cannot wait for the child: {e}"));
                let _ = child.kill();
                let _ = child.wait();
                None
            }
        };
    let lines = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    run.stderr_tail = tail(&String::from_utf8_lossy(&stderr), STDERR_TAIL);
    run.duration = started.elapsed();
    let protocol_problem = read_protocol(&lines, &mut run);
    for o in &mut run.observations {
        to_case_terms(o, kit);
    }
    run.problem = run.problem.take().or(match status {
        None => Some(format!(
            "timed out after {:.1} s (the limit; set {TIMEOUT_ENV} to change it) and was killed",
            timeout.as_secs_f64()
        )),
        Some(status) if !status.success() => Some(describe_exit(status)),
        Some(_) => protocol_problem,
    });
    run
}

/// Reads the child's lines into `run`; returns a protocol problem, if any.
fn read_protocol(lines: &[String], run: &mut ChildRun) -> Option<String> {
    let mut saw_hello = false;
    let mut saw_done = false;
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let message: Message = match serde_json::from_str(line) {
            Ok(m) => m,
            Err(e) => {
                return Some(format!(
                    "malformed protocol line {}: {e}: {}",
                    i + 1,
                    tail(line, 300)
                ));
            }
        };
        match message {
            Message::Hello {
                protocol,
                driver,
                loader,
                capabilities,
                kit,
            } => {
                if protocol != PROTOCOL_VERSION {
                    return Some(format!(
                        "the child speaks protocol {protocol}, the parent {PROTOCOL_VERSION}"
                    ));
                }
                saw_hello = true;
                run.loader = Some(loader.clone());
                run.hello = Some(DriverInfo {
                    driver,
                    loader,
                    capabilities,
                    kit,
                });
            }
            _ if !saw_hello => return Some("the child did not start with hello".into()),
            Message::Observation(o) => {
                if o.step != run.observations.len() {
                    return Some(format!(
                        "observation for step {} where step {} was due",
                        o.step + 1,
                        run.observations.len() + 1
                    ));
                }
                run.observations.push(*o);
            }
            Message::Done => saw_done = true,
        }
    }
    if !saw_hello {
        Some("the child sent no hello".into())
    } else if !saw_done {
        Some("the child did not finish (no done)".into())
    } else {
        None
    }
}

/// A step with its symbol names in the kit's names (Go exports only capitalised names); a
/// lookup still binds the case-level name.
fn kit_names(mut op: Op, kit: &Catalog) -> Op {
    match &mut op {
        Op::Lookup { name, bind, .. } => {
            if bind.is_none() {
                *bind = Some(name.clone());
            }
            *name = kit.symbol_name(name);
        }
        Op::OpenConcurrent {
            read_after: Some(name),
            ..
        } => *name = kit.symbol_name(name),
        _ => {}
    }
    op
}

/// An observation with the kit's identities and types in the cases' terms.
fn to_case_terms(o: &mut Observation, kit: &Catalog) {
    if let Some(id) = &mut o.identity {
        *id = kit.case_identity(id).to_string();
    }
    let errors = o.error.iter_mut().chain(
        o.threads
            .iter_mut()
            .flatten()
            .filter_map(|t| t.error.as_mut()),
    );
    for e in errors {
        e.message = kit.case_message(&e.message);
        for d in &mut e.differences {
            *d = kit.case_difference(d);
        }
    }
    if let Some(s) = &mut o.symbol {
        s.rust_type = kit.case_type(&s.rust_type).to_string();
    }
}

fn describe_exit(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            let name = match signal {
                libc::SIGABRT => " (SIGABRT: aborted)",
                libc::SIGSEGV => " (SIGSEGV: crashed)",
                libc::SIGBUS => " (SIGBUS: crashed)",
                libc::SIGKILL => " (SIGKILL)",
                libc::SIGILL => " (SIGILL)",
                _ => "",
            };
            return format!("the child was killed by signal {signal}{name}");
        }
    }
    format!("the child exited with {status}")
}

/// The last `max` bytes of `s`, cut at a character boundary.
pub fn tail(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut start = s.len() - max;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &s[start..])
}

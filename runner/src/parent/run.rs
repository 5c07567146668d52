//! The parent's side of one case run: prepare a fresh scratch directory with the case's own
//! copies of its fixtures, start the child, send the steps (never the expectations), collect
//! the observations, and enforce the time limit.
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

/// Where scratch directories go: `<root>/scratch/<pid>/`.
pub fn scratch_root(fixtures_root: &Path) -> PathBuf {
    fixtures_root
        .join("scratch")
        .join(std::process::id().to_string())
}

/// Where the directories of cases whose host requires safe permissions (OPEN-11) go: the
/// [`scratch_root`], unless a directory above it lets other users write (a target directory
/// under `/tmp`), where that host would refuse every plugin; then the first safe place that can
/// be made, `/var/cache/plugspec-scratch/<pid>/` (root) or `~/.cache/plugspec-scratch/<pid>/`,
/// and the [`scratch_root`] when there is none (those cases are then ignored, with the reason).
/// Only those cases go elsewhere: a failed case's directory is kept, and outside the target
/// directory nothing would clear it. Chosen once per fixtures root.
pub fn safe_scratch_root(fixtures_root: &Path) -> PathBuf {
    static CHOSEN: std::sync::Mutex<Vec<(PathBuf, PathBuf)>> = std::sync::Mutex::new(Vec::new());
    let mut chosen = CHOSEN.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, root)) = chosen.iter().find(|(f, _)| f == fixtures_root) {
        return root.clone();
    }
    let root = choose_scratch_root(fixtures_root);
    chosen.push((fixtures_root.to_path_buf(), root.clone()));
    root
}

fn choose_scratch_root(fixtures_root: &Path) -> PathBuf {
    let default = scratch_root(fixtures_root);
    if safe_permissions_problem(&default).is_none() {
        return default;
    }
    let pid = std::process::id().to_string();
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty());
    let bases = [
        cfg!(unix).then(|| PathBuf::from("/var/cache/plugspec-scratch")),
        home.map(|h| PathBuf::from(h).join(".cache").join("plugspec-scratch")),
    ];
    bases
        .into_iter()
        .flatten()
        .find(|base| {
            // The base stays (empty between runs); `<pid>` is made by `prepare` when a case runs,
            // so a process that runs none leaves nothing. It is made here once only to learn
            // whether this user may write there.
            let probe = base.join(&pid);
            if std::fs::create_dir_all(&probe).is_err() {
                return false;
            }
            let _ = std::fs::remove_dir(&probe);
            // Whatever the umask: writable by the runner alone, as `prepare` makes its own.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(base, std::fs::Permissions::from_mode(0o755));
            }
            safe_permissions_problem(base).is_none()
        })
        .map_or(default, |base| base.join(&pid))
}

/// Prepares a fresh scratch directory for run `n` of `case` and copies its fixtures there.
pub fn prepare(
    case: &Case,
    n: u32,
    registry: &Registry,
) -> Result<(PathBuf, BTreeMap<String, PathBuf>), String> {
    let root = if case.host.safe_permissions {
        safe_scratch_root(registry.root())
    } else {
        scratch_root(registry.root())
    };
    let dir = root.join(format!("{}-{n}", case.id));
    if dir.exists() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    std::fs::create_dir_all(&dir)
        .map_err(|e| format!("cannot create {}: {e}", plugspec::error::escaped(&dir)))?;
    // Whatever the umask: writable by the runner alone, as a host requiring safe permissions
    // (OPEN-11) wants every directory above a plugin (`scratch`, `<pid>`, the case's own).
    #[cfg(unix)]
    for d in dir.ancestors().take(3) {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755));
    }
    // The canonical form, so that paths the loader resolves match paths the case writes.
    let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
    let fixtures = registry.copy_into(&case.fixtures, &dir)?;
    Ok((dir, fixtures))
}

/// Removes a scratch directory (after a pass), making unreadable entries readable first.
pub fn cleanup(dir: &Path) {
    #[cfg(unix)]
    if let Ok(entries) = std::fs::read_dir(dir) {
        use std::os::unix::fs::PermissionsExt;
        for e in entries.filter_map(Result::ok) {
            let _ = std::fs::set_permissions(e.path(), std::fs::Permissions::from_mode(0o755));
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// The user a case that requires `unprivileged` runs as: `None` when the runner is not root (its
/// children already are unprivileged), else the uid and gid of `nobody` (65534 where there is no
/// such user).
#[cfg(unix)]
pub fn unprivileged_user() -> Option<(u32, u32)> {
    // SAFETY: `geteuid` has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    // SAFETY: the name is NUL-terminated; the returned record (or null) is only read here, on a
    // thread that makes no other passwd call meanwhile (the harness asks once, before trials).
    let user = unsafe { libc::getpwnam(c"nobody".as_ptr()).as_ref() }
        .map_or((65534, 65534), |pw| (pw.pw_uid, pw.pw_gid));
    Some(user)
}

/// Unprivileged users never exist here.
#[cfg(not(unix))]
pub fn unprivileged_user() -> Option<(u32, u32)> {
    None
}

/// Why a case that requires `root` cannot run here: the runner is not root. `None` when it is.
#[cfg(unix)]
pub fn root_problem() -> Option<String> {
    // SAFETY: `geteuid` has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    (euid != 0).then(|| {
        format!("needs root (only root may give a file to another user), and the runner runs as uid {euid}")
    })
}

/// There is no root elsewhere.
#[cfg(not(unix))]
pub fn root_problem() -> Option<String> {
    Some("needs root, and this platform has no Unix users".to_string())
}

/// Why a case whose host requires safe permissions (OPEN-11) cannot run from scratch
/// directories under `scratch`: a directory above them that such a host refuses (writable by
/// group or others, or owned by someone other than root or the runner's user), so that every
/// plugin there would be refused for it. `None` when there is none.
#[cfg(unix)]
pub fn safe_permissions_problem(scratch: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: `geteuid` has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    let existing = scratch
        .ancestors()
        .find_map(|d| std::fs::canonicalize(d).ok())?;
    existing.ancestors().find_map(|dir| {
        let meta = std::fs::metadata(dir).ok()?;
        let (mode, uid) = (meta.mode() & 0o7777, meta.uid());
        (mode & 0o022 != 0 || (uid != 0 && uid != euid)).then(|| {
            format!(
                "its host requires safe permissions, and {} above the scratch directories is not safe (mode {mode:04o}, owner uid {uid}): every plugin under it would be refused; put the target directory where only root or this user can write",
                plugspec::error::escaped(dir)
            )
        })
    })
}

/// No permission policy is checked elsewhere.
#[cfg(not(unix))]
pub fn safe_permissions_problem(_: &Path) -> Option<String> {
    None
}

/// Why a child dropped to [`unprivileged_user`] could not run a case from a scratch directory
/// under `scratch` with the executable `exe`: a directory on the way that other users may not
/// search, or an executable they may not run. `None` when it can.
#[cfg(unix)]
pub fn unprivileged_problem(scratch: &Path, exe: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let exe_dir = exe.parent().unwrap_or(exe);
    for dir in scratch.ancestors().chain(exe_dir.ancestors()) {
        let Ok(meta) = std::fs::metadata(dir) else {
            continue; // not created yet: the runner creates it with mode 0755
        };
        if meta.permissions().mode() & 0o001 == 0 {
            return Some(format!(
                "needs an unprivileged user, and the runner (root) cannot drop to one here: {} is not searchable by other users",
                plugspec::error::escaped(dir)
            ));
        }
    }
    match std::fs::metadata(exe) {
        Ok(meta) if meta.permissions().mode() & 0o001 == 0 => Some(format!(
            "needs an unprivileged user, and the runner (root) cannot drop to one here: {} is not executable by other users",
            plugspec::error::escaped(exe)
        )),
        _ => None,
    }
}

/// Never a problem where there are no users to drop to (such cases are not ignored for this).
#[cfg(not(unix))]
pub fn unprivileged_problem(_: &Path, _: &Path) -> Option<String> {
    None
}

/// Gives the scratch directory and everything in it to `user`, so that a child running as that
/// user can work in it.
#[cfg(unix)]
fn give_to(dir: &Path, (uid, gid): (u32, u32)) -> Result<(), String> {
    let fail = |p: &Path, e: std::io::Error| {
        format!(
            "cannot chown {} to {uid}:{gid}: {e}",
            plugspec::error::escaped(p)
        )
    };
    std::os::unix::fs::chown(dir, Some(uid), Some(gid)).map_err(|e| fail(dir, e))?;
    for entry in std::fs::read_dir(dir).map_err(|e| fail(dir, e))? {
        let path = entry.map_err(|e| fail(dir, e))?.path();
        if path.is_dir() && !path.is_symlink() {
            give_to(&path, (uid, gid))?;
        } else {
            std::os::unix::fs::lchown(&path, Some(uid), Some(gid)).map_err(|e| fail(&path, e))?;
        }
    }
    Ok(())
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

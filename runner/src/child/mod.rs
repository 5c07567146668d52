//! The child: the Rust driver of the protocol. It reads one run request, carries out each step
//! against a `L: plugspec::Loader`, and reports what it observed. It is never told what the
//! case expects.
//!
//! | concern | module |
//! |---|---|
//! | the serve loop and each step against the loader | this module |
//! | calls, reads and writes through written types | `calls` |
//! | probes: mapped, global namespace, manifest inspection | `probes` |
//! | the file operations of a case | [`fileops`] |
//! | counting allocations (the `#[global_allocator]` a harness installs) | [`alloc`] |
//!
//! The child is the harness binary itself, re-executed by the parent with
//! `PLUGSPEC_RUNNER_CHILD` ([`CHILD_ENV`]) set; [`crate::Harness::run`] notices and calls
//! [`main`].

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Barrier;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Instant;

use plugspec::{Error, HostConfig, Loader, Plugin, Symbol, SymbolKind};

use crate::case::{HostSpec, Op};
use crate::protocol::{
    CHILD_ENV, Message, Observation, ObservedError, ObservedSkip, ObservedSymbol, PROTOCOL_VERSION,
    Request, ThreadObservation,
};

pub mod alloc;
mod calls;
pub mod fileops;
mod probes;

use calls::{call, read_variable, typed_check, write_variable};
use probes::{inspect, is_mapped, resolves_globally};

/// Whether this process was started as a child by the runner.
pub fn is_child() -> bool {
    std::env::var_os(CHILD_ENV).is_some()
}

/// The host configuration a case's loader is built with: what the case requires, and the
/// shared packages of the request (the fixtures' `fixture-common` and `fixture-extra` first, as
/// the parent read them from the fixture sources, then the case's own).
pub fn host_config(host: &HostSpec) -> HostConfig {
    let mut config = HostConfig::new();
    if let Some(v) = host.api_version {
        config = config.require_api_version(v);
    }
    if let Some(b) = &host.build_id {
        config = config.pin_build_id(b.clone());
    }
    if host.safe_permissions {
        config = config.require_safe_permissions();
    }
    for p in &host.shared {
        let leak = |s: &str| -> &'static str { Box::leak(s.to_string().into_boxed_str()) };
        config = config.shared(plugspec::Package {
            name: leak(&p.name),
            version: leak(&p.version),
            hash: leak(&p.hash),
        });
    }
    config
}

/// Runs the child: reads the request from standard input, answers on standard output, exits.
pub fn main<L: Loader>() -> ! {
    let out = protocol_output();
    let code = match serve::<L>(out) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("plugspec child: {e}");
            3
        }
    };
    std::process::exit(code)
}

/// Keeps the real standard output for the protocol and points file descriptor 1 at standard
/// error, so that anything a plugin prints cannot corrupt the protocol.
#[cfg(unix)]
fn protocol_output() -> Box<dyn Write> {
    use std::os::fd::FromRawFd;
    // SAFETY: plain descriptor calls on 0..=2, which the process owns; nothing has written to
    // standard output yet, so no buffered bytes are lost when descriptor 1 is redirected.
    unsafe {
        let fd = libc::dup(1);
        if fd >= 0 && libc::dup2(2, 1) >= 0 {
            // SAFETY: `fd` is a fresh descriptor this function owns from here on.
            return Box::new(std::fs::File::from_raw_fd(fd));
        }
    }
    Box::new(std::io::stdout())
}

#[cfg(not(unix))]
fn protocol_output() -> Box<dyn Write> {
    Box::new(std::io::stdout())
}

fn send(out: &mut dyn Write, message: &Message) -> Result<(), String> {
    let line = serde_json::to_string(message).map_err(|e| e.to_string())?;
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write to the parent: {e}"))
}

fn serve<L: Loader>(mut out: Box<dyn Write>) -> Result<(), String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the request: {e}"))?;
    let request: Request =
        serde_json::from_str(&line).map_err(|e| format!("malformed request: {e}"))?;
    let Request::Run {
        protocol,
        host,
        steps,
        ..
    } = request;
    if protocol != PROTOCOL_VERSION {
        return Err(format!(
            "the parent speaks protocol {protocol}, this driver {PROTOCOL_VERSION}"
        ));
    }
    send(
        &mut *out,
        &Message::Hello {
            protocol: PROTOCOL_VERSION,
            driver: format!("plugspec-runner {}", env!("CARGO_PKG_VERSION")),
            loader: std::any::type_name::<L>().to_string(),
            capabilities: rust_capabilities(),
            kit: Some(crate::protocol::RUST_KIT.to_string()),
        },
    )?;
    let mut state = State::<L> {
        loader: L::with_host(host_config(&host)),
        plugins: Vec::new(),
        symbols: Vec::new(),
    };
    for (index, op) in steps.iter().enumerate() {
        let started = Instant::now();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| state.step(op)));
        let mut observation = match result {
            Ok(o) => o,
            Err(payload) => Observation {
                panic: Some(plugspec::sdk::panic_message(payload.as_ref())),
                ..Observation::default()
            },
        };
        observation.step = index;
        observation.duration_us = started.elapsed().as_micros() as u64;
        let stop = observation.panic.is_some();
        send(&mut *out, &Message::Observation(Box::new(observation)))?;
        if stop {
            break;
        }
    }
    send(&mut *out, &Message::Done)
}

/// The capabilities the Rust driver announces: all of them, `alloc_count` only when the
/// counting allocator is installed.
pub fn rust_capabilities() -> Vec<String> {
    crate::protocol::DRIVER_CAPABILITIES
        .iter()
        .map(|(c, _)| *c)
        .filter(|c| *c != "alloc_count" || crate::child::alloc::is_counting())
        .map(str::to_string)
        .collect()
}

struct State<L: Loader> {
    loader: L,
    plugins: Vec<(String, L::Plugin)>,
    symbols: Vec<(String, Symbol)>,
}

fn observed(e: &Error) -> ObservedError {
    ObservedError {
        kind: e.kind().as_str().to_string(),
        message: e.to_string(),
        path: e.path().map(|p| p.display().to_string()),
        previous_failure: e.is_previous_failure(),
        differences: e.differences().iter().map(|d| d.item.to_string()).collect(),
    }
}

fn harness_error(e: impl std::fmt::Display) -> Observation {
    Observation {
        harness_error: Some(e.to_string()),
        ..Observation::default()
    }
}

impl<L: Loader> State<L> {
    fn plugin(&self, name: &str) -> Result<&L::Plugin, String> {
        self.plugins
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, p)| p)
            .ok_or_else(|| format!("no handle named {name:?}"))
    }

    fn symbol(&self, name: &str) -> Result<Symbol, String> {
        self.symbols
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, s)| *s)
            .ok_or_else(|| format!("no symbol named {name:?}"))
    }

    fn identical_to(&self, plugin: &L::Plugin) -> Vec<String> {
        let mut names: Vec<String> = self
            .plugins
            .iter()
            .filter(|(_, p)| p == plugin)
            .map(|(n, _)| n.clone())
            .collect();
        names.dedup();
        names
    }

    fn bind_plugin(&mut self, name: &Option<String>, plugin: L::Plugin) {
        if let Some(name) = name {
            self.plugins.retain(|(n, _)| n != name);
            self.plugins.push((name.clone(), plugin));
        }
    }

    fn step(&mut self, op: &Op) -> Observation {
        match self.try_step(op) {
            Ok(o) => o,
            Err(e) => harness_error(e),
        }
    }

    fn try_step(&mut self, op: &Op) -> Result<Observation, String> {
        Ok(match op {
            Op::Open { path, bind, .. } => {
                let path = path.as_deref().ok_or("open without a path")?;
                match self.loader.open(Path::new(path)) {
                    Ok(plugin) => {
                        let o = Observation {
                            identity: Some(plugin.identity().to_string()),
                            identical_to: self.identical_to(&plugin),
                            ..Observation::default()
                        };
                        self.bind_plugin(bind, plugin);
                        o
                    }
                    Err(e) => Observation {
                        error: Some(observed(&e)),
                        ..Observation::default()
                    },
                }
            }
            Op::OpenConcurrent {
                path,
                threads,
                bind,
                read_after,
                ..
            } => self.open_concurrent(
                path.as_deref().ok_or("open_concurrent without a path")?,
                *threads as usize,
                bind,
                read_after.as_deref(),
            )?,
            Op::OpenEach { paths } => self.open_each(paths),
            Op::Lookup {
                plugin,
                name,
                bind,
                kind,
                rust_type,
            } => {
                let plugin = self.plugin(plugin)?.clone();
                let counting = crate::child::alloc::is_counting();
                let before = crate::child::alloc::thread_allocations();
                let result = plugin.lookup(name);
                let allocations = crate::child::alloc::thread_allocations() - before;
                let result = result.and_then(|symbol| match rust_type {
                    None => Ok(symbol),
                    Some(ty) => {
                        let kind = kind.map(|k| k.symbol_kind()).unwrap_or_else(|| {
                            if ty.trim_start().starts_with("extern") {
                                SymbolKind::Function
                            } else {
                                SymbolKind::Variable
                            }
                        });
                        typed_check(&symbol, kind, ty).map(|()| symbol)
                    }
                });
                match result {
                    Ok(symbol) => {
                        let same_address_as = self
                            .symbols
                            .iter()
                            .filter(|(_, s)| s.address() == symbol.address())
                            .map(|(n, _)| n.clone())
                            .collect();
                        let name = bind.clone().unwrap_or_else(|| name.clone());
                        self.symbols.retain(|(n, _)| *n != name);
                        self.symbols.push((name, symbol));
                        Observation {
                            symbol: Some(ObservedSymbol {
                                kind: symbol.kind().as_str().to_string(),
                                rust_type: symbol.rust_type().to_string(),
                                same_address_as,
                                size: Some(symbol.size()),
                                align: Some(symbol.align()),
                            }),
                            allocations: counting.then_some(allocations),
                            ..Observation::default()
                        }
                    }
                    Err(e) => Observation {
                        error: Some(observed(&e)),
                        ..Observation::default()
                    },
                }
            }
            Op::Call { symbol, args } => Observation {
                value: call(&self.symbol(symbol)?, args)?,
                ..Observation::default()
            },
            Op::Read { symbol } => Observation {
                value: Some(read_variable(&self.symbol(symbol)?)?),
                ..Observation::default()
            },
            Op::Write {
                symbol,
                value,
                host_fn: returns,
            } => {
                let symbol = self.symbol(symbol)?;
                write_variable(&symbol, *value, *returns)?;
                Observation::default()
            }
            Op::Drop { handles } => {
                self.plugins.retain(|(n, _)| !handles.contains(n));
                Observation::default()
            }
            Op::Env { name, value } => {
                // SAFETY: the case format allows `env` only before the first loader operation,
                // and the driver runs steps on its main thread: no other thread of this
                // process exists yet that could read the environment concurrently.
                unsafe { std::env::set_var(name, value) };
                Observation::default()
            }
            Op::Mapped { path } => Observation {
                mapped: Some(is_mapped(Path::new(path))?),
                ..Observation::default()
            },
            Op::Global { name } => Observation {
                found: Some(resolves_globally(name)),
                ..Observation::default()
            },
            Op::InitLog {} => {
                let log = std::env::var_os(crate::protocol::INIT_LOG_ENV)
                    .ok_or("PLUGSPEC_INIT_LOG is not set")?;
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                Observation {
                    lines: Some(text.lines().map(str::to_string).collect()),
                    ..Observation::default()
                }
            }
            Op::Sleep { ms } => {
                std::thread::sleep(std::time::Duration::from_millis(*ms));
                Observation::default()
            }
            Op::Discover { dir, entry, kind } => {
                match plugspec::discovery::discover(
                    &self.loader,
                    Path::new(dir),
                    entry,
                    kind.symbol_kind(),
                ) {
                    Ok(found) => Observation {
                        loaded: Some(found.loaded.iter().map(|f| file_name(&f.path)).collect()),
                        skipped: Some(
                            found
                                .skipped
                                .iter()
                                .map(|s| ObservedSkip {
                                    file: file_name(&s.path),
                                    error: observed(&s.error),
                                })
                                .collect(),
                        ),
                        ..Observation::default()
                    },
                    Err(e) => Observation {
                        error: Some(observed(&e)),
                        ..Observation::default()
                    },
                }
            }
            Op::Inspect { path } => inspect(Path::new(path)),
            file_op => {
                crate::child::fileops::apply(file_op)?;
                Observation::default()
            }
        })
    }

    fn open_concurrent(
        &mut self,
        path: &str,
        threads: usize,
        bind: &Option<String>,
        read_after: Option<&str>,
    ) -> Result<Observation, String> {
        let barrier = Barrier::new(threads);
        let loader = &self.loader;
        type ThreadResult<P> = (Result<P, Error>, Option<Result<i32, String>>);
        let results: Vec<ThreadResult<L::Plugin>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        let result = loader.open(Path::new(path));
                        let read = match (&result, read_after) {
                            (Ok(p), Some(var)) => Some(
                                p.lookup(var)
                                    .map_err(|e| e.to_string())
                                    .and_then(|s| read_variable(&s)),
                            ),
                            _ => None,
                        };
                        (result, read)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        let first = results.iter().find_map(|(r, _)| r.as_ref().ok()).cloned();
        let mut observation = Observation::default();
        let mut per_thread = Vec::new();
        for (result, read) in &results {
            let read = match read {
                Some(Err(e)) => return Err(format!("read_after: {e}")),
                Some(Ok(v)) => Some(*v),
                None => None,
            };
            per_thread.push(ThreadObservation {
                error: result.as_ref().err().map(observed),
                read,
                same_as_first: matches!((result, &first), (Ok(p), Some(f)) if p == f),
            });
        }
        observation.error = per_thread.iter().find_map(|t| t.error.clone());
        if let Some(first) = first {
            observation.identity = Some(first.identity().to_string());
            observation.identical_to = self.identical_to(&first);
            self.bind_plugin(bind, first);
        }
        observation.threads = Some(per_thread);
        Ok(observation)
    }
}

impl<L: Loader> State<L> {
    /// `open_each`: one thread per path, released together, each opening its own path.
    fn open_each(&mut self, paths: &[String]) -> Observation {
        let barrier = Barrier::new(paths.len());
        let loader = &self.loader;
        let results: Vec<Result<L::Plugin, Error>> = std::thread::scope(|s| {
            let handles: Vec<_> = paths
                .iter()
                .map(|path| {
                    let barrier = &barrier;
                    s.spawn(move || {
                        barrier.wait();
                        loader.open(Path::new(path))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        let first = results.first().and_then(|r| r.as_ref().ok());
        let per_thread: Vec<ThreadObservation> = results
            .iter()
            .map(|result| ThreadObservation {
                error: result.as_ref().err().map(observed),
                read: None,
                same_as_first: matches!((result, first), (Ok(p), Some(f)) if p == f),
            })
            .collect();
        Observation {
            error: per_thread.iter().find_map(|t| t.error.clone()),
            threads: Some(per_thread),
            ..Observation::default()
        }
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

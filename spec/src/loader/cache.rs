//! The process-wide registry: one entry per resolved path, one owner per identity (rules
//! `OPEN-*`, `CACHE-*`, `INIT-*` on concurrency).
//!
//! An entry is *loading* (a thread is reading, mapping or initialising it), *ready* (the plugin)
//! or *failed* (a sticky failure). A thread that finds an entry loading waits until it is not —
//! unless waiting would close a cycle (the thread itself, or a thread waiting for it, is the
//! loader), which is a recursive open, reported instead of a deadlock.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::thread::ThreadId;

use super::LoadedPlugin;
use crate::error::Error;

enum Entry {
    Loading(ThreadId),
    Ready(LoadedPlugin),
    Failed(Error),
}

#[derive(Default)]
struct Registry {
    by_path: HashMap<PathBuf, Entry>,
    identities: HashMap<String, PathBuf>,
    waiting_for: HashMap<ThreadId, PathBuf>,
}

static REGISTRY: Mutex<Option<Registry>> = Mutex::new(None);
static CHANGED: Condvar = Condvar::new();

fn lock() -> MutexGuard<'static, Option<Registry>> {
    // A panic while the lock is held cannot leave the maps half-updated (every update is a
    // single insert or remove), so a poisoned lock is still usable.
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// What the caller of [`claim`] must do.
pub(crate) enum Claim {
    /// The path is loaded: here it is.
    Ready(LoadedPlugin),
    /// A sticky failure is cached for the path.
    Failed(Error),
    /// The caller now owns the entry and must load it, then call [`Loading::finish`].
    Load(Loading),
}

/// Ownership of a loading entry. Dropping it without `finish` (a bug or a panic in the loader)
/// removes the entry and wakes the waiters, so nobody waits forever.
pub(crate) struct Loading {
    path: Option<PathBuf>,
}

/// Claims `canonical` for the calling thread, waits while another thread loads it, or reports a
/// recursive open.
pub(crate) fn claim(given: &Path, canonical: &Path) -> Result<Claim, Error> {
    let me = std::thread::current().id();
    let mut guard = lock();
    loop {
        let registry = guard.get_or_insert_with(Registry::default);
        match registry.by_path.get(canonical) {
            None => {
                registry
                    .by_path
                    .insert(canonical.to_path_buf(), Entry::Loading(me));
                return Ok(Claim::Load(Loading {
                    path: Some(canonical.to_path_buf()),
                }));
            }
            Some(Entry::Ready(plugin)) => return Ok(Claim::Ready(*plugin)),
            Some(Entry::Failed(error)) => {
                return Ok(Claim::Failed(error.as_previous_failure(given)));
            }
            Some(Entry::Loading(owner)) => {
                if would_deadlock(registry, me, *owner) {
                    return Err(Error::recursive_open(given));
                }
                registry.waiting_for.insert(me, canonical.to_path_buf());
                guard = CHANGED.wait(guard).unwrap_or_else(|e| e.into_inner());
                if let Some(registry) = guard.as_mut() {
                    registry.waiting_for.remove(&me);
                }
            }
        }
    }
}

/// Whether `me` waiting for `owner` closes a cycle: `owner` is `me`, or `owner` waits (directly
/// or through others) for a path that `me` is loading.
fn would_deadlock(registry: &Registry, me: ThreadId, mut owner: ThreadId) -> bool {
    for _ in 0..=registry.waiting_for.len() {
        if owner == me {
            return true;
        }
        let Some(path) = registry.waiting_for.get(&owner) else {
            return false;
        };
        match registry.by_path.get(path) {
            Some(Entry::Loading(next)) => owner = *next,
            _ => return false,
        }
    }
    false
}

/// Reserves `identity` for `canonical`. Fails with the path that already owns it.
pub(crate) fn reserve_identity(identity: &str, canonical: &Path) -> Result<(), PathBuf> {
    let mut guard = lock();
    let registry = guard.get_or_insert_with(Registry::default);
    match registry.identities.get(identity) {
        Some(owner) if owner != canonical => Err(owner.clone()),
        Some(_) => Ok(()),
        None => {
            registry
                .identities
                .insert(identity.to_string(), canonical.to_path_buf());
            Ok(())
        }
    }
}

/// Gives up an identity reserved for `canonical` (after a failure that is not sticky, when the
/// plugin's code never ran).
pub(crate) fn release_identity(identity: &str, canonical: &Path) {
    let mut guard = lock();
    if let Some(registry) = guard.as_mut()
        && registry.identities.get(identity).map(PathBuf::as_path) == Some(canonical)
    {
        registry.identities.remove(identity);
    }
}

impl Loading {
    /// Records the outcome: a plugin, a sticky failure (kept for later opens), or a failure that
    /// is not sticky (the entry is removed so that a retry loads afresh). Wakes every waiter.
    pub(crate) fn finish(mut self, result: &Result<LoadedPlugin, Error>, keep_sticky: bool) {
        let Some(path) = self.path.take() else { return };
        let mut guard = lock();
        let registry = guard.get_or_insert_with(Registry::default);
        match result {
            Ok(plugin) => {
                registry.by_path.insert(path, Entry::Ready(*plugin));
            }
            Err(error) if keep_sticky && error.kind().is_sticky() => {
                registry.by_path.insert(path, Entry::Failed(error.clone()));
            }
            Err(_) => {
                registry.by_path.remove(&path);
            }
        }
        drop(guard);
        CHANGED.notify_all();
    }
}

impl Drop for Loading {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            let mut guard = lock();
            if let Some(registry) = guard.as_mut() {
                registry.by_path.remove(&path);
            }
            drop(guard);
            CHANGED.notify_all();
        }
    }
}

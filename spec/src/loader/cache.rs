//! The process-wide registry: one entry per resolved path, one owner per identity (rules
//! `OPEN-*`, `CACHE-*`, `INIT-*` on concurrency).
//!
//! An entry is *loading* (a thread is reading, mapping or initialising it), *ready* (the plugin)
//! or *failed* (a sticky failure). A thread that finds an entry loading waits until it is not —
//! unless waiting would close a cycle (the thread itself, or a thread waiting for it, is the
//! loader), which is a recursive open, reported instead of a deadlock.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::ThreadId;

use super::{UNKEYED, Unkeyed};

use super::LoadedPlugin;
use crate::error::Error;

enum Entry {
    Loading(ThreadId),
    Ready(LoadedPlugin),
    Failed(Error),
}

/// A resolved path's bytes: the registry's key. Hashed as bytes (a path hashes by its
/// components otherwise), and looked up with a borrowed `&[u8]`, so a cached open allocates
/// nothing. Shared, so that the entry, its [`Loading`] and a waiter hold one copy.
type PathKey = Arc<[u8]>;

struct Registry {
    by_path: HashMap<PathKey, Entry, Unkeyed>,
    identities: HashMap<String, PathBuf, Unkeyed>,
    waiting_for: HashMap<ThreadId, PathKey, Unkeyed>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    by_path: HashMap::with_hasher(UNKEYED),
    identities: HashMap::with_hasher(UNKEYED),
    waiting_for: HashMap::with_hasher(UNKEYED),
});
static CHANGED: Condvar = Condvar::new();

fn key(path: &Path) -> &[u8] {
    path.as_os_str().as_encoded_bytes()
}

fn lock() -> MutexGuard<'static, Registry> {
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
    path: Option<PathKey>,
}

/// Claims `canonical` for the calling thread, waits while another thread loads it, or reports a
/// recursive open. A plugin already loaded (OPEN-2) costs one lock and one hash lookup, and no
/// allocation.
pub(crate) fn claim(given: &Path, canonical: &Path) -> Result<Claim, Error> {
    let canonical = key(canonical);
    let mut guard = lock();
    loop {
        let registry = &mut *guard;
        match registry.by_path.get(canonical) {
            None => {
                let me = std::thread::current().id();
                let path = PathKey::from(canonical);
                registry
                    .by_path
                    .insert(Arc::clone(&path), Entry::Loading(me));
                return Ok(Claim::Load(Loading { path: Some(path) }));
            }
            // OPEN-2: one resolved path, one plugin.
            Some(Entry::Ready(plugin)) => return Ok(Claim::Ready(*plugin)),
            // CACHE-3: a remembered refusal, marked `(previous failure)`.
            Some(Entry::Failed(error)) => {
                return Ok(Claim::Failed(error.as_previous_failure(given)));
            }
            Some(Entry::Loading(owner)) => {
                let me = std::thread::current().id();
                // INIT-8: a wait that would close a cycle is a recursive open, not a deadlock.
                if would_deadlock(registry, me, *owner) {
                    return Err(Error::recursive_open(given));
                }
                // INIT-4: concurrent opens of one path wait for the one init.
                registry.waiting_for.insert(me, canonical.into());
                guard = CHANGED.wait(guard).unwrap_or_else(|e| e.into_inner());
                guard.waiting_for.remove(&me);
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
        match registry.by_path.get(&**path) {
            Some(Entry::Loading(next)) => owner = *next,
            _ => return false,
        }
    }
    false
}

/// Reserves `identity` for `canonical`. Fails with the path that already owns it.
pub(crate) fn reserve_identity(identity: &str, canonical: &Path) -> Result<(), PathBuf> {
    let mut guard = lock();
    let registry = &mut *guard;
    match registry.identities.get(identity) {
        // OPEN-3: an identity loads once; OPEN-7: a copy at another path is not the same path.
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
    // CACHE-4: a failed plugin's identity is free for the next one.
    if guard.identities.get(identity).map(PathBuf::as_path) == Some(canonical) {
        guard.identities.remove(identity);
    }
}

impl Loading {
    /// Records the outcome: a plugin, a sticky failure (kept for later opens), or a failure that
    /// is not sticky (the entry is removed so that a retry loads afresh). Wakes every waiter.
    pub(crate) fn finish(mut self, result: &Result<LoadedPlugin, Error>, keep_sticky: bool) {
        let Some(path) = self.path.take() else { return };
        let mut guard = lock();
        let registry = &mut *guard;
        match result {
            Ok(plugin) => {
                registry.by_path.insert(path, Entry::Ready(*plugin));
            }
            // CACHE-3: refusals after reading the file are remembered.
            Err(error) if keep_sticky && error.kind().is_sticky() => {
                registry.by_path.insert(path, Entry::Failed(error.clone()));
            }
            // CACHE-1, CACHE-2: the rest are forgotten; the next open looks again.
            Err(_) => {
                registry.by_path.remove(&path);
            }
        }
        wake_waiters(guard);
    }
}

/// Releases the lock and wakes the threads waiting for an entry to change, if there are any:
/// every waiter is in `waiting_for` from before it waits until it holds the lock again, so an
/// empty map means nobody to wake (and no system call).
fn wake_waiters(guard: MutexGuard<'static, Registry>) {
    let waiters = !guard.waiting_for.is_empty();
    drop(guard);
    if waiters {
        CHANGED.notify_all();
    }
}

impl Drop for Loading {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            let mut guard = lock();
            guard.by_path.remove(&path);
            wake_waiters(guard);
        }
    }
}

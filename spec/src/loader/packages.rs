//! Packages only plugins share (rule VER-12): the first plugin that declares a shared package
//! the host does not declare fixes its version and build record for the process; a later
//! plugin that declares it differently is refused, naming the plugin it disagrees with.
//!
//! Entries are taken before the plugin is mapped (so that two plugins opened at the same time
//! cannot both take a package with different records) and given back when the open fails before
//! init; a plugin whose init ran keeps them, as it stays mapped (UNLOAD-2).

use std::collections::HashMap;
use std::sync::Mutex;

use crate::error::Difference;
use crate::fingerprint::{Fingerprint, FingerprintItem, HostConfig};

/// One package's record as the first plugin declared it.
struct Claim {
    /// `version #record`.
    record: String,
    /// The identity of the plugin that declared it first.
    identity: String,
    /// How many loads hold the claim (loaded plugins and opens in progress).
    holders: usize,
}

// Unkeyed: its keys are names of packages whose plugins passed the fingerprint check.
static CLAIMS: Mutex<Option<HashMap<String, Claim, super::Unkeyed>>> = Mutex::new(None);

fn record(version: &str, hash: &str) -> String {
    format!("{version} #{hash}")
}

/// Checks every package the plugin `identity` declares and the host does not against the
/// plugins loaded before it, and claims them. Returns the names claimed (to [`release`] if the
/// open fails), or every disagreement (VER-12, named like VER-3's differences).
pub(super) fn claim(
    identity: &str,
    plugin: &Fingerprint<'_>,
    host: &HostConfig,
) -> Result<Vec<String>, Vec<Difference>> {
    let own: Vec<_> = plugin
        .packages
        .iter()
        .filter(|p| !host.packages.iter().any(|h| h.name == p.name))
        .collect();
    if own.is_empty() {
        return Ok(Vec::new());
    }
    let mut guard = CLAIMS.lock().unwrap_or_else(|e| e.into_inner());
    let claims = guard.get_or_insert_with(HashMap::default);
    let differences: Vec<Difference> = own
        .iter()
        .filter_map(|p| {
            let claim = claims.get(p.name)?;
            let mine = record(p.version, p.hash);
            (claim.record != mine).then(|| Difference {
                item: FingerprintItem::PackageOfPlugin {
                    package: p.name.to_string(),
                    plugin: claim.identity.clone(),
                },
                plugin: mine,
                host: claim.record.clone(),
            })
        })
        .collect();
    if !differences.is_empty() {
        return Err(differences);
    }
    let mut names = Vec::with_capacity(own.len());
    for p in own {
        claims
            .entry(p.name.to_string())
            .or_insert_with(|| Claim {
                record: record(p.version, p.hash),
                identity: identity.to_string(),
                holders: 0,
            })
            .holders += 1;
        names.push(p.name.to_string());
    }
    Ok(names)
}

/// Gives back the claims of an open that failed before the plugin's init ran.
pub(super) fn release(names: &[String]) {
    if names.is_empty() {
        return;
    }
    let mut guard = CLAIMS.lock().unwrap_or_else(|e| e.into_inner());
    let Some(claims) = guard.as_mut() else { return };
    for name in names {
        if let Some(claim) = claims.get_mut(name) {
            claim.holders -= 1;
            if claim.holders == 0 {
                claims.remove(name);
            }
        }
    }
}

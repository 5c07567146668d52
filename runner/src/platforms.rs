//! Where a case applies: the `platforms` field of a case and of a known failure.
//!
//! A platform entry is `loading` (a platform that loads plugins, PLAT-1), `refusing` (one that
//! refuses them, PLAT-2), `any`, an OS family name of [`plugspec::platform::OsFamily`]
//! (`linux`, `macos`, `freebsd`, `windows`, `wasm`, `ios`, `android`, `other`), or a full target
//! triple. A case without `platforms` applies where plugins load if any step opens a plugin,
//! and everywhere otherwise.

use plugspec::platform::{OsFamily, Platform};

/// Whether `name` is a platform entry this module understands.
pub fn is_known(name: &str) -> bool {
    matches!(name, "loading" | "refusing" | "any")
        || OsFamily::ALL.iter().any(|f| f.as_str() == name)
        || name.split('-').count() >= 2
}

/// Whether one entry matches `platform`.
pub fn matches(name: &str, platform: &Platform) -> bool {
    match name {
        "any" => true,
        "loading" => platform.loads_plugins,
        "refusing" => !platform.loads_plugins,
        _ => platform.os.as_str() == name || platform.target == name,
    }
}

/// `Ok` when a case with these `platforms` (and loader steps or not) runs on `platform`, else
/// the reason it is ignored.
pub fn applies(platforms: &[String], loads: bool, platform: &Platform) -> Result<(), String> {
    if platforms.is_empty() {
        if loads && !platform.loads_plugins {
            return Err(format!(
                "needs a platform that loads plugins; {} refuses them (PLAT-2)",
                platform.target
            ));
        }
        return Ok(());
    }
    if platforms.iter().any(|p| matches(p, platform)) {
        Ok(())
    } else {
        Err(format!(
            "applies to {} only; this is {}",
            platforms.join(", "),
            platform.target
        ))
    }
}

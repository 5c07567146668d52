//! Which targets load plugins (rules `PLAT-*`).
//!
//! Go's `plugin` package works on Linux, macOS and FreeBSD and answers `plugin: not
//! implemented` everywhere else. plugspec keeps that set:
//!
//! * **PLAT-1** Linux, macOS and FreeBSD load plugins, through `dlopen`, on every
//!   architecture (**PLAT-1.a**: wider than Go, which builds no plugins for linux/riscv64,
//!   linux/mips64le or freebsd/arm64).
//! * **PLAT-2** Windows (MSVC, MinGW `windows-gnu`/`windows-gnullvm`, UWP, Win7, and Cygwin),
//!   WebAssembly (`wasm32`/`wasm64` on any OS: `unknown`, WASI, Emscripten, WALI),
//!   iOS and its siblings (tvOS, watchOS, visionOS, the simulators, and Mac Catalyst
//!   `-ios-macabi`), Android (whose triples contain `linux`: `*-linux-android*`), and every
//!   other OS (NetBSD, OpenBSD, DragonFly, illumos/Solaris, Fuchsia, Redox, Haiku, Hurd, QNX,
//!   AIX, VxWorks, ESP-IDF, Horizon, UEFI, bare metal `-none`, ...) refuse at run time with an
//!   *unsupported platform* error. The crate still compiles there; only opening a plugin
//!   fails.
//! * **PLAT-1.b** musl Linux (`*-linux-musl*`) loads plugins: musl's `dlopen` works in a
//!   dynamically linked host. A host linked statically (Rust's musl default,
//!   `+crt-static`) cannot `dlopen`; that surfaces as the dynamic loader's own refusal when a
//!   plugin is opened, not as an unsupported platform. uClibc Linux loads plugins likewise.
//! * **PLAT-2.a** Two Linux-kernel targets refuse, by judgment: OpenHarmony (`*-linux-ohos`) is
//!   its own app-sandboxed OS, like Android, that plugspec does not support, and
//!   `*-linux-none` has no C library and so no dynamic loader. Both classify as
//!   [`OsFamily::Other`].
//!
//! Classification reads the target triple's text only ([`classify`]); [`current`] classifies
//! the triple this crate was built for, and [`CURRENT_LOADS`] is the same answer taken from
//! `cfg`. Invariant: a platform loads plugins exactly when its family is
//! [`OsFamily::Linux`], [`OsFamily::MacOs`] or [`OsFamily::FreeBsd`].

use std::sync::OnceLock;

/// Operating-system family as far as plugin loading cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OsFamily {
    /// Linux with a C library (glibc, musl, uClibc), Android and OpenHarmony excluded.
    Linux,
    /// macOS (`*-apple-darwin`).
    MacOs,
    /// FreeBSD.
    FreeBsd,
    /// Windows, including MinGW, UWP and Cygwin.
    Windows,
    /// WebAssembly on any OS.
    Wasm,
    /// iOS, tvOS, watchOS, visionOS and Mac Catalyst.
    Ios,
    /// Android.
    Android,
    /// Any other OS, bare metal included.
    Other,
}

impl OsFamily {
    /// Every family, in declaration order.
    pub const ALL: [OsFamily; 8] = [
        OsFamily::Linux,
        OsFamily::MacOs,
        OsFamily::FreeBsd,
        OsFamily::Windows,
        OsFamily::Wasm,
        OsFamily::Ios,
        OsFamily::Android,
        OsFamily::Other,
    ];

    /// The stable lowercase name: `linux`, `macos`, `freebsd`, `windows`, `wasm`, `ios`,
    /// `android` or `other`.
    pub const fn as_str(self) -> &'static str {
        match self {
            OsFamily::Linux => "linux",
            OsFamily::MacOs => "macos",
            OsFamily::FreeBsd => "freebsd",
            OsFamily::Windows => "windows",
            OsFamily::Wasm => "wasm",
            OsFamily::Ios => "ios",
            OsFamily::Android => "android",
            OsFamily::Other => "other",
        }
    }

    /// Whether plugins load on this family (PLAT-1).
    pub const fn loads_plugins(self) -> bool {
        matches!(self, OsFamily::Linux | OsFamily::MacOs | OsFamily::FreeBsd)
    }

    /// The extension of the family's native shared libraries, without the dot: `so` (Linux,
    /// FreeBSD, Android), `dylib` (macOS, iOS), `dll` (Windows), `wasm` (WebAssembly), or `""`
    /// for [`OsFamily::Other`], which has no single convention.
    pub const fn library_extension(self) -> &'static str {
        match self {
            OsFamily::Linux | OsFamily::FreeBsd | OsFamily::Android => "so",
            OsFamily::MacOs | OsFamily::Ios => "dylib",
            OsFamily::Windows => "dll",
            OsFamily::Wasm => "wasm",
            OsFamily::Other => "",
        }
    }
}

/// A target as far as plugin loading cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Platform {
    /// The target triple that was classified, such as `x86_64-unknown-linux-gnu`.
    pub target: &'static str,
    /// The operating-system family.
    pub os: OsFamily,
    /// Whether plugins load here; when false, opening a plugin fails with an unsupported
    /// platform error.
    pub loads_plugins: bool,
    /// Native shared-library extension without the dot: `so`, `dylib`, `dll`, `wasm`, or `""`
    /// (see [`OsFamily::library_extension`]).
    pub library_extension: &'static str,
}

impl Platform {
    /// One sentence: why this platform refuses plugins, or, where it loads them,
    /// `plugins load through dlopen`.
    pub fn reason(&self) -> &'static str {
        match self.os {
            OsFamily::Linux | OsFamily::MacOs | OsFamily::FreeBsd => "plugins load through dlopen",
            OsFamily::Windows if has_component(self.target, "cygwin") => {
                "Cygwin runs on Windows, which has no dlopen-style loader plugspec supports"
            }
            OsFamily::Windows => "Windows has no dlopen-style loader plugspec supports",
            OsFamily::Wasm => "WebAssembly has no dynamic loader",
            OsFamily::Ios => "iOS forbids loading code that is not signed into the app bundle",
            OsFamily::Android => {
                "Android only loads native code packaged with the app, which plugspec does not support"
            }
            OsFamily::Other if is_linux_without_libc(self.target) => {
                "Linux without a C library has no dynamic loader"
            }
            OsFamily::Other => "plugspec loads plugins on Linux, macOS and FreeBSD only",
        }
    }
}

/// Classifies a target triple (lowercase) from its text alone.
pub fn classify(target: &'static str) -> Platform {
    let os = os_family(target);
    Platform {
        target,
        os,
        loads_plugins: os.loads_plugins(),
        library_extension: os.library_extension(),
    }
}

/// The platform this crate was compiled for: the `PLUGSPEC_TARGET` triple set by the crate's
/// build script, or, when the file is compiled without it, a triple built from `cfg` whose
/// architecture part is [`std::env::consts::ARCH`].
pub fn current() -> Platform {
    classify(option_env!("PLUGSPEC_TARGET").unwrap_or_else(fallback_target))
}

/// Whether the platform this crate was compiled for loads plugins, from `cfg` alone; always
/// equal to `current().loads_plugins`.
pub const CURRENT_LOADS: bool = cfg!(all(
    any(
        target_os = "linux",
        target_os = "macos",
        target_os = "freebsd"
    ),
    not(target_family = "wasm"),
    not(target_env = "ohos"),
    not(all(target_os = "linux", target_env = "")),
));

/// The conventional file name of a plugin library called `stem`: `libfoo.so`, `libfoo.dylib`,
/// `foo.dll` or `foo.wasm`; `stem` unchanged where the platform has no convention
/// ([`OsFamily::Other`]).
pub fn library_file_name(stem: &str, platform: &Platform) -> String {
    match (platform.os, platform.library_extension) {
        (_, "") => stem.to_string(),
        (OsFamily::Windows | OsFamily::Wasm, ext) => format!("{stem}.{ext}"),
        (_, ext) => format!("lib{stem}.{ext}"),
    }
}

fn has_component(target: &str, name: &str) -> bool {
    target.split('-').any(|c| c == name)
}

fn is_linux_without_libc(target: &str) -> bool {
    has_component(target, "linux") && target.ends_with("-none")
}

fn os_family(t: &str) -> OsFamily {
    let parts: Vec<&str> = t.split('-').collect();
    let any = |f: &dyn Fn(&str) -> bool| parts.iter().skip(1).any(|c| f(c));
    if parts[0].starts_with("wasm")
        || any(&|c| c.starts_with("wasi") || c == "emscripten" || c == "wali")
    {
        OsFamily::Wasm
    } else if any(&|c| c.starts_with("windows") || c == "cygwin" || c.starts_with("mingw")) {
        OsFamily::Windows
    } else if any(&|c| c.starts_with("android")) {
        OsFamily::Android
    } else if any(&|c| {
        ["ios", "tvos", "watchos", "visionos", "xros"]
            .iter()
            .any(|os| c.starts_with(os))
    }) {
        OsFamily::Ios
    } else if any(&|c| c.starts_with("darwin") || c.starts_with("macos")) {
        OsFamily::MacOs
    } else if any(&|c| c.starts_with("freebsd")) {
        OsFamily::FreeBsd
    } else if has_component(t, "linux") {
        if any(&|c| c.starts_with("ohos")) || is_linux_without_libc(t) {
            OsFamily::Other
        } else {
            OsFamily::Linux
        }
    } else {
        OsFamily::Other
    }
}

/// A triple for the compiling target, built from `cfg`; used when `PLUGSPEC_TARGET` is unset.
fn fallback_target() -> &'static str {
    static TARGET: OnceLock<String> = OnceLock::new();
    TARGET.get_or_init(|| {
        let arch = std::env::consts::ARCH;
        let os = std::env::consts::OS;
        let env = if cfg!(target_env = "gnu") {
            "gnu"
        } else if cfg!(target_env = "msvc") {
            "msvc"
        } else if cfg!(target_env = "musl") {
            "musl"
        } else if cfg!(target_env = "uclibc") {
            "uclibc"
        } else if cfg!(target_env = "ohos") {
            "ohos"
        } else {
            "none"
        };
        match os {
            "linux" => format!("{arch}-unknown-linux-{env}"),
            "android" => format!("{arch}-linux-android"),
            "macos" => format!("{arch}-apple-darwin"),
            "ios" | "tvos" | "watchos" | "visionos" => format!("{arch}-apple-{os}"),
            "windows" => format!("{arch}-pc-windows-{env}"),
            "" => format!("{arch}-unknown-unknown"),
            _ => format!("{arch}-unknown-{os}"),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &[(&str, OsFamily, bool, &str)] = &[
        ("x86_64-unknown-linux-gnu", OsFamily::Linux, true, "so"),
        ("aarch64-unknown-linux-musl", OsFamily::Linux, true, "so"),
        ("i686-unknown-linux-gnu", OsFamily::Linux, true, "so"),
        ("riscv64gc-unknown-linux-gnu", OsFamily::Linux, true, "so"),
        ("armv7-unknown-linux-gnueabihf", OsFamily::Linux, true, "so"),
        ("mips-unknown-linux-uclibc", OsFamily::Linux, true, "so"),
        ("x86_64-apple-darwin", OsFamily::MacOs, true, "dylib"),
        ("aarch64-apple-darwin", OsFamily::MacOs, true, "dylib"),
        ("x86_64-unknown-freebsd", OsFamily::FreeBsd, true, "so"),
        ("x86_64-pc-windows-msvc", OsFamily::Windows, false, "dll"),
        ("x86_64-pc-windows-gnu", OsFamily::Windows, false, "dll"),
        ("aarch64-pc-windows-msvc", OsFamily::Windows, false, "dll"),
        ("x86_64-pc-cygwin", OsFamily::Windows, false, "dll"),
        ("wasm32-unknown-unknown", OsFamily::Wasm, false, "wasm"),
        ("wasm32-wasip1", OsFamily::Wasm, false, "wasm"),
        ("wasm32-wasip2", OsFamily::Wasm, false, "wasm"),
        ("wasm32-unknown-emscripten", OsFamily::Wasm, false, "wasm"),
        ("wasm32-wali-linux-musl", OsFamily::Wasm, false, "wasm"),
        ("wasm64-unknown-unknown", OsFamily::Wasm, false, "wasm"),
        ("aarch64-apple-ios", OsFamily::Ios, false, "dylib"),
        ("aarch64-apple-ios-sim", OsFamily::Ios, false, "dylib"),
        ("x86_64-apple-ios-macabi", OsFamily::Ios, false, "dylib"),
        ("aarch64-apple-tvos", OsFamily::Ios, false, "dylib"),
        ("aarch64-apple-watchos", OsFamily::Ios, false, "dylib"),
        ("aarch64-apple-visionos", OsFamily::Ios, false, "dylib"),
        ("aarch64-linux-android", OsFamily::Android, false, "so"),
        ("armv7-linux-androideabi", OsFamily::Android, false, "so"),
        ("x86_64-linux-android", OsFamily::Android, false, "so"),
        ("x86_64-unknown-netbsd", OsFamily::Other, false, ""),
        ("x86_64-unknown-openbsd", OsFamily::Other, false, ""),
        ("x86_64-unknown-illumos", OsFamily::Other, false, ""),
        ("thumbv7em-none-eabihf", OsFamily::Other, false, ""),
        ("x86_64-unknown-uefi", OsFamily::Other, false, ""),
        ("x86_64-unknown-fuchsia", OsFamily::Other, false, ""),
        ("x86_64-unknown-redox", OsFamily::Other, false, ""),
        ("aarch64-unknown-linux-ohos", OsFamily::Other, false, ""),
        ("x86_64-unknown-linux-none", OsFamily::Other, false, ""),
        ("riscv32imc-esp-espidf", OsFamily::Other, false, ""),
        ("armv6k-nintendo-3ds", OsFamily::Other, false, ""),
        ("x86_64-unknown-dragonfly", OsFamily::Other, false, ""),
    ];

    #[test]
    fn representative_triples() {
        for &(target, os, loads, ext) in TABLE {
            let p = classify(target);
            assert_eq!(
                (p.target, p.os, p.loads_plugins, p.library_extension),
                (target, os, loads, ext),
                "{target}"
            );
        }
    }

    #[test]
    fn loads_exactly_on_linux_macos_freebsd() {
        for &(target, ..) in TABLE {
            let p = classify(target);
            assert_eq!(p.loads_plugins, p.os.loads_plugins(), "{target}");
            assert_eq!(
                p.loads_plugins,
                matches!(p.os, OsFamily::Linux | OsFamily::MacOs | OsFamily::FreeBsd),
                "{target}"
            );
        }
    }

    #[test]
    fn reasons() {
        let r = |t| classify(t).reason();
        assert_eq!(r("x86_64-unknown-linux-gnu"), "plugins load through dlopen");
        assert_eq!(r("aarch64-apple-darwin"), "plugins load through dlopen");
        assert_eq!(r("x86_64-unknown-freebsd"), "plugins load through dlopen");
        assert_eq!(
            r("x86_64-pc-windows-msvc"),
            "Windows has no dlopen-style loader plugspec supports"
        );
        assert!(r("x86_64-pc-cygwin").starts_with("Cygwin"));
        assert_eq!(r("wasm32-wasip2"), "WebAssembly has no dynamic loader");
        assert_eq!(
            r("aarch64-apple-ios"),
            "iOS forbids loading code that is not signed into the app bundle"
        );
        assert!(r("aarch64-linux-android").starts_with("Android"));
        assert_eq!(
            r("x86_64-unknown-netbsd"),
            "plugspec loads plugins on Linux, macOS and FreeBSD only"
        );
        assert_eq!(
            r("aarch64-unknown-linux-ohos"),
            "plugspec loads plugins on Linux, macOS and FreeBSD only"
        );
        assert_eq!(
            r("x86_64-unknown-linux-none"),
            "Linux without a C library has no dynamic loader"
        );
        for &(target, ..) in TABLE {
            let reason = classify(target).reason();
            assert!(reason.len() > 10 && !reason.ends_with('.'), "{target}");
        }
    }

    #[test]
    fn family_names() {
        let names: Vec<&str> = OsFamily::ALL.iter().map(|f| f.as_str()).collect();
        assert_eq!(
            names,
            [
                "linux", "macos", "freebsd", "windows", "wasm", "ios", "android", "other"
            ]
        );
    }

    #[test]
    fn file_names() {
        let name = |t| library_file_name("foo", &classify(t));
        assert_eq!(name("x86_64-unknown-linux-gnu"), "libfoo.so");
        assert_eq!(name("x86_64-unknown-freebsd"), "libfoo.so");
        assert_eq!(name("aarch64-apple-darwin"), "libfoo.dylib");
        assert_eq!(name("aarch64-apple-ios"), "libfoo.dylib");
        assert_eq!(name("aarch64-linux-android"), "libfoo.so");
        assert_eq!(name("x86_64-pc-windows-msvc"), "foo.dll");
        assert_eq!(name("wasm32-wasip1"), "foo.wasm");
        assert_eq!(name("x86_64-unknown-netbsd"), "foo");
    }

    #[test]
    fn current_agrees_with_cfg() {
        assert_eq!(
            current().loads_plugins,
            CURRENT_LOADS,
            "{}",
            current().target
        );
        assert_eq!(classify(fallback_target()).loads_plugins, CURRENT_LOADS);
        assert_eq!(
            classify(fallback_target()).os,
            current().os,
            "{} vs {}",
            fallback_target(),
            current().target
        );
        if cfg!(all(target_os = "linux", target_env = "gnu")) {
            assert_eq!(current().os, OsFamily::Linux);
            assert!(current().loads_plugins);
        }
    }
}

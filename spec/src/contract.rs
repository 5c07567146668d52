//! The loader contract: what any implementation provides (rules `API-*`, `LOOKUP-*`).
//!
//! A loader has two operations, as Go's `plugin` package: [`Loader::open`] by path and
//! [`Plugin::lookup`] by name. There is no close, no unload and no listing of symbols.
//!
//! A [`Symbol`] is either a function (its address is the function) or a variable (its address
//! points into the plugin's own storage). Because nothing is ever unloaded, a symbol stays valid
//! for the life of the process, so typed lookups hand out `'static` function pointers and
//! `&'static` references.

use std::fmt;
use std::path::Path;

use crate::error::Error;
use crate::fingerprint::HostConfig;
use crate::symbol_info::{SymbolInfo, SymbolSource, SymbolValues};

/// A plugin loader: the thing under test.
///
/// Implementations are process-global in effect (the operating system's loader is), so a test
/// runs each case in its own process.
pub trait Loader: Send + Sync + 'static {
    /// The handle `open` returns.
    type Plugin: Plugin;

    /// Builds a loader for a host with this configuration (the shared packages it was built
    /// with, the API version it requires, the build ID it pins).
    fn with_host(host: HostConfig) -> Self
    where
        Self: Sized;

    /// Opens the plugin at `path`: resolve, check, map, initialise (once per process), and
    /// return it. A second open of the same resolved path returns the same plugin.
    ///
    /// # The contract, step by step
    ///
    /// What the conformance suite expects of `open`, in order; each step names the rules of
    /// SPEC.md it satisfies and the [`ErrorKind`](crate::ErrorKind) each failure gets. Every error carries the
    /// path as given (ERR-2). "Cached" failures are remembered for the resolved path and
    /// returned again at once with ` (previous failure)` (CACHE-3); the others are not, so a
    /// retry looks again (CACHE-1, CACHE-2). No failure affects another path (CACHE-4).
    ///
    /// 1. **Platform** — where plugins do not load, refuse at once (PLAT-1, PLAT-2):
    ///    `unsupported_platform`.
    /// 2. **Resolve** the path (relative, `..`, symlinks) to a canonical absolute path before
    ///    anything else (OPEN-1): empty, NUL byte, missing, dangling or looping →
    ///    `not_found`.
    /// 3. **Cache by resolved path** — a loaded plugin is returned as is, without reading the
    ///    file again (OPEN-2, OPEN-7, API-2, INIT-3); a cached failure is returned again
    ///    (CACHE-3); a thread that finds another one loading the path waits for it (INIT-4); an
    ///    open that would wait for itself through a chain of inits fails (INIT-8):
    ///    `recursive_open`.
    /// 4. **Regular file** — a directory, FIFO, socket or device is refused without reading from
    ///    it, so `open` never blocks (OPEN-6): `not_a_plugin`; permission denied or a read
    ///    error: `io`.
    /// 5. **Read the manifest from the file**, without mapping it (INIT-9, VER-8): with bounded
    ///    reads, the ELF or Mach-O section `.plugspec` / `__DATA,__plugspec`; an empty, text or
    ///    non-object file, an executable, a library without the section (VER-6), a corrupt
    ///    manifest (VER-7), or an object file for another machine, class or byte order (ERR-4)
    ///    → `not_a_plugin`. Never a panic or an out-of-bounds read (ERR-4).
    /// 6. **ABI version** of the manifest: one this loader does not read (VER-5) →
    ///    `incompatible_abi`, cached.
    /// 7. **Fingerprint** against the host's [`HostConfig`]: toolchain, target, target features,
    ///    panic strategy, shared packages both sides declare, the required API version and the
    ///    pinned build ID (VER-1 to VER-4, VER-9, VER-10) → `version_mismatch` naming *every*
    ///    difference (VER-3), cached.
    /// 8. **Identity** — another file whose identity is already loaded, a byte copy or a hard
    ///    link (OPEN-3, OPEN-5) → `already_loaded`, cached; the loaded plugin is unaffected.
    ///    Distinct identities with the same file name load independently (OPEN-4).
    /// 9. **Map** the library without running constructors of its own, with local symbol
    ///    binding (`RTLD_LOCAL`: same names in two plugins never conflict, LOOKUP-6), and never
    ///    unmap it, not even after a later failure (UNLOAD-1, UNLOAD-2): the operating system's
    ///    refusal → `io`, not cached, and the identity is free again.
    /// 10. **Descriptor check** — the mapped library's descriptor (symbol `PLUGSPEC_PLUGIN`)
    ///     must describe the manifest read in step 5 (same bytes, one export per symbol, init
    ///     present exactly when declared) → else `not_a_plugin`. The symbol table is the
    ///     manifest's exports only (LOOKUP-4).
    /// 11. **Init** — call the plugin's declared init entry, never a constructor (INIT-1),
    ///     synchronously on the calling thread before `open` returns (INIT-2), once per process
    ///     (INIT-3), with a host context through which it may open other plugins (INIT-7); a
    ///     panic is caught → `init_panicked` with the panic message, cached (INIT-5). No entry of
    ///     a plugin refused in steps 4–10 is ever called (INIT-6).
    /// 12. **Record** the plugin (or the cached failure) for the resolved path and wake every
    ///     thread waiting on it (INIT-4, API-3).
    ///
    /// `lookup` then finds only the manifest's exports, spelled exactly (LOOKUP-4) →
    /// `symbol_not_found` in Go's wording (ERR-3); functions and variables come back as
    /// themselves (LOOKUP-1 to LOOKUP-3), a hit allocates nothing (LOOKUP-7), and nothing is
    /// unloaded when handles drop (UNLOAD-1, UNLOAD-3, UNLOAD-4). The reference loader
    /// (`plugspec::ReferenceLoader`) follows these steps in this order.
    fn open(&self, path: &Path) -> Result<Self::Plugin, Error>;
}

/// An opened plugin. Clones are the same plugin; `==` compares identity (the same loaded plugin),
/// never contents.
pub trait Plugin: Clone + PartialEq + fmt::Debug + Send + Sync + 'static {
    /// The identity the plugin declared in its manifest (Go: the plugin path).
    fn identity(&self) -> &str;

    /// Looks up an exported symbol by its exact name.
    fn lookup(&self, name: &str) -> Result<Symbol, Error>;
}

/// Whether a symbol is a function or a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SymbolKind {
    /// An `extern "C"` function; the symbol's address is the function.
    Function,
    /// A variable; the symbol's address points at the plugin's own storage.
    Variable,
}

impl SymbolKind {
    /// `function` or `variable`.
    pub const fn as_str(self) -> &'static str {
        match self {
            SymbolKind::Function => "function",
            SymbolKind::Variable => "variable",
        }
    }
}

impl fmt::Display for SymbolKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A looked-up symbol: its name, kind, declared Rust type and address.
///
/// The address is valid for the life of the process (plugins are never unloaded). A `Symbol`
/// is two words: a pointer to what its plugin's symbols share, which lives as long as the
/// process, and where its own record lies in it, so that a lookup returns it as cheaply as a map
/// returns a reference; two symbols are equal when every value they give is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Symbol {
    info: SymbolInfo,
}

// Two words, returned in registers: a lookup returns a `Symbol` as cheaply as a map returns a
// reference.
const _: () = assert!(size_of::<Symbol>() == 2 * size_of::<*const ()>());
// Symbols are handed between threads.
const _: () = {
    const fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<Symbol>()
};

impl fmt::Debug for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.info.fmt(f)
    }
}

/// The records [`Symbol::new`] made, so that equal arguments share one record: a loader that
/// makes its symbols at every lookup does not grow the process.
static INTERNED: std::sync::LazyLock<
    std::sync::Mutex<std::collections::HashMap<SymbolValues, &'static SymbolSource>>,
> = std::sync::LazyLock::new(Default::default);

impl Symbol {
    /// The symbol `info` describes.
    #[cfg(feature = "loader")]
    #[inline]
    pub(crate) const fn from_info(info: SymbolInfo) -> Symbol {
        Symbol { info }
    }

    /// The symbol of `values`: its interned record, made (kept for the life of the process) the
    /// first time these values are seen.
    fn interned(values: SymbolValues) -> Symbol {
        let mut known = INTERNED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let source = *known
            .entry(values)
            .or_insert_with(|| SymbolSource::given(&values));
        Symbol {
            info: SymbolInfo::owned(source),
        }
    }

    /// A symbol record. Loaders build these from a plugin's manifest.
    ///
    /// The record is interned: the first call with these values makes it (a few allocations,
    /// kept for the life of the process, as the plugin's code is); later calls with the same
    /// values return it without allocating. Build a plugin's symbols when it loads and hand out
    /// copies.
    ///
    /// # Safety
    /// `address` must be, for the life of the process, the address of a function of type
    /// `rust_type` (for [`SymbolKind::Function`]) or of storage of type `rust_type` with `size`
    /// and `align` that may be written through (for [`SymbolKind::Variable`]).
    pub unsafe fn new(
        identity: &'static str,
        name: &'static str,
        kind: SymbolKind,
        rust_type: &'static str,
        size: usize,
        align: usize,
        address: *mut (),
    ) -> Symbol {
        Symbol::interned(SymbolValues {
            identity,
            name,
            kind,
            rust_type,
            size,
            align,
            address,
            type_name: None,
        })
    }

    /// The symbol with the compiler's name of its declared type, `core::any::type_name` as the
    /// plugin's compiler computed it (the SDK records it for every export; rule LOOKUP-5). Typed
    /// lookups then compare it with the requested type's name instead of the written type.
    ///
    /// # Safety
    /// `type_name` must be `core::any::type_name` of the type the symbol's address holds (for a
    /// variable) or is (for a function), computed by the same toolchain as this host's.
    pub unsafe fn with_type_name(self, type_name: &'static str) -> Symbol {
        Symbol::interned(SymbolValues {
            type_name: Some(type_name),
            ..self.info.values()
        })
    }

    /// The compiler's name of the declared type, if the plugin recorded it (LOOKUP-5).
    pub fn type_name(&self) -> Option<&'static str> {
        self.info.type_name()
    }

    /// The exported name.
    pub fn name(&self) -> &'static str {
        self.info.name()
    }

    /// Function or variable.
    pub fn kind(&self) -> SymbolKind {
        self.info.kind()
    }

    /// The Rust type the plugin declared, as written (for example `extern "C" fn(i32) -> i32`).
    pub fn rust_type(&self) -> &'static str {
        self.info.rust_type()
    }

    /// The declared size in bytes: of a variable's storage, or of the function pointer type.
    pub fn size(&self) -> usize {
        self.info.size()
    }

    /// The declared alignment: of a variable's storage, or of the function pointer type.
    pub fn align(&self) -> usize {
        self.info.align()
    }

    /// The address: the function itself, or a pointer into the plugin's storage.
    pub fn address(&self) -> *mut () {
        self.info.address()
    }

    /// The identity of the plugin the symbol belongs to.
    pub fn plugin_identity(&self) -> &'static str {
        self.info.identity()
    }

    /// Whether this symbol is a `kind` whose declared type is `rust_type` (compared with all
    /// white space removed, so `fn(i32)->i32` and `fn(i32) -> i32` are the same written type).
    pub fn has_type(&self, kind: SymbolKind, rust_type: &str) -> bool {
        self.info.kind() == kind && same_written_type(self.info.rust_type(), rust_type)
    }

    /// Checks kind and written type, naming both sides when they differ.
    pub fn check_type(&self, kind: SymbolKind, rust_type: &str) -> Result<(), Error> {
        if self.has_type(kind, rust_type) {
            Ok(())
        } else {
            Err(Error::type_mismatch(
                self.info.name(),
                self.info.identity(),
                &format!("a {} of type {}", self.info.kind(), self.info.rust_type()),
                &format!("a {kind} of type {rust_type}"),
            ))
        }
    }

    /// Checks kind and type of a typed lookup of `T`, written `rust_type` (rule LOOKUP-5): when
    /// the plugin recorded the compiler's name of its declared type, that name must equal
    /// `core::any::type_name::<T>()` (aliases and paths do not matter; two types spelled alike
    /// in different crates differ); otherwise the written types are compared
    /// ([`Symbol::check_type`]). The written types appear in the message either way.
    pub fn check_type_of<T: ?Sized>(&self, kind: SymbolKind, rust_type: &str) -> Result<(), Error> {
        let Some(declared) = self.info.type_name() else {
            return self.check_type(kind, rust_type);
        };
        let requested = core::any::type_name::<T>();
        if self.info.kind() == kind && declared == requested {
            return Ok(());
        }
        let both_named = |kind: SymbolKind, written: &str, name: &str| {
            if same_written_type(written, name) {
                format!("a {kind} of type {written}")
            } else {
                format!("a {kind} of type {written} ({name})")
            }
        };
        Err(Error::type_mismatch(
            self.info.name(),
            self.info.identity(),
            &both_named(self.info.kind(), self.info.rust_type(), declared),
            &both_named(kind, rust_type, requested),
        ))
    }

    /// The function, typed. Prefer the [`function!`](crate::function) macro, which writes
    /// `rust_type` for you from `F`. Checks kind and type ([`Symbol::check_type_of`]), and the
    /// declared size and alignment against `F`'s.
    ///
    /// # Safety
    /// `F` must be a function pointer type. When the plugin recorded no type name (a plugin not
    /// built with the SDK), `F` must also be the type the plugin declared under the written form
    /// `rust_type`.
    pub unsafe fn function<F: Copy>(&self, rust_type: &str) -> Result<F, Error> {
        self.check_type_of::<F>(SymbolKind::Function, rust_type)?;
        // LOOKUP-5: the declared layout is honoured, and only a pointer-sized `F` can hold the
        // address.
        if size_of::<F>() != self.info.size()
            || align_of::<F>() != self.info.align()
            || size_of::<F>() != size_of::<*mut ()>()
        {
            return Err(self.layout_mismatch::<F>());
        }
        // SAFETY: the kind and written type match and `F` is pointer-sized; the caller promises
        // `F` is the function pointer type the plugin declared, so the address is a valid `F`.
        Ok(unsafe { std::mem::transmute_copy::<*mut (), F>(&self.info.address()) })
    }

    /// The variable, typed, as a `'static` reference into the plugin's storage. Prefer the
    /// [`variable!`](crate::variable) macro.
    ///
    /// # Safety
    /// When the plugin recorded no type name (a plugin not built with the SDK), `T` must be the
    /// type the plugin declared under the written form `rust_type`. Writes
    /// through the reference need interior mutability in `T` (atomics, cells); for a plugin
    /// `static mut`, use [`Symbol::variable_ptr`] and synchronise access yourself.
    pub unsafe fn variable<T: Sync>(&self, rust_type: &str) -> Result<&'static T, Error> {
        let ptr = self.variable_ptr::<T>(rust_type)?;
        // SAFETY: `variable_ptr` checked kind, type, size and alignment; the storage lives for
        // the process (no unload) and the caller promises `T` is the declared type.
        Ok(unsafe { &*ptr })
    }

    /// The variable, typed, as a raw pointer into the plugin's storage (Go: `*T`). Checks kind,
    /// type ([`Symbol::check_type_of`]), size and alignment; dereferencing is the caller's
    /// business.
    pub fn variable_ptr<T>(&self, rust_type: &str) -> Result<*mut T, Error> {
        self.check_type_of::<T>(SymbolKind::Variable, rust_type)?;
        if size_of::<T>() != self.info.size() || align_of::<T>() != self.info.align() {
            return Err(self.layout_mismatch::<T>());
        }
        Ok(self.info.address().cast::<T>())
    }

    fn layout_mismatch<T>(&self) -> Error {
        Error::type_mismatch(
            self.info.name(),
            self.info.identity(),
            &format!(
                "a {} of type {} (size {}, align {})",
                self.info.kind(),
                self.info.rust_type(),
                self.info.size(),
                self.info.align()
            ),
            &format!(
                "a type of size {}, align {}",
                size_of::<T>(),
                align_of::<T>()
            ),
        )
    }
}

/// Whether two written Rust types are the same once white space is removed.
pub fn same_written_type(a: &str, b: &str) -> bool {
    let mut a = a.chars().filter(|c| !c.is_whitespace());
    let mut b = b.chars().filter(|c| !c.is_whitespace());
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (x, y) if x == y => continue,
            _ => return false,
        }
    }
}

/// Looks up a function and checks its declared type: `function!(plugin, "add", extern "C" fn(i32, i32) -> i32)`.
///
/// Expands to a `Result<F, plugspec::Error>`; a wrong kind or type is
/// [`ErrorKind::TypeMismatch`](crate::ErrorKind::TypeMismatch), never a crash.
#[macro_export]
macro_rules! function {
    ($plugin:expr, $name:expr, $ty:ty) => {
        $crate::Plugin::lookup(&$plugin, $name).and_then(|symbol| {
            // SAFETY: the written type passed is `stringify!` of the very type `F` is
            // instantiated with, so the check in `function` compares the caller's real type.
            unsafe { symbol.function::<$ty>(stringify!($ty)) }
        })
    };
}

/// Looks up a variable and checks its declared type: `variable!(plugin, "COUNTER", AtomicI32)`.
///
/// Expands to a `Result<&'static T, plugspec::Error>` (`T: Sync`); for a plain `static mut` use
/// [`variable_ptr!`](crate::variable_ptr).
#[macro_export]
macro_rules! variable {
    ($plugin:expr, $name:expr, $ty:ty) => {
        $crate::Plugin::lookup(&$plugin, $name).and_then(|symbol| {
            // SAFETY: the written type passed is `stringify!` of the very type the reference
            // is to, so the check in `variable` compares the caller's real type.
            unsafe { symbol.variable::<$ty>(stringify!($ty)) }
        })
    };
}

/// Looks up a variable as a raw pointer (Go: `*T`) and checks its declared type:
/// `variable_ptr!(plugin, "VALUE", i32)` gives `Result<*mut i32, plugspec::Error>`.
#[macro_export]
macro_rules! variable_ptr {
    ($plugin:expr, $name:expr, $ty:ty) => {
        $crate::Plugin::lookup(&$plugin, $name)
            .and_then(|symbol| symbol.variable_ptr::<$ty>(stringify!($ty)))
    };
}

/// A loader that refuses everything: what a refusing platform's loader does (rule `PLAT-2`).
#[derive(Debug, Default)]
pub struct RefusingLoader {
    _private: (),
}

/// The plugin type of [`RefusingLoader`]; it is never constructed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoPlugin {}

impl Plugin for NoPlugin {
    fn identity(&self) -> &str {
        match *self {}
    }
    fn lookup(&self, _: &str) -> Result<Symbol, Error> {
        match *self {}
    }
}

impl Loader for RefusingLoader {
    type Plugin = NoPlugin;
    fn with_host(_: HostConfig) -> Self {
        RefusingLoader { _private: () }
    }
    fn open(&self, path: &Path) -> Result<NoPlugin, Error> {
        let platform = crate::platform::current();
        Err(Error::unsupported_platform(
            Some(path),
            platform.target,
            platform.reason(),
        ))
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn equal_symbols_share_one_record_and_others_do_not() {
        let at = |address: usize| {
            // SAFETY: only compared, never called or dereferenced.
            unsafe {
                Symbol::new(
                    "t",
                    "interned",
                    SymbolKind::Variable,
                    "u8",
                    1,
                    1,
                    address as *mut (),
                )
            }
        };
        let (a, b, other) = (at(0x10), at(0x10), at(0x11));
        assert!(a.info.same_record(&b.info));
        assert!(!a.info.same_record(&other.info));
        assert_ne!(a, other);
        // SAFETY: as above.
        let (typed, typed_again) = unsafe { (a.with_type_name("u8"), b.with_type_name("u8")) };
        assert_eq!((a.type_name(), typed.type_name()), (None, Some("u8")));
        assert!(typed.info.same_record(&typed_again.info));
        assert_ne!(a, typed);
    }
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn written_types_compare_without_white_space() {
        assert!(same_written_type(
            "extern \"C\" fn(i32, i32) -> i32",
            "extern \"C\" fn(i32,i32)->i32"
        ));
        assert!(!same_written_type("fn(i32)", "fn(i64)"));
        assert!(!same_written_type("i32", "i3"));
    }

    static mut STORAGE: i32 = 5;

    #[test]
    fn typed_access_checks_kind_type_and_layout() {
        // SAFETY: STORAGE is a process-lifetime i32 that may be written through.
        let sym = unsafe {
            Symbol::new(
                "t",
                "V",
                SymbolKind::Variable,
                "i32",
                4,
                4,
                (&raw mut STORAGE).cast(),
            )
        };
        let p = sym.variable_ptr::<i32>("i32").unwrap();
        // SAFETY: p points at STORAGE; this test is the only user.
        unsafe { *p = 9 };
        // SAFETY: as above.
        assert_eq!(unsafe { (&raw const STORAGE).read() }, 9);
        let e = sym.variable_ptr::<i64>("i64").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TypeMismatch);
        assert_eq!(
            e.to_string(),
            "plugin: symbol V in plugin t is a variable of type i32, not a variable of type i64"
        );
        // SAFETY: the call fails its check before transmuting anything.
        let e = unsafe { sym.function::<extern "C" fn()>("extern \"C\" fn()") }.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TypeMismatch);
    }

    static COUNTER: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

    mod plugin_side {
        /// A plugin's own type, spelled like the host's below.
        #[allow(dead_code)]
        pub struct Counter(pub u32);
    }
    mod host_side {
        /// The host's type of the same spelling, size and alignment.
        #[allow(dead_code)]
        pub struct Counter(pub u32);
    }
    static PLUGIN_COUNTER: plugin_side::Counter = plugin_side::Counter(0);

    extern "C" fn add(a: i32, b: i32) -> i32 {
        a + b
    }

    /// A symbol as the reference loader builds it from an SDK plugin: with the compiler's name
    /// of its declared type `T`.
    fn sdk_symbol<T: ?Sized>(
        kind: SymbolKind,
        written: &'static str,
        size: usize,
        align: usize,
        address: *mut (),
    ) -> Symbol {
        // SAFETY: each caller passes the address of a `T` and `T`'s name.
        unsafe {
            Symbol::new("t", "S", kind, written, size, align, address)
                .with_type_name(core::any::type_name::<T>())
        }
    }

    #[test]
    fn type_names_decide_and_aliases_and_paths_do_not_matter() {
        use std::sync::atomic::AtomicI32;
        // LOOKUP-5: the plugin wrote `AtomicI32`; the host asks by its full path.
        let sym = sdk_symbol::<AtomicI32>(
            SymbolKind::Variable,
            "AtomicI32",
            4,
            4,
            (&raw const COUNTER).cast_mut().cast(),
        );
        // SAFETY: COUNTER is an AtomicI32 (checked by the call itself).
        let v: &AtomicI32 =
            unsafe { sym.variable::<std::sync::atomic::AtomicI32>("std::sync::atomic::AtomicI32") }
                .unwrap();
        assert!(std::ptr::eq(v, &COUNTER));

        // An alias of a function type.
        type BinOp = extern "C" fn(i32, i32) -> i32;
        let f = add as extern "C" fn(i32, i32) -> i32;
        let ptr = size_of::<BinOp>();
        let sym = sdk_symbol::<extern "C" fn(i32, i32) -> i32>(
            SymbolKind::Function,
            "extern \"C\" fn(i32, i32) -> i32",
            ptr,
            ptr,
            f as *mut (),
        );
        // SAFETY: BinOp is a function pointer type.
        let g = unsafe { sym.function::<BinOp>("BinOp") }.unwrap();
        assert_eq!(g(2, 3), 5);
        // The same written type, another real type: refused, both sides named.
        // SAFETY: the check fails before anything is transmuted.
        let e = unsafe {
            sym.function::<extern "C" fn(i64, i64) -> i64>("extern \"C\" fn(i32, i32) -> i32")
        }
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TypeMismatch);
    }

    #[test]
    fn two_types_spelled_alike_with_one_layout_are_different() {
        use host_side::Counter;
        let sym = sdk_symbol::<plugin_side::Counter>(
            SymbolKind::Variable,
            "Counter",
            4,
            4,
            (&raw const PLUGIN_COUNTER).cast_mut().cast(),
        );
        assert_eq!(size_of::<Counter>(), size_of::<plugin_side::Counter>());
        let e = sym.variable_ptr::<Counter>("Counter").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TypeMismatch);
        let text = e.to_string();
        assert!(text.contains("plugin_side::Counter"), "{text}");
        assert!(text.contains("host_side::Counter"), "{text}");
        // A symbol without a type name (a plugin not built with the SDK) compares written
        // types, as before.
        // SAFETY: PLUGIN_COUNTER is process-lifetime storage of the declared size.
        let bare = unsafe {
            Symbol::new(
                "t",
                "S",
                SymbolKind::Variable,
                "Counter",
                4,
                4,
                (&raw const PLUGIN_COUNTER).cast_mut().cast(),
            )
        };
        assert!(bare.variable_ptr::<Counter>("Counter").is_ok());
    }

    #[test]
    fn a_function_s_declared_size_and_alignment_are_honoured() {
        let f = add as extern "C" fn(i32, i32) -> i32;
        for (size, align) in [(4_294_967_295, size_of::<usize>()), (size_of::<usize>(), 1)] {
            let sym = sdk_symbol::<extern "C" fn(i32, i32) -> i32>(
                SymbolKind::Function,
                "extern \"C\" fn(i32, i32) -> i32",
                size,
                align,
                f as *mut (),
            );
            // SAFETY: the check fails before anything is transmuted.
            let e = unsafe {
                sym.function::<extern "C" fn(i32, i32) -> i32>("extern \"C\" fn(i32, i32) -> i32")
            }
            .unwrap_err();
            assert_eq!(
                e.kind(),
                ErrorKind::TypeMismatch,
                "size {size}, align {align}"
            );
        }
    }
}

//! The SDK for plugin authors: declare a plugin with [`plugin!`](crate::plugin).
//!
//! ```ignore
//! use std::sync::atomic::{AtomicI32, Ordering};
//!
//! pub static mut VALUE: i32 = 42;
//! pub static CALLS: AtomicI32 = AtomicI32::new(0);
//! pub extern "C" fn add(a: i32, b: i32) -> i32 { CALLS.fetch_add(1, Ordering::Relaxed); a + b }
//! fn init(_host: &plugspec::sdk::Host) { /* runs once, inside the host's open */ }
//!
//! plugspec::plugin! {
//!     identity: "example.adder",
//!     shared: [],
//!     init: init,
//!     functions: { add: extern "C" fn(i32, i32) -> i32 },
//!     variables: { static mut VALUE: i32, static CALLS: AtomicI32 },
//! }
//! ```
//!
//! The crate is a `cdylib` that depends on `plugspec` with `default-features = false`. The macro
//! writes the manifest (into its own section, pointer-free), the descriptor under the well-known
//! symbol, the export table and the init entry. Nothing runs when the library is mapped: init is
//! an explicit entry the loader calls afterwards, with panics caught inside it.
//!
//! * Functions are `extern "C"`; the written type is checked against the item at compile time. A
//!   panic inside an exported function aborts the process (Rust forbids unwinding out of an
//!   `extern "C"` function): catch it inside if it can happen.
//! * Variables must be writable storage: `static mut` (checked: the macro takes `&raw mut`), or a
//!   `static` of an [`InteriorMutable`] type. An immutable plain `static` does not compile.

use std::cell::UnsafeCell;
use std::path::Path;
use std::sync::atomic::{
    AtomicBool, AtomicI8, AtomicI16, AtomicI32, AtomicI64, AtomicIsize, AtomicPtr, AtomicU8,
    AtomicU16, AtomicU32, AtomicU64, AtomicUsize,
};
use std::sync::{Mutex, OnceLock, RwLock};

use crate::abi::{Export, HostContext, Outcome};
use crate::error::ErrorKind;

/// Types whose `static`s are writable through a shared reference, so that they may be exported
/// as variables without `static mut`.
///
/// # Safety
/// Implement only for types that keep their state in an [`UnsafeCell`] (directly or inside), so
/// that the compiler places their statics in writable memory.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not writable storage: an immutable `static` of it cannot be exported as a plugin variable",
    label = "declare the static `static mut`, or use an interior-mutable type (atomics, `SharedCell`, `Mutex`)"
)]
pub unsafe trait InteriorMutable: Sync {}

macro_rules! interior_mutable {
    ($($t:ty),*) => { $(
        // SAFETY: the type keeps its value in an `UnsafeCell`.
        unsafe impl InteriorMutable for $t {}
    )* };
}
interior_mutable!(
    AtomicBool,
    AtomicI8,
    AtomicI16,
    AtomicI32,
    AtomicI64,
    AtomicIsize,
    AtomicU8,
    AtomicU16,
    AtomicU32,
    AtomicU64,
    AtomicUsize
);
// SAFETY: `AtomicPtr` keeps its pointer in an `UnsafeCell`.
unsafe impl<T> InteriorMutable for AtomicPtr<T> {}
// SAFETY: `Mutex` keeps its value in an `UnsafeCell`.
unsafe impl<T: Send> InteriorMutable for Mutex<T> {}
// SAFETY: `RwLock` keeps its value in an `UnsafeCell`.
unsafe impl<T: Send + Sync> InteriorMutable for RwLock<T> {}
// SAFETY: `OnceLock` keeps its value in an `UnsafeCell`.
unsafe impl<T: Send + Sync> InteriorMutable for OnceLock<T> {}

/// A `Sync` wrapper around [`UnsafeCell`] for exported variables the host and plugin synchronise
/// by other means.
#[repr(transparent)]
#[derive(Debug)]
pub struct SharedCell<T>(pub UnsafeCell<T>);

// SAFETY: access through the cell is raw and unsynchronised by design; the exporter and the host
// synchronise by other means, which the type's documentation requires.
unsafe impl<T: Send> Sync for SharedCell<T> {}
// SAFETY: the value lives in the `UnsafeCell`.
unsafe impl<T: Send> InteriorMutable for SharedCell<T> {}

impl<T> SharedCell<T> {
    /// A cell holding `value`.
    pub const fn new(value: T) -> Self {
        SharedCell(UnsafeCell::new(value))
    }
    /// A raw pointer to the value.
    pub const fn get(&self) -> *mut T {
        self.0.get()
    }
}

/// The host, as a plugin's init sees it: it can open other plugins through the loader that is
/// initialising this one (rule INIT: opening *itself* is `recursive_open`, never a deadlock).
#[derive(Debug)]
pub struct Host<'a> {
    context: Option<&'a HostContext>,
}

/// Why the host refused an open requested from a plugin's init.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostOpenError {
    /// The error kind, if the host reported a known one.
    pub kind: Option<ErrorKind>,
    /// The host's message.
    pub message: String,
}

impl std::fmt::Display for HostOpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HostOpenError {}

impl Host<'_> {
    /// Asks the host's loader to open another plugin (and initialise it, if it is new).
    pub fn open(&self, path: &Path) -> Result<(), HostOpenError> {
        let Some(open) = self.context.and_then(|c| c.open) else {
            return Err(HostOpenError {
                kind: None,
                message: "the host offers no open callback".into(),
            });
        };
        let Some(path) = path.to_str() else {
            return Err(HostOpenError {
                kind: Some(ErrorKind::NotFound),
                message: "the path is not UTF-8".into(),
            });
        };
        let mut out = Outcome::default();
        let data = self.context.map_or(std::ptr::null(), |c| c.data);
        // SAFETY: `open` and `data` come from the host's context, which is valid for the whole
        // init call; the path pointer and length describe a live `&str`; `out` is a valid
        // outcome for the call to write.
        unsafe { open(data, path.as_ptr(), path.len(), &mut out) };
        match out.status {
            0 => Ok(()),
            code => Err(HostOpenError {
                kind: ErrorKind::ALL.get(code as usize - 1).copied(),
                message: out.message().to_string(),
            }),
        }
    }
}

/// Runs a plugin's init with panics caught; used by the code [`plugin!`](crate::plugin) writes.
///
/// # Safety
/// `host` is null or valid for the call; `out` is valid for writes.
#[doc(hidden)]
pub unsafe fn run_init(host: *const HostContext, out: *mut Outcome, init: fn(&Host<'_>)) {
    // SAFETY: the caller passes a null or valid host context.
    let context = unsafe { host.as_ref() };
    let host = Host { context };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| init(&host)));
    // SAFETY: the caller passes an `out` valid for writes.
    let Some(out) = (unsafe { out.as_mut() }) else {
        return;
    };
    match result {
        Ok(()) => out.set(0, ""),
        Err(payload) => {
            out.set(1, &panic_message(payload.as_ref()));
            drop_payload(payload);
        }
    }
}

/// INIT-5: drops a caught panic's payload without letting a panic in its `Drop` escape (it would
/// leave this `extern "C"` call and abort the host): the drop runs under `catch_unwind`, and a
/// payload of that second panic is leaked rather than dropped. (A panic raised while init is
/// already unwinding — a panicking `Drop` of a local — is another matter: Rust's runtime aborts
/// the process before any `catch_unwind` sees it; SPEC.md, INIT-5.)
fn drop_payload(payload: Box<dyn std::any::Any + Send>) {
    if let Err(again) =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(payload)))
    {
        std::mem::forget(again);
    }
}

/// The text of a panic payload (`&str` or `String`), or a placeholder.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(panic payload is not a string)".to_string()
    }
}

/// Compile-time check that a variable's type may be exported without `static mut`.
#[doc(hidden)]
pub const fn assert_interior_mutable<T: InteriorMutable>() {}

/// The type-name function of an export of type `T` ([`TypeNameFn`](crate::abi::TypeNameFn),
/// rule LOOKUP-5): `core::any::type_name::<T>()`, computed by the plugin's own compiler, which
/// the fingerprint pins to the host's. A host compares it with its own `type_name` of the type
/// it asks for, so aliases and paths spell nothing: `AtomicI32` and
/// `std::sync::atomic::AtomicI32` are one type, and two types spelled alike in different
/// crates are two.
///
/// # Safety
/// `len` must be valid for a write of a `usize`.
pub unsafe extern "C" fn type_name_of<T: ?Sized>(len: *mut usize) -> *const u8 {
    let name = core::any::type_name::<T>();
    // SAFETY: the caller passes a pointer valid for a write, as the ABI requires.
    unsafe { len.write(name.len()) };
    name.as_ptr()
}

/// The export entry of a variable, type-checked against the declared type.
#[doc(hidden)]
pub const fn variable_export<T>(storage: *const T) -> Export {
    Export(storage.cast())
}

/// Declares this crate a plugspec plugin: manifest, descriptor, export table and init entry.
///
/// Fields, in this order (all but `identity` optional):
/// `identity: "…"`, `api_version: N`, `build_id: "…"`, `fingerprint: <BuildInfo expr>` (for test
/// fixtures only: claim another build), `shared: [PACKAGE, …]`, `init: path_to_fn`,
/// `functions: { name: extern "C" fn(…) -> …, … }`,
/// `variables: { static mut NAME: Type, static NAME: InteriorMutableType, … }`.
///
/// See the [`sdk`](crate::sdk) module for an example.
#[macro_export]
macro_rules! plugin {
    (
        identity: $identity:expr
        $(, api_version: $api:expr)?
        $(, build_id: $build_id:expr)?
        $(, fingerprint: $build:expr)?
        $(, shared: [$($package:expr),* $(,)?])?
        $(, init: $init:path)?
        $(, functions: { $($fname:ident : $fty:ty),* $(,)? })?
        $(, variables: { $(static $($vword:ident)+ : $vty:ty),* $(,)? })?
        $(,)?
    ) => {
        const _: () = {
            // OPEN-9: an identity a loader would refuse does not compile.
            const _: () = if let ::core::option::Option::Some(problem) = $crate::abi::identity_problem($identity) {
                panic!("{}", problem)
            };
            const __PLUGSPEC_SPEC: $crate::abi::ManifestSpec = $crate::abi::ManifestSpec {
                identity: $identity,
                build: $crate::__plugspec_or!($($build)?; $crate::fingerprint::THIS_BUILD),
                api_version: $crate::__plugspec_or!($(::core::option::Option::Some($api))?; ::core::option::Option::None),
                build_id: $crate::__plugspec_or!($(::core::option::Option::Some($build_id))?; ::core::option::Option::None),
                packages: &[$($($package),*)?],
                symbols: &[
                    $($(
                        $crate::abi::SymbolSpec {
                            kind: $crate::SymbolKind::Function,
                            storage: $crate::abi::Storage::Code,
                            name: stringify!($fname),
                            rust_type: stringify!($fty),
                            size: ::core::mem::size_of::<$fty>(),
                            align: ::core::mem::align_of::<$fty>(),
                        },
                    )*)?
                    $($(
                        $crate::__plugspec_variable_spec!($vty; $($vword)+),
                    )*)?
                ],
                has_init: $crate::__plugspec_or!($({ let _ = stringify!($init); true })?; false),
            };
            const __PLUGSPEC_LEN: usize = __PLUGSPEC_SPEC.encoded_len();

            #[used]
            #[cfg_attr(target_vendor = "apple", unsafe(link_section = "__DATA,__plugspec"))]
            #[cfg_attr(not(target_vendor = "apple"), unsafe(link_section = ".plugspec"))]
            static __PLUGSPEC_MANIFEST: [u8; __PLUGSPEC_LEN] = __PLUGSPEC_SPEC.encode::<__PLUGSPEC_LEN>();

            static __PLUGSPEC_EXPORTS: &[$crate::abi::Export] = &[
                $($(
                    {
                        let f: $fty = $fname;
                        $crate::abi::Export(f as *const ())
                    },
                )*)?
                $($(
                    $crate::__plugspec_variable_export!($vty; $($vword)+),
                )*)?
            ];

            $(
                unsafe extern "C" fn __plugspec_init(
                    host: *const $crate::abi::HostContext,
                    out: *mut $crate::abi::Outcome,
                ) {
                    // SAFETY: the loader calls init with a null or valid host context and a
                    // valid outcome, as the ABI requires.
                    unsafe { $crate::sdk::run_init(host, out, $init) }
                }
            )?

            // LOOKUP-5: the type of each export as the compiler names it, in export order.
            static __PLUGSPEC_TYPE_NAMES: &[$crate::abi::TypeNameFn] = &[
                $($(
                    $crate::sdk::type_name_of::<$fty> as $crate::abi::TypeNameFn,
                )*)?
                $($(
                    $crate::sdk::type_name_of::<$vty> as $crate::abi::TypeNameFn,
                )*)?
            ];

            #[unsafe(no_mangle)]
            static PLUGSPEC_PLUGIN: $crate::abi::PluginDescriptor = $crate::abi::PluginDescriptor::new(
                &__PLUGSPEC_MANIFEST,
                __PLUGSPEC_EXPORTS,
                $crate::__plugspec_or!($({ let _ = stringify!($init); ::core::option::Option::Some(__plugspec_init as $crate::abi::InitFn) })?; ::core::option::Option::None),
            ).with_type_names(__PLUGSPEC_TYPE_NAMES);
        };
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __plugspec_or {
    ($given:expr; $default:expr) => {
        $given
    };
    (; $default:expr) => {
        $default
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __plugspec_variable_spec {
    ($ty:ty; mut $name:ident) => {
        $crate::abi::SymbolSpec {
            kind: $crate::SymbolKind::Variable,
            storage: $crate::abi::Storage::StaticMut,
            name: stringify!($name),
            rust_type: stringify!($ty),
            size: ::core::mem::size_of::<$ty>(),
            align: ::core::mem::align_of::<$ty>(),
        }
    };
    ($ty:ty; $name:ident) => {{
        $crate::sdk::assert_interior_mutable::<$ty>();
        $crate::abi::SymbolSpec {
            kind: $crate::SymbolKind::Variable,
            storage: $crate::abi::Storage::InteriorMutable,
            name: stringify!($name),
            rust_type: stringify!($ty),
            size: ::core::mem::size_of::<$ty>(),
            align: ::core::mem::align_of::<$ty>(),
        }
    }};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __plugspec_variable_export {
    ($ty:ty; mut $name:ident) => {
        $crate::sdk::variable_export::<$ty>(&raw mut $name)
    };
    ($ty:ty; $name:ident) => {
        $crate::sdk::variable_export::<$ty>(&raw const $name)
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    struct PanicsOnDrop;

    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("the payload's drop panicked");
        }
    }

    fn init_panicking_with_a_bad_payload(_: &Host<'_>) {
        std::panic::panic_any(PanicsOnDrop);
    }

    /// Before `drop_payload`, dropping this payload panicked out of `run_init` (an abort when
    /// called through `extern "C"`, a failed test here); now init's failure is reported and the
    /// caller carries on.
    #[test]
    fn a_payload_whose_drop_panics_does_not_escape_init() {
        let mut outcome = Outcome::default();
        // SAFETY: a null host context is allowed; `outcome` is valid for writes.
        unsafe {
            run_init(
                std::ptr::null(),
                &mut outcome,
                init_panicking_with_a_bad_payload,
            )
        };
        assert_eq!(outcome.status, 1);
        assert_eq!(outcome.message(), "(panic payload is not a string)");
    }
}

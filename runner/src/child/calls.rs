//! Typed calls into a plugin: the written types the child can call, read and write, the
//! typed-lookup check, and the host function a case can store into a plugin.

use super::*;

/// Written types without white space, for matching.
pub(super) fn squash(t: &str) -> String {
    t.chars().filter(|c| !c.is_whitespace()).collect()
}

const FN_VOID_I32: &str = "extern\"C\"fn()->i32";
const FN_I32_VOID: &str = "extern\"C\"fn(i32)";
const FN_I32_I32: &str = "extern\"C\"fn(i32)->i32";
const FN_I32_I32_I32: &str = "extern\"C\"fn(i32,i32)->i32";

pub(super) fn is_atomic_i32(t: &str) -> bool {
    t == "AtomicI32" || t.ends_with("::AtomicI32")
}

/// The constant the host function written by `write … host_fn = N` returns.
static HOST_FN_VALUE: AtomicI32 = AtomicI32::new(0);

extern "C" fn host_fn() -> i32 {
    HOST_FN_VALUE.load(Ordering::SeqCst)
}

/// A typed lookup: checks kind, written type and, for the types the driver knows, size and
/// alignment through the matching Rust type.
pub(super) fn typed_check(symbol: &Symbol, kind: SymbolKind, ty: &str) -> Result<(), Error> {
    macro_rules! function {
        ($t:ty) => {
            // SAFETY: the written type passed is `ty`, whose squashed form is `$t`'s; `function`
            // only succeeds when the plugin declared that written type, and the pointer is
            // never called here.
            unsafe { symbol.function::<$t>(ty) }.map(|_| ())
        };
    }
    macro_rules! variable {
        ($t:ty) => {
            symbol.variable_ptr::<$t>(ty).map(|_| ())
        };
    }
    match (kind, squash(ty).as_str()) {
        (SymbolKind::Function, FN_VOID_I32) => function!(extern "C" fn() -> i32),
        (SymbolKind::Function, FN_I32_VOID) => function!(extern "C" fn(i32)),
        (SymbolKind::Function, FN_I32_I32) => function!(extern "C" fn(i32) -> i32),
        (SymbolKind::Function, FN_I32_I32_I32) => function!(extern "C" fn(i32, i32) -> i32),
        (SymbolKind::Variable, "i32") => variable!(i32),
        (SymbolKind::Variable, "i64") => variable!(i64),
        (SymbolKind::Variable, "u8") => variable!(u8),
        (SymbolKind::Variable, "u32") => variable!(u32),
        (SymbolKind::Variable, "u64") => variable!(u64),
        (SymbolKind::Variable, t) if is_atomic_i32(t) => variable!(AtomicI32),
        (SymbolKind::Variable, FN_VOID_I32) => variable!(extern "C" fn() -> i32),
        _ => symbol.check_type(kind, ty),
    }
}

/// Reads an `i32` or `AtomicI32` variable.
pub(super) fn read_variable(symbol: &Symbol) -> Result<i32, String> {
    let ty = symbol.rust_type();
    let squashed = squash(ty);
    if squashed == "i32" {
        let ptr = symbol.variable_ptr::<i32>(ty).map_err(|e| e.to_string())?;
        // SAFETY: the plugin declared an `i32` of this size and alignment at this address, which
        // stays mapped for the process; a volatile read of a plugin static the case's steps use
        // from one thread at a time.
        Ok(unsafe { ptr.read_volatile() })
    } else if is_atomic_i32(&squashed) {
        // SAFETY: the plugin declared an `AtomicI32` (checked by kind, type, size, alignment).
        let atomic = unsafe { symbol.variable::<AtomicI32>(ty) }.map_err(|e| e.to_string())?;
        Ok(atomic.load(Ordering::SeqCst))
    } else {
        Err(format!(
            "the driver reads only i32 and AtomicI32 variables, not {} {ty}",
            symbol.kind()
        ))
    }
}

pub(super) fn call(symbol: &Symbol, args: &[i32]) -> Result<Option<i32>, String> {
    let ty = symbol.rust_type();
    let err = |e: Error| e.to_string();
    macro_rules! get {
        ($t:ty) => {
            // SAFETY: the squashed written type the plugin declared is `$t`'s (matched below),
            // so the function at this address has type `$t`; the library is never unloaded.
            unsafe { symbol.function::<$t>(ty) }.map_err(err)?
        };
    }
    Ok(match (squash(ty).as_str(), args) {
        (FN_VOID_I32, []) => Some(get!(extern "C" fn() -> i32)()),
        (FN_I32_VOID, [a]) => {
            get!(extern "C" fn(i32))(*a);
            None
        }
        (FN_I32_I32, [a]) => Some(get!(extern "C" fn(i32) -> i32)(*a)),
        (FN_I32_I32_I32, [a, b]) => Some(get!(extern "C" fn(i32, i32) -> i32)(*a, *b)),
        _ => {
            return Err(format!(
                "the driver cannot call a {} {ty} with {} argument(s)",
                symbol.kind(),
                args.len()
            ));
        }
    })
}

pub(super) fn write_variable(
    symbol: &Symbol,
    value: Option<i32>,
    returns: Option<i32>,
) -> Result<(), String> {
    let ty = symbol.rust_type();
    let squashed = squash(ty);
    match (value, returns) {
        (Some(v), None) if squashed == "i32" => {
            let ptr = symbol.variable_ptr::<i32>(ty).map_err(|e| e.to_string())?;
            // SAFETY: as in `read_variable`: the plugin's own writable `i32` storage.
            unsafe { ptr.write_volatile(v) };
            Ok(())
        }
        (Some(v), None) if is_atomic_i32(&squashed) => {
            // SAFETY: the plugin declared an `AtomicI32` (checked by kind, type and layout).
            let atomic = unsafe { symbol.variable::<AtomicI32>(ty) }.map_err(|e| e.to_string())?;
            atomic.store(v, Ordering::SeqCst);
            Ok(())
        }
        (None, Some(r)) if squashed == FN_VOID_I32 => {
            let ptr = symbol
                .variable_ptr::<extern "C" fn() -> i32>(ty)
                .map_err(|e| e.to_string())?;
            HOST_FN_VALUE.store(r, Ordering::SeqCst);
            // SAFETY: the plugin declared a variable of exactly this function-pointer type at
            // this address; it is writable storage (the SDK rejects immutable statics).
            unsafe { ptr.write_volatile(host_fn) };
            Ok(())
        }
        _ => Err(format!(
            "the driver writes i32/AtomicI32 values and extern \"C\" fn() -> i32 host functions, not into a {} {ty}",
            symbol.kind()
        )),
    }
}

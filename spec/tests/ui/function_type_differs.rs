// The written type of an exported function is checked against the function at compile time.
pub extern "C" fn add(a: i32, b: i32) -> i32 {
    a + b
}

plugspec::plugin! {
    identity: "ui.fn-type",
    functions: { add: extern "C" fn(i64, i64) -> i64 },
}

fn main() {}

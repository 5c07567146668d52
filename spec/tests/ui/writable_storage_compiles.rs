// The accepted forms: `static mut` and interior-mutable statics.
use std::sync::atomic::AtomicI32;

pub static mut VALUE: i32 = 42;
pub static COUNTER: AtomicI32 = AtomicI32::new(0);
pub static CELL: plugspec::sdk::SharedCell<u64> = plugspec::sdk::SharedCell::new(7);

plugspec::plugin! {
    identity: "ui.ok",
    variables: {
        static mut VALUE: i32,
        static COUNTER: AtomicI32,
        static CELL: plugspec::sdk::SharedCell<u64>,
    },
}

fn main() {}

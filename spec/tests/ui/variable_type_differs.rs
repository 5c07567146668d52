// The written type of an exported variable is checked against the static at compile time.
pub static mut VALUE: i32 = 42;

plugspec::plugin! {
    identity: "ui.var-type",
    variables: { static mut VALUE: u64 },
}

fn main() {}

// LOOKUP-8: an immutable plain `static` lives in read-only memory; the SDK refuses to export it.
pub static VALUE: i32 = 42;

plugspec::plugin! {
    identity: "ui.immutable",
    variables: { static VALUE: i32 },
}

fn main() {}

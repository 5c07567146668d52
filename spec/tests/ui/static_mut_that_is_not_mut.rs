// LOOKUP-8: declaring a variable `static mut` that is an immutable `static` does not compile.
pub static VALUE: i32 = 42;

plugspec::plugin! {
    identity: "ui.not-mut",
    variables: { static mut VALUE: i32 },
}

fn main() {}

// panic.rs: a Rust program that indexes past the end of a vector. Built with
// -C panic=abort (testcore's catalogue does), the panic aborts the process and
// the kernel writes a core.
//
// Assert: SIGABRT (6) SI_TKILL from the process itself; on stderr "index out of
// bounds: the len is 3 but the index is 7"; the crashing stack runs from glibc's
// abort through Rust's panic machinery and core::panicking::panic_bounds_check
// to panic::pick at "LINE: index", called from panic::main. Build:
// rustc -g -C opt-level=0 -C panic=abort -o panic panic.rs

#[inline(never)]
fn pick(v: &[u32], i: usize) -> u32 {
    v[i] // LINE: index
}

fn main() {
    let v = vec![1, 2, 3];
    // Seven with no arguments; computed at run time so the compiler cannot
    // reject the out-of-bounds index.
    let i = std::env::args().count() + 6;
    println!("{}", pick(&v, i));
}

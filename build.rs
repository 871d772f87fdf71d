//! Rebuild when a built-in check file changes: they are embedded with include_dir.
fn main() {
    println!("cargo:rerun-if-changed=checks");
}

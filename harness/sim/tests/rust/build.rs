//! Puts `memory.x` where cortex-m-rt's `link.x` finds it and links with it.

use std::path::PathBuf;

fn main() {
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::copy("memory.x", out_dir.join("memory.x")).expect("copy memory.x into OUT_DIR");
    println!("cargo::rustc-link-search={}", out_dir.display());
    println!("cargo::rerun-if-changed=memory.x");
    println!("cargo::rerun-if-changed=build.rs");
    // No page alignment of sections (it would waste flash), then cortex-m-rt's script.
    println!("cargo::rustc-link-arg=--nmagic");
    println!("cargo::rustc-link-arg=-Tlink.x");
}

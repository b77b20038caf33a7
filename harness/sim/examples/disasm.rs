//! Developer tool: reads lines of hex halfwords (`f8d1 0004` or `1c48`, as printed by
//! `llvm-objdump -d`) on stdin and prints this crate's decoding of each, for
//! differential checks against llvm-objdump.

use std::io::{BufRead, Write};

use tinybench_sim::decode;
use tinybench_sim::disasm::disassemble;

fn main() {
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for line in stdin.lock().lines().map_while(Result::ok) {
        let hws: Vec<u16> = line.split_whitespace().filter_map(|t| u16::from_str_radix(t, 16).ok()).collect();
        let Some(&hw1) = hws.first() else { continue };
        let hw2 = hws.get(1).copied().unwrap_or(0);
        let (insn, _) = decode::decode(hw1, hw2);
        let _ = writeln!(out, "{}", disassemble(&insn, 0));
    }
}

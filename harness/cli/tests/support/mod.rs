//! Test helpers: the repository root, run configurations, the binary's
//! output, and a hand-built minimal ELF.
#![allow(dead_code, reason = "each test binary uses some of the helpers")]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// A file under the repository's `models/mlperf-tiny/`.
pub fn mlperf(rel: &str) -> PathBuf {
    repo_root().join("models/mlperf-tiny").join(rel)
}

/// A file under the repository's `models/mnist-cnn/`.
pub fn mnist(rel: &str) -> PathBuf {
    repo_root().join("models/mnist-cnn").join(rel)
}

/// Runs the binary in a scratch working folder (so nothing it writes by
/// default lands in the source tree) and waits for it.
pub fn tinybench<S: AsRef<OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tinybench"))
        .args(args)
        .current_dir(std::env::temp_dir())
        .output()
        .expect("the tinybench binary runs")
}

/// [`tinybench`] that is killed after `limit`: `None` if it had not ended.
pub fn tinybench_within<S: AsRef<OsStr>>(args: &[S], limit: Duration) -> Option<Output> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tinybench"))
        .args(args)
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the tinybench binary runs");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Some(child.wait_with_output().unwrap())
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The `error:` line of a failed command; there must be exactly one, and no panic.
pub fn error_line(o: &Output) -> String {
    let err = stderr(o);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "expected one error line, got:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    lines[0].to_owned()
}

/// A short `[run]` body: no warm-up, two timed inferences.
pub const QUICK_RUN: &str = "warmup = 0\niterations = 2";

/// A run configuration `dir/<file_name>` on the shipped board `board`, with
/// `run` as the body of `[run]` (line 14 on) and `cases` as whole `[[case]]`
/// tables (their keys, one per line).
pub fn write_run_config(dir: &Path, file_name: &str, board: &str, run: &str, cases: &[&str]) -> PathBuf {
    let mut text = format!(
        "[board]\nfile = \"{}\"\n\n[target]\nkind = \"sim\"\n\n[power]\nkind = \"model\"\nidle-ms = 1\n\
         per-layer = false\nsample-us = 5\n\n[run]\n{run}\n",
        repo_root().join(format!("configs/boards/{board}.toml")).display()
    );
    for case in cases {
        text.push_str(&format!("\n[[case]]\n{case}\n"));
    }
    let path = dir.join(file_name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A small synthetic conv case (fast to build and run).
pub fn conv_case(name: &str, shape: &str, out_channels: u32) -> String {
    format!("name = \"{name}\"\nworkload = \"conv2d-3x3\"\ninput-shape = {shape}\nout-channels = {out_channels}")
}

pub fn results_json(run_dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(run_dir.join("results.json")).expect("results.json written");
    serde_json::from_str(&text).unwrap()
}

/// A bare ARM executable: a 16-entry vector table at 0x0800_0000 (initial SP
/// 0x2000_1000, reset -> the code) followed by the code at 0x0800_0040, with
/// one function symbol covering the code so errors can name it.
pub struct MinimalElf {
    symbol: String,
    code: Vec<u8>,
    /// (name, offset in the code, size) of each function, when named one by one.
    functions: Vec<(String, u32, u32)>,
}

const FLASH: u32 = 0x0800_0000;
const VECTORS: u32 = 16 * 4;
const SEGMENT_OFFSET: u32 = 0x100;

impl MinimalElf {
    pub fn new(symbol: &str) -> Self {
        MinimalElf { symbol: symbol.to_owned(), code: Vec::new(), functions: Vec::new() }
    }

    pub fn code(mut self, bytes: &[u8]) -> Self {
        self.code = bytes.to_vec();
        self
    }

    /// Names code bytes `offset..offset + size` as a function; once any is
    /// named, the symbol given to `new` is left out.
    pub fn function(mut self, name: &str, offset: u32, size: u32) -> Self {
        self.functions.push((name.to_owned(), offset, size));
        self
    }

    pub fn write(&self, path: &Path) {
        std::fs::write(path, self.bytes()).unwrap();
    }

    pub fn bytes(&self) -> Vec<u8> {
        let code_addr = FLASH + VECTORS;
        // Segment: vector table then code.
        let mut segment = Vec::new();
        segment.extend(0x2000_1000u32.to_le_bytes()); // initial SP
        segment.extend((code_addr | 1).to_le_bytes()); // reset vector (Thumb bit)
        segment.resize(VECTORS as usize, 0); // other vectors unused
        segment.extend(&self.code);
        // The symbol table that follows must be 4-byte aligned.
        segment.resize(segment.len().next_multiple_of(4), 0);

        let functions = if self.functions.is_empty() {
            vec![(self.symbol.clone(), 0, self.code.len() as u32)]
        } else {
            self.functions.clone()
        };
        let mut strtab = vec![0u8];
        let shstrtab = b"\0.text\0.symtab\0.strtab\0.shstrtab\0".to_vec();
        let mut symtab = vec![0u8; 16]; // null symbol
        for (name, offset, size) in &functions {
            symtab.extend((strtab.len() as u32).to_le_bytes()); // st_name: offset in .strtab
            strtab.extend(name.as_bytes());
            strtab.push(0);
            symtab.extend(((code_addr + offset) | 1).to_le_bytes()); // st_value
            symtab.extend(size.to_le_bytes()); // st_size
            symtab.push(0x12); // st_info: STB_GLOBAL << 4 | STT_FUNC
            symtab.push(0); // st_other
            symtab.extend(1u16.to_le_bytes()); // st_shndx: .text
        }

        let symtab_off = SEGMENT_OFFSET + segment.len() as u32;
        let strtab_off = symtab_off + symtab.len() as u32;
        let shstrtab_off = strtab_off + strtab.len() as u32;
        let shoff = (shstrtab_off + shstrtab.len() as u32 + 3) & !3;

        let mut out = Vec::new();
        // ELF header
        out.extend([0x7F, b'E', b'L', b'F', 1, 1, 1, 0]); // 32-bit, little-endian, version 1, SYSV
        out.extend([0u8; 8]);
        out.extend(2u16.to_le_bytes()); // e_type: EXEC
        out.extend(40u16.to_le_bytes()); // e_machine: ARM
        out.extend(1u32.to_le_bytes()); // e_version
        out.extend((code_addr | 1).to_le_bytes()); // e_entry
        out.extend(52u32.to_le_bytes()); // e_phoff
        out.extend(shoff.to_le_bytes()); // e_shoff
        out.extend(0x0500_0400u32.to_le_bytes()); // e_flags: EABI5, hard float
        out.extend(52u16.to_le_bytes()); // e_ehsize
        out.extend(32u16.to_le_bytes()); // e_phentsize
        out.extend(1u16.to_le_bytes()); // e_phnum
        out.extend(40u16.to_le_bytes()); // e_shentsize
        out.extend(5u16.to_le_bytes()); // e_shnum
        out.extend(4u16.to_le_bytes()); // e_shstrndx
        // Program header: one PT_LOAD, R+X
        for v in [1, SEGMENT_OFFSET, FLASH, FLASH, segment.len() as u32, segment.len() as u32, 5, 4] {
            out.extend(v.to_le_bytes());
        }
        out.resize(SEGMENT_OFFSET as usize, 0);
        out.extend(&segment);
        out.extend(&symtab);
        out.extend(&strtab);
        out.extend(&shstrtab);
        out.resize(shoff as usize, 0);
        // Section headers: name, type, flags, addr, offset, size, link, info, align, entsize
        let sections: [[u32; 10]; 5] = [
            [0; 10],
            [1, 1, 0x6, FLASH, SEGMENT_OFFSET, segment.len() as u32, 0, 0, 4, 0], // .text PROGBITS AX
            [7, 2, 0, 0, symtab_off, symtab.len() as u32, 3, 1, 4, 16],           // .symtab -> .strtab
            [15, 3, 0, 0, strtab_off, strtab.len() as u32, 0, 0, 1, 0],           // .strtab
            [23, 3, 0, 0, shstrtab_off, shstrtab.len() as u32, 0, 0, 1, 0],       // .shstrtab
        ];
        for s in sections {
            for v in s {
                out.extend(v.to_le_bytes());
            }
        }
        out
    }
}

//! ELF symbol table for name lookup and `func+0x1a` symbolization.

use std::collections::HashMap;

use crate::SymbolInfo;

#[derive(Default)]
pub struct Symbols {
    /// (address, size, name), sorted by address.
    sorted: Vec<(u32, u32, String)>,
    by_name: HashMap<String, SymbolInfo>,
}

impl Symbols {
    pub fn new(mut list: Vec<(u32, u32, String)>) -> Self {
        list.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut by_name = HashMap::new();
        for (address, size, name) in &mut list {
            by_name.entry(name.clone()).or_insert(SymbolInfo { address: *address, size: *size });
            // Lookups use the linker name; messages show the Rust path
            // (`tinybench_fw::stack::paint`, without the hash).
            *name = format!("{:#}", rustc_demangle::demangle(name));
        }
        Symbols { sorted: list, by_name }
    }

    pub fn get(&self, name: &str) -> Option<SymbolInfo> {
        self.by_name.get(name).copied()
    }

    /// Name of a symbol starting exactly at `addr`.
    pub fn name_at(&self, addr: u32) -> Option<&str> {
        let i = self.sorted.partition_point(|s| s.0 < addr);
        self.sorted.get(i).filter(|s| s.0 == addr).map(|s| s.2.as_str())
    }

    /// The symbol covering `addr` as (start, size, demangled name); zero-size
    /// symbols cover only their own address.
    pub fn function_at(&self, addr: u32) -> Option<(u32, u32, &str)> {
        let end = self.sorted.partition_point(|s| s.0 <= addr);
        self.sorted[..end]
            .iter()
            .rev()
            .take(64)
            .find(|s| addr - s.0 < s.1 || (s.1 == 0 && addr == s.0))
            .map(|s| (s.0, s.1, s.2.as_str()))
    }

    pub fn symbolize(&self, addr: u32) -> Option<String> {
        let end = self.sorted.partition_point(|s| s.0 <= addr);
        // Walk back over nearby symbols: the closest one covering `addr` wins.
        for s in self.sorted[..end].iter().rev().take(64) {
            let covers = addr - s.0 < s.1 || (s.1 == 0 && addr == s.0);
            if covers {
                let off = addr - s.0;
                return Some(if off == 0 { s.2.clone() } else { format!("{}+{:#x}", s.2, off) });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbolize_inside_and_outside() {
        let s = Symbols::new(vec![(0x100, 0x20, "main".into()), (0x120, 4, "tail".into())]);
        assert_eq!(s.symbolize(0x100).as_deref(), Some("main"));
        assert_eq!(s.symbolize(0x11a).as_deref(), Some("main+0x1a"));
        assert_eq!(s.symbolize(0x122).as_deref(), Some("tail+0x2"));
        assert_eq!(s.symbolize(0x124), None);
        assert_eq!(s.symbolize(0x10), None);
        assert_eq!(s.get("tail"), Some(SymbolInfo { address: 0x120, size: 4 }));
    }

    #[test]
    fn rust_names_are_demangled_for_display_only() {
        let mangled = "_ZN12tinybench_fw5stack5paint17h96e53c44ef714e42E";
        let s = Symbols::new(vec![(0x200, 0x40, mangled.into())]);
        assert_eq!(s.symbolize(0x23e).as_deref(), Some("tinybench_fw::stack::paint+0x3e"));
        assert_eq!(s.get(mangled), Some(SymbolInfo { address: 0x200, size: 0x40 }));
    }
}

//! A minimal, bounds-checked FlatBuffers reader: tables through their
//! vtables, scalars, vectors, strings and sub-tables, each read returning an
//! error instead of panicking on a malformed or truncated buffer.
//!
//! Format (FlatBuffers binary spec, little-endian): the buffer starts with a
//! `u32` offset to the root table. A table starts with an `i32` soffset; its
//! vtable is at `table - soffset` and holds `u16 vtable_len, u16 table_len`,
//! then one `u16` per field: the field's offset from the table start, 0 if
//! absent (the schema default applies). Reference fields (tables, vectors,
//! strings) hold a `u32` offset relative to the field's own position; a
//! vector is a `u32` length followed by its elements.

/// Where and why reading the buffer failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlatError {
    pub what: &'static str,
    pub offset: usize,
}

impl std::fmt::Display for FlatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at byte {}", self.what, self.offset)
    }
}

type Result<T> = std::result::Result<T, FlatError>;

fn bytes_at<const N: usize>(buf: &[u8], at: usize, what: &'static str) -> Result<[u8; N]> {
    at.checked_add(N)
        .and_then(|end| buf.get(at..end))
        .map(|s| s.try_into().expect("slice of length N"))
        .ok_or(FlatError { what, offset: at })
}

fn read_u16(buf: &[u8], at: usize, what: &'static str) -> Result<u16> {
    bytes_at::<2>(buf, at, what).map(u16::from_le_bytes)
}

fn read_u32(buf: &[u8], at: usize, what: &'static str) -> Result<u32> {
    bytes_at::<4>(buf, at, what).map(u32::from_le_bytes)
}

/// Follows the `u32` offset stored at `at` (relative to `at`).
fn follow(buf: &[u8], at: usize, what: &'static str) -> Result<usize> {
    let offset = read_u32(buf, at, what)? as usize;
    let target = at.checked_add(offset).ok_or(FlatError { what, offset: at })?;
    if target >= buf.len() {
        return Err(FlatError { what, offset: at });
    }
    Ok(target)
}

/// One table: its position and its vtable.
#[derive(Debug, Clone, Copy)]
pub struct Table<'a> {
    buf: &'a [u8],
    pos: usize,
    vtable: usize,
    vtable_len: usize,
}

impl<'a> Table<'a> {
    /// The root table of a buffer.
    pub fn root(buf: &'a [u8]) -> Result<Table<'a>> {
        let pos = follow(buf, 0, "root offset out of range")?;
        Table::at(buf, pos)
    }

    fn at(buf: &'a [u8], pos: usize) -> Result<Table<'a>> {
        let soffset = i64::from(read_u32(buf, pos, "table out of range")? as i32);
        let vtable = usize::try_from(pos as i64 - soffset)
            .map_err(|_| FlatError { what: "vtable out of range", offset: pos })?;
        let vtable_len = usize::from(read_u16(buf, vtable, "vtable out of range")?);
        let table_len = usize::from(read_u16(buf, vtable + 2, "vtable out of range")?);
        if vtable_len < 4 || vtable_len % 2 != 0 || vtable.saturating_add(vtable_len) > buf.len() {
            return Err(FlatError { what: "vtable length invalid", offset: vtable });
        }
        if pos.saturating_add(table_len) > buf.len() {
            return Err(FlatError { what: "table extends past the end", offset: pos });
        }
        Ok(Table { buf, pos, vtable, vtable_len })
    }

    /// Absolute position of field `index`, or `None` if absent.
    fn field(&self, index: usize) -> Result<Option<usize>> {
        let slot = 4 + 2 * index;
        if slot + 2 > self.vtable_len {
            return Ok(None);
        }
        let offset = read_u16(self.buf, self.vtable + slot, "vtable entry out of range")?;
        Ok((offset != 0).then_some(self.pos + usize::from(offset)))
    }

    pub fn u8(&self, index: usize, default: u8) -> Result<u8> {
        match self.field(index)? {
            Some(at) => bytes_at::<1>(self.buf, at, "u8 field out of range").map(|b| b[0]),
            None => Ok(default),
        }
    }

    pub fn i8(&self, index: usize, default: i8) -> Result<i8> {
        self.u8(index, default as u8).map(|b| b as i8)
    }

    pub fn i32(&self, index: usize, default: i32) -> Result<i32> {
        match self.field(index)? {
            Some(at) => read_u32(self.buf, at, "i32 field out of range").map(|v| v as i32),
            None => Ok(default),
        }
    }

    pub fn u32(&self, index: usize, default: u32) -> Result<u32> {
        self.i32(index, default as i32).map(|v| v as u32)
    }

    pub fn u64(&self, index: usize, default: u64) -> Result<u64> {
        match self.field(index)? {
            Some(at) => bytes_at::<8>(self.buf, at, "u64 field out of range").map(u64::from_le_bytes),
            None => Ok(default),
        }
    }

    pub fn f32(&self, index: usize, default: f32) -> Result<f32> {
        self.u32(index, default.to_bits()).map(f32::from_bits)
    }

    pub fn table(&self, index: usize) -> Result<Option<Table<'a>>> {
        match self.field(index)? {
            Some(at) => Ok(Some(Table::at(self.buf, follow(self.buf, at, "sub-table offset out of range")?)?)),
            None => Ok(None),
        }
    }

    pub fn vector(&self, index: usize) -> Result<Option<Vector<'a>>> {
        match self.field(index)? {
            Some(at) => {
                let start = follow(self.buf, at, "vector offset out of range")?;
                let len = read_u32(self.buf, start, "vector length out of range")? as usize;
                // Every element takes at least a byte: a longer vector is
                // corrupt, and its length must not size an allocation.
                if len > self.buf.len().saturating_sub(start + 4) {
                    return Err(FlatError { what: "vector longer than the buffer", offset: start });
                }
                Ok(Some(Vector { buf: self.buf, start: start + 4, len }))
            }
            None => Ok(None),
        }
    }

    pub fn string(&self, index: usize) -> Result<Option<&'a str>> {
        match self.vector(index)? {
            Some(v) => {
                let bytes = v.bytes(1)?;
                Ok(Some(
                    std::str::from_utf8(bytes).map_err(|_| FlatError { what: "string not UTF-8", offset: v.start })?,
                ))
            }
            None => Ok(None),
        }
    }
}

/// A vector: `len` elements from `start`; element reads are bounds-checked.
#[derive(Debug, Clone, Copy)]
pub struct Vector<'a> {
    buf: &'a [u8],
    start: usize,
    len: usize,
}

impl<'a> Vector<'a> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The raw element bytes for elements of `size` bytes.
    pub fn bytes(&self, size: usize) -> Result<&'a [u8]> {
        self.len
            .checked_mul(size)
            .and_then(|n| self.start.checked_add(n))
            .and_then(|end| self.buf.get(self.start..end))
            .ok_or(FlatError { what: "vector extends past the end", offset: self.start })
    }

    pub fn table(&self, i: usize) -> Result<Table<'a>> {
        self.check(i)?;
        Table::at(self.buf, follow(self.buf, self.start + 4 * i, "vector element offset out of range")?)
    }

    fn check(&self, i: usize) -> Result<()> {
        if i >= self.len {
            return Err(FlatError { what: "vector index out of range", offset: self.start });
        }
        Ok(())
    }

    pub fn i32s(&self) -> Result<Vec<i32>> {
        Ok(self.bytes(4)?.chunks_exact(4).map(|c| i32::from_le_bytes(c.try_into().expect("4 bytes"))).collect())
    }

    pub fn f32s(&self) -> Result<Vec<f32>> {
        Ok(self.bytes(4)?.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes"))).collect())
    }

    pub fn i64s(&self) -> Result<Vec<i64>> {
        Ok(self.bytes(8)?.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes"))).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-assembled buffer: root table with field 0 = i32 7, field 1 absent,
    /// field 2 = vector [1, 2] of i32.
    fn sample() -> Vec<u8> {
        #[rustfmt::skip]
        let buf = vec![
            16, 0, 0, 0,        //  0: root offset -> table at 16
            10, 0, 12, 0,       //  4: vtable length 10, table length 12
            4, 0, 0, 0, 8, 0,   //  8: field 0 at +4, field 1 absent, field 2 at +8
            0, 0,               // 14: padding
            12, 0, 0, 0,        // 16: soffset 12 -> vtable at 16 - 12 = 4
            7, 0, 0, 0,         // 20: field 0 = 7
            4, 0, 0, 0,         // 24: field 2 -> vector at 24 + 4 = 28
            2, 0, 0, 0,         // 28: vector length 2
            1, 0, 0, 0, 2, 0, 0, 0, // 32: elements
        ];
        buf
    }

    #[test]
    fn reads_fields_defaults_and_vectors() {
        let buf = sample();
        let root = Table::root(&buf).unwrap();
        assert_eq!(root.i32(0, 0).unwrap(), 7);
        assert_eq!(root.i32(1, 42).unwrap(), 42); // absent: the default
        assert_eq!(root.i32(9, -1).unwrap(), -1); // beyond the vtable: the default
        assert_eq!(root.vector(2).unwrap().unwrap().i32s().unwrap(), [1, 2]);
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let buf = sample();
        for len in 0..buf.len() {
            let short = &buf[..len];
            let result = Table::root(short).and_then(|t| t.vector(2)).and_then(|v| v.map(|v| v.i32s()).transpose());
            assert!(result.is_err(), "length {len}");
        }
    }

    #[test]
    fn a_vector_longer_than_the_buffer_is_refused() {
        let mut buf = sample();
        buf[28..32].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
        assert_eq!(Table::root(&buf).unwrap().vector(2).unwrap_err().what, "vector longer than the buffer");
    }

    #[test]
    fn vtable_before_the_buffer_is_refused() {
        let mut buf = sample();
        buf[16] = 100; // soffset 100 -> vtable at 16 - 100 < 0
        assert_eq!(Table::root(&buf).unwrap_err().what, "vtable out of range");
    }
}

//! Filter storage: int8 (`&[i8]`, one weight a byte) or [`Int4`] (two
//! weights a byte). Every weighted kernel (CONV_2D, DEPTHWISE_CONV_2D,
//! FULLY_CONNECTED) is generic over [`Filter`], so each kernel set runs both
//! widths with one implementation.
//!
//! **int4 packing.** Weights are numbered in the filter's TFLite layout order
//! (OHWI, 1HWC or `[out, in]`, flattened); weight `2k` is the **low** nibble
//! of byte `k`, weight `2k + 1` its **high** nibble. A nibble is a 4-bit
//! two's-complement number (`0x8..=0xf` are `-8..=-1`); the importer only
//! writes `-7..=7` (symmetric). An odd count leaves the last byte's high
//! nibble 0. This is TFLite's own int4 packing (`PackInt8IntoDenseInt4`).

/// A filter the kernels can read weight by weight or in runs.
pub trait Filter: Copy {
    /// Number of weights (not bytes).
    fn len(&self) -> usize;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Weight `index` (`< len()`), as an int8 value.
    fn at(&self, index: usize) -> i8;

    /// The weights as one `i8` slice, if stored that way (int8 filters):
    /// optimized kernels take their fast path on it.
    fn as_int8(&self) -> Option<&[i8]>;

    /// Copies weights `start..start + dst.len()` into `dst`.
    fn unpack(&self, start: usize, dst: &mut [i8]) {
        for (i, d) in dst.iter_mut().enumerate() {
            *d = self.at(start + i);
        }
    }
}

/// int8 filters: any borrowed run of `i8` (`&[i8]`, `&[i8; N]`, `&Vec<i8>`),
/// so existing `ConvWeights { filter: &array, .. }` literals keep compiling.
impl<T: AsRef<[i8]> + Copy> Filter for T {
    #[inline]
    fn len(&self) -> usize {
        self.as_ref().len()
    }

    #[inline]
    fn at(&self, index: usize) -> i8 {
        self.as_ref()[index]
    }

    #[inline]
    fn as_int8(&self) -> Option<&[i8]> {
        Some(self.as_ref())
    }

    #[inline]
    fn unpack(&self, start: usize, dst: &mut [i8]) {
        dst.copy_from_slice(&self.as_ref()[start..start + dst.len()]);
    }
}

/// Sign-extends the 4-bit two's-complement nibble in the low bits of `nibble`.
#[inline]
pub const fn sign_extend_nibble(nibble: u8) -> i8 {
    ((nibble << 4) as i8) >> 4
}

/// A packed int4 filter: `len` weights in `len.div_ceil(2)` bytes (see the
/// module docs for the nibble order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Int4<'a> {
    packed: &'a [u8],
    len: usize,
}

impl<'a> Int4<'a> {
    /// `None` unless `packed` holds exactly `len.div_ceil(2)` bytes.
    pub const fn new(packed: &'a [u8], len: usize) -> Option<Int4<'a>> {
        if packed.len() == len.div_ceil(2) { Some(Int4 { packed, len }) } else { None }
    }

    /// The packed bytes.
    pub const fn bytes(&self) -> &'a [u8] {
        self.packed
    }
}

impl Filter for Int4<'_> {
    #[inline]
    fn len(&self) -> usize {
        self.len
    }

    #[inline]
    fn at(&self, index: usize) -> i8 {
        assert!(index < self.len, "int4 weight index out of range");
        let byte = self.packed[index / 2];
        sign_extend_nibble(if index.is_multiple_of(2) { byte & 0x0f } else { byte >> 4 })
    }

    #[inline]
    fn as_int8(&self) -> Option<&[i8]> {
        None
    }

    fn unpack(&self, start: usize, dst: &mut [i8]) {
        assert!(start + dst.len() <= self.len, "int4 weight range out of range");
        let mut index = start;
        let mut out = dst.iter_mut();
        // A leading odd weight, then whole bytes two weights at a time.
        if !index.is_multiple_of(2)
            && let Some(d) = out.next()
        {
            *d = sign_extend_nibble(self.packed[index / 2] >> 4);
            index += 1;
        }
        while let Some(low) = out.next() {
            let byte = self.packed[index / 2];
            *low = sign_extend_nibble(byte & 0x0f);
            if let Some(high) = out.next() {
                *high = sign_extend_nibble(byte >> 4);
            }
            index += 2;
        }
    }
}

/// Packs int4 values (each in `-8..=7`) two per byte into `dst`
/// (`values.len().div_ceil(2)` bytes), low nibble first.
///
/// # Panics
/// If a value is outside `-8..=7` or `dst` has the wrong length.
pub fn pack_int4(values: &[i8], dst: &mut [u8]) {
    assert_eq!(dst.len(), values.len().div_ceil(2), "int4 destination length");
    for (byte, pair) in dst.iter_mut().zip(values.chunks(2)) {
        let nibble = |v: i8| {
            assert!((-8..=7).contains(&v), "{v} does not fit int4");
            (v as u8) & 0x0f
        };
        *byte = nibble(pair[0]) | pair.get(1).map_or(0, |&v| nibble(v) << 4);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn nibble_order_and_sign_are_as_documented() {
        // Weights [1, -1, 7, -8, -7]: byte 0 = (-1 = 0xf) << 4 | 1 = 0xf1; byte 1 = 0x8 << 4 | 7 = 0x87;
        // byte 2 = -7 = 0x9 in the low nibble, high nibble 0 (odd count).
        let mut packed = [0u8; 3];
        pack_int4(&[1, -1, 7, -8, -7], &mut packed);
        assert_eq!(packed, [0xf1, 0x87, 0x09]);
        let f = Int4::new(&packed, 5).unwrap();
        assert_eq!((0..5).map(|i| f.at(i)).collect::<Vec<_>>(), [1, -1, 7, -8, -7]);
        assert!(Int4::new(&packed, 7).is_none());
        assert!(Int4::new(&packed, 6).is_some());
    }

    proptest! {
        #[test]
        fn packing_round_trips(values in proptest::collection::vec(-8i8..=7, 0..40), start in 0usize..40, n in 0usize..40) {
            let mut packed = vec![0u8; values.len().div_ceil(2)];
            pack_int4(&values, &mut packed);
            let f = Int4::new(&packed, values.len()).unwrap();
            let all: Vec<i8> = (0..values.len()).map(|i| f.at(i)).collect();
            prop_assert_eq!(&all, &values);
            let start = start.min(values.len());
            let n = n.min(values.len() - start);
            let mut run = vec![0i8; n];
            f.unpack(start, &mut run);
            prop_assert_eq!(&run[..], &values[start..start + n]);
        }
    }
}

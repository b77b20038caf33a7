//! MNIST in IDX format (gzipped or plain), the project's fixed split, the
//! ±2 px shift augmentation, and the engine-form test files.
//!
//! IDX: a big-endian header (magic 2051 for images / 2049 for labels, the
//! count, then rows and columns for images) followed by one unsigned byte per
//! pixel or label.

use std::io::Read;
use std::path::Path;

use crate::Error;
use crate::rng::Rng;

/// Pixels per digit (28 × 28).
pub const PIXELS: usize = 28 * 28;
/// Side of a digit image.
pub const SIDE: usize = 28;

/// Digits as raw bytes: `images` holds `len()` images of [`PIXELS`] bytes
/// (0 background, 255 ink), `labels` one class 0..=9 each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digits {
    pub images: Vec<u8>,
    pub labels: Vec<u8>,
}

impl Digits {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn image(&self, i: usize) -> &[u8] {
        &self.images[i * PIXELS..(i + 1) * PIXELS]
    }

    /// Digits `range` as a new set.
    pub fn slice(&self, range: std::ops::Range<usize>) -> Digits {
        Digits {
            images: self.images[range.start * PIXELS..range.end * PIXELS].to_vec(),
            labels: self.labels[range].to_vec(),
        }
    }

    /// The project's split: the first `train` digits for training and
    /// calibration, the rest for test.
    pub fn split(&self, train: usize) -> (Digits, Digits) {
        let train = train.min(self.len());
        (self.slice(0..train), self.slice(train..self.len()))
    }

    /// The engine's input encoding, fixed for every variant: int8 = pixel − 128
    /// (scale 1/255, zero point −128), images back to back.
    pub fn engine_inputs(&self) -> Vec<u8> {
        self.images.iter().map(|&p| (i16::from(p) - 128) as i8 as u8).collect()
    }
}

fn read_maybe_gz(path: &Path) -> Result<Vec<u8>, Error> {
    let raw = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..]).read_to_end(&mut out).map_err(|e| Error::io(path, e))?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

fn be_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// Parses IDX image bytes: `(count, rows, cols, pixels)`.
pub fn parse_idx_images(bytes: &[u8], path: &Path) -> Result<Vec<u8>, Error> {
    let bad = |detail: String| Error::Data { path: path.to_path_buf(), detail };
    if bytes.len() < 16 || be_u32(bytes, 0) != 2051 {
        return Err(bad("not an IDX image file (magic 2051)".into()));
    }
    let (n, rows, cols) = (be_u32(bytes, 4) as usize, be_u32(bytes, 8) as usize, be_u32(bytes, 12) as usize);
    if (rows, cols) != (SIDE, SIDE) {
        return Err(bad(format!("images are {rows}x{cols}, expected 28x28")));
    }
    if bytes.len() != 16 + n * PIXELS {
        return Err(bad(format!("{} bytes for {n} images, expected {}", bytes.len(), 16 + n * PIXELS)));
    }
    Ok(bytes[16..].to_vec())
}

/// Parses IDX label bytes.
pub fn parse_idx_labels(bytes: &[u8], path: &Path) -> Result<Vec<u8>, Error> {
    let bad = |detail: String| Error::Data { path: path.to_path_buf(), detail };
    if bytes.len() < 8 || be_u32(bytes, 0) != 2049 {
        return Err(bad("not an IDX label file (magic 2049)".into()));
    }
    let n = be_u32(bytes, 4) as usize;
    if bytes.len() != 8 + n {
        return Err(bad(format!("{} bytes for {n} labels, expected {}", bytes.len(), 8 + n)));
    }
    let labels = bytes[8..].to_vec();
    if let Some(l) = labels.iter().find(|&&l| l > 9) {
        return Err(bad(format!("label {l} is not a digit")));
    }
    Ok(labels)
}

/// Loads an image file and a label file (each `.gz` or plain IDX).
///
/// # Errors
/// [`Error::Io`] or [`Error::Data`] for a missing or malformed file, or counts that differ.
pub fn load(images: &Path, labels: &Path) -> Result<Digits, Error> {
    let images_bytes = parse_idx_images(&read_maybe_gz(images)?, images)?;
    let labels = parse_idx_labels(&read_maybe_gz(labels)?, labels)?;
    if images_bytes.len() != labels.len() * PIXELS {
        return Err(Error::Data {
            path: images.to_path_buf(),
            detail: format!("{} images but {} labels", images_bytes.len() / PIXELS, labels.len()),
        });
    }
    Ok(Digits { images: images_bytes, labels })
}

/// Loads the engine-form test files (`test-inputs.bin`: int8 = pixel − 128,
/// 784 bytes per digit; `test-labels.bin`: one byte per digit).
///
/// # Errors
/// [`Error::Io`] or [`Error::Data`] if they are missing or their lengths disagree.
pub fn load_engine_test(inputs: &Path, labels: &Path) -> Result<(Vec<i8>, Vec<u8>), Error> {
    let x = std::fs::read(inputs).map_err(|e| Error::io(inputs, e))?;
    let y = std::fs::read(labels).map_err(|e| Error::io(labels, e))?;
    if x.len() != y.len() * PIXELS {
        return Err(Error::Data {
            path: inputs.to_path_buf(),
            detail: format!("{} bytes is not {} digits of {PIXELS} bytes", x.len(), y.len()),
        });
    }
    Ok((x.into_iter().map(|b| b as i8).collect(), y))
}

/// Copies `src` (28×28) shifted by `(dy, dx)` pixels into `dst`, filling
/// with background (0).
pub fn shift(src: &[u8], dy: i32, dx: i32, dst: &mut [u8]) {
    let side = SIDE as i32;
    for y in 0..side {
        for x in 0..side {
            let (sy, sx) = (y - dy, x - dx);
            dst[(y * side + x) as usize] =
                if (0..side).contains(&sy) && (0..side).contains(&sx) { src[(sy * side + sx) as usize] } else { 0 };
        }
    }
}

/// A batch as floats `pixel / 255` (the real value of the int8 input), with
/// each image shifted by a random `-max_shift..=max_shift` pixels in each axis.
pub fn batch_f32(digits: &Digits, indices: &[usize], max_shift: i32, rng: &mut Rng) -> Vec<f32> {
    let mut out = Vec::with_capacity(indices.len() * PIXELS);
    let mut shifted = [0u8; PIXELS];
    for &i in indices {
        let src = digits.image(i);
        let img = if max_shift > 0 {
            let span = (2 * max_shift + 1) as u32;
            let dy = rng.below(span) as i32 - max_shift;
            let dx = rng.below(span) as i32 - max_shift;
            shift(src, dy, dx, &mut shifted);
            &shifted[..]
        } else {
            src
        };
        out.extend(img.iter().map(|&p| f32::from(p) / 255.0));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idx_headers_are_checked() {
        let p = Path::new("x");
        // magic 2049, 2 labels: 3, 9
        assert_eq!(parse_idx_labels(&[0, 0, 8, 1, 0, 0, 0, 2, 3, 9], p).unwrap(), [3, 9]);
        assert!(parse_idx_labels(&[0, 0, 8, 1, 0, 0, 0, 2, 3, 10], p).is_err());
        assert!(parse_idx_labels(&[0, 0, 8, 3, 0, 0, 0, 1, 3], p).is_err());
        // magic 2051, 1 image 28x28
        let mut img = vec![0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 28];
        img.extend(std::iter::repeat_n(7u8, PIXELS));
        assert_eq!(parse_idx_images(&img, p).unwrap().len(), PIXELS);
        img.pop();
        assert!(parse_idx_images(&img, p).is_err());
    }

    #[test]
    fn shifting_moves_ink_and_fills_background() {
        let mut src = [0u8; PIXELS];
        src[5 * SIDE + 5] = 255;
        let mut dst = [1u8; PIXELS];
        shift(&src, 2, -1, &mut dst);
        assert_eq!(dst[7 * SIDE + 4], 255);
        assert_eq!(dst.iter().map(|&p| u32::from(p)).sum::<u32>(), 255);
    }

    #[test]
    fn engine_inputs_are_pixel_minus_128() {
        let d = Digits { images: [0u8, 128, 255].repeat(PIXELS / 3 + 1)[..PIXELS].to_vec(), labels: vec![1] };
        assert_eq!(&d.engine_inputs()[..3], &[0x80, 0, 0x7f]);
    }
}

//! Host interpreter: runs a `.tbm` image (in memory) with a kernel set,
//! through the same no-`alloc` engine the firmware links.

use tinybench_kernels::kernel_set::{Fused, KernelSet, Reference, Simd};
use tinybench_kernels::tbm::{self, Model, Tensor};

use crate::Error;

/// Kernel sets selectable at run time on the host.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Kernels {
    /// Plain loops, one layer at a time (TFLite reference kernels).
    #[default]
    Reference,
    /// Fused layer groups in one pass.
    Fused,
    /// ARMv7E-M DSP inner loops (portable models of the instructions on the host).
    Simd,
}

impl Kernels {
    pub const ALL: [Kernels; 3] = [Kernels::Reference, Kernels::Fused, Kernels::Simd];

    pub fn name(self) -> &'static str {
        match self {
            Kernels::Reference => Reference::NAME,
            Kernels::Fused => Fused::NAME,
            Kernels::Simd => Simd::NAME,
        }
    }
}

/// A `.tbm` image copied to 16-byte aligned memory (the engine borrows
/// `i32` weights in place) and validated once.
pub struct Interpreter {
    // u128 words give the alignment; the image is their bytes.
    words: Vec<u128>,
    len: usize,
}

impl Interpreter {
    /// # Errors
    /// [`Error::Tbm`] if the image does not parse.
    pub fn new(image: &[u8]) -> Result<Interpreter, Error> {
        let mut words = vec![0u128; image.len().div_ceil(16)];
        for (word, chunk) in words.iter_mut().zip(image.chunks(16)) {
            let mut b = [0u8; 16];
            b[..chunk.len()].copy_from_slice(chunk);
            *word = u128::from_le_bytes(b);
        }
        let interpreter = Interpreter { words, len: image.len() };
        interpreter.model()?;
        Ok(interpreter)
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: u128 has no padding and every byte of it is initialized; the
        // slice covers `len <= words.len() * 16` bytes of the vector. On a
        // little-endian host (checked by Model::parse) the bytes are the image's.
        unsafe { std::slice::from_raw_parts(self.words.as_ptr().cast::<u8>(), self.len) }
    }

    /// The parsed model (cheap: the checks ran in [`Interpreter::new`], this re-runs them).
    ///
    /// # Errors
    /// Never after a successful `new`; kept fallible rather than unwrapping.
    pub fn model(&self) -> Result<Model<'_>, Error> {
        Model::parse(self.bytes()).map_err(Error::Tbm)
    }

    pub fn input(&self) -> Result<Tensor, Error> {
        Ok(self.model()?.input())
    }

    pub fn output(&self) -> Result<Tensor, Error> {
        Ok(self.model()?.output())
    }

    /// Runs one sample; `observe(layer, output)` sees every layer's output.
    ///
    /// # Errors
    /// [`Error::Run`] if a buffer has the wrong size or a kernel refuses its parameters.
    pub fn run_observed(
        &self,
        kernels: Kernels,
        input: &[i8],
        observe: &mut dyn FnMut(usize, &[i8]),
    ) -> Result<Vec<i8>, Error> {
        let model = self.model()?;
        let mut arena = vec![0i8; model.arena_bytes()];
        let mut output = vec![0i8; model.output().len];
        match kernels {
            Kernels::Reference => tbm::run::<Reference>(&model, &mut arena, input, &mut output, observe),
            Kernels::Fused => tbm::run::<Fused>(&model, &mut arena, input, &mut output, observe),
            Kernels::Simd => tbm::run::<Simd>(&model, &mut arena, input, &mut output, observe),
        }
        .map_err(Error::Run)?;
        Ok(output)
    }

    /// Runs one sample.
    ///
    /// # Errors
    /// As [`Interpreter::run_observed`].
    pub fn run(&self, kernels: Kernels, input: &[i8]) -> Result<Vec<i8>, Error> {
        self.run_observed(kernels, input, &mut |_, _| {})
    }
}

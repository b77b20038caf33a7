#!/usr/bin/env python3
"""Check exported .tflite files against LiteRT itself (maintainer tool).

What it does: for each MODEL.tbm / MODEL.tflite pair, runs every sample of
INPUTS (raw int8, back to back) through LiteRT's Python interpreter with the
builtin *reference* kernels (OpResolverType.BUILTIN_REF) on MODEL.tflite,
and compares the int8 output bytes with EXPECTED, the raw outputs of
`tinybench model run MODEL.tbm --kernels reference` on the same INPUTS.
It also checks the file the way LiteRT sees it: one int8 input and output,
their shapes and byte sizes. Prints one line per model (samples, differing
bytes and samples, the first difference) and exits 1 if any byte differs.

tinybench and CI do not need this script: the Rust tests check the exported
files structurally and by importing them back. It needs Python 3.11 with
ai-edge-litert 2.3.0 and numpy, in a venv:

  python3 -m venv /tmp/litert-venv
  /tmp/litert-venv/bin/pip install ai-edge-litert==2.3.0 numpy

Run (from the repository root; the MNIST variants and their 2,000 test
digits):

  cargo build --release
  for v in int8 int4 pruned25-int4 pruned50-int4; do
    target/release/tinybench model run models/mnist-cnn/variants/$v.tbm \\
        --input models/mnist-cnn/data/test-inputs.bin --output /tmp/$v.tbm-out.bin
  done
  /tmp/litert-venv/bin/python scripts/check-tflite-export.py \\
      models/mnist-cnn/data/test-inputs.bin \\
      models/mnist-cnn/variants/int8.tflite:/tmp/int8.tbm-out.bin \\
      models/mnist-cnn/variants/int4.tflite:/tmp/int4.tbm-out.bin \\
      models/mnist-cnn/variants/pruned25-int4.tflite:/tmp/pruned25-int4.tbm-out.bin \\
      models/mnist-cnn/variants/pruned50-int4.tflite:/tmp/pruned50-int4.tbm-out.bin

Each MODEL.tflite:EXPECTED argument pairs an exported file with the engine's
outputs; --run-tinybench BIN instead runs `BIN model run` on the .tbm next to
each .tflite (same name) itself, e.g.

  /tmp/litert-venv/bin/python scripts/check-tflite-export.py \\
      models/mnist-cnn/data/test-inputs.bin --run-tinybench target/release/tinybench \\
      models/mnist-cnn/variants/*.tflite
"""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType


def litert_outputs(model, inputs):
    interp = Interpreter(model_path=model, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    (inp,) = interp.get_input_details()
    (out,) = interp.get_output_details()
    for name, detail in (("input", inp), ("output", out)):
        if np.dtype(detail["dtype"]) != np.int8:
            sys.exit(f"{model}: {name} is {np.dtype(detail['dtype']).name}, not int8")
    per_sample = int(np.prod(inp["shape"]))
    if len(inputs) % per_sample:
        sys.exit(f"{model}: {len(inputs)} input bytes is not a whole number of {per_sample}-byte samples")
    results = []
    for start in range(0, len(inputs), per_sample):
        x = np.frombuffer(inputs[start : start + per_sample], dtype=np.int8).reshape(inp["shape"])
        interp.set_tensor(inp["index"], x)
        interp.invoke()
        results.append(interp.get_tensor(out["index"]).tobytes())
    return results, int(np.prod(out["shape"]))


def tinybench_outputs(binary, tbm, inputs_path):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.bin")
        subprocess.run(
            [binary, "model", "run", tbm, "--input", inputs_path, "--output", out, "--kernels", "reference"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        with open(out, "rb") as f:
            return f.read()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("inputs", help="raw int8 input samples, back to back")
    parser.add_argument("models", nargs="+", help="MODEL.tflite:EXPECTED.bin, or MODEL.tflite with --run-tinybench")
    parser.add_argument("--run-tinybench", metavar="BIN", help="run `BIN model run` on MODEL.tbm for the expected bytes")
    args = parser.parse_args()
    with open(args.inputs, "rb") as f:
        inputs = f.read()

    failed = False
    for spec in args.models:
        if args.run_tinybench:
            model = spec
            expected = tinybench_outputs(args.run_tinybench, os.path.splitext(model)[0] + ".tbm", args.inputs)
        else:
            model, expected_path = spec.rsplit(":", 1)
            with open(expected_path, "rb") as f:
                expected = f.read()
        got, per_sample = litert_outputs(model, inputs)
        got = b"".join(got)
        if len(got) != len(expected):
            print(f"{model}: LiteRT wrote {len(got)} output bytes, tinybench {len(expected)}")
            failed = True
            continue
        a = np.frombuffer(got, dtype=np.int8)
        b = np.frombuffer(expected, dtype=np.int8)
        differ = np.nonzero(a != b)[0]
        samples = len(got) // per_sample
        bad_samples = len(set(int(i) // per_sample for i in differ))
        line = (
            f"{model}: {samples} samples, {len(got)} output bytes: {len(differ)} bytes differ "
            f"in {bad_samples} samples"
        )
        if len(differ):
            i = int(differ[0])
            line += f"; first at sample {i // per_sample} byte {i % per_sample}: LiteRT {a[i]}, tinybench {b[i]}"
            failed = True
        else:
            line += " (bit-exact)"
        print(line)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

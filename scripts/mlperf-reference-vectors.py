#!/usr/bin/env python3
"""LiteRT reference vectors for an int8 TFLite model (maintainer tool).

What it does: draws `count` uniform random int8 input samples from
numpy's default_rng(seed) (one `integers(-128, 128, size=input_shape,
dtype=int8)` call per sample, in order), runs each through LiteRT's Python
interpreter with the builtin *reference* kernels
(OpResolverType.BUILTIN_REF, the kernels TFLite Micro's reference ops
match) and writes to OUT_DIR:

  inputs.bin    the samples back to back, raw int8, model input layout (NHWC)
  outputs.bin   the matching raw int8 outputs, back to back
  meta.json     model, count, seed, input/output shape, dtype, scale,
                zero point, bytes per sample, how they were made
  sample0_ops/  every op's output tensor for sample 0 (op00_<op>_t<tensor>.bin)
                and index.json (op index, op name, tensor, tensor name,
                shape, dtype, scale, zero point, file), to find the first
                layer that differs; skipped with --no-ops

This is how models/mlperf-tiny/{kws,ad} were made: run on
kws_ref_model.tflite with --count 32 --seed 20261127 it reproduces their
inputs.bin, outputs.bin, meta.json and sample0_ops/ byte for byte.
tinybench does not need this script at run time; its tests read the files.

Requires Python 3.11 with ai-edge-litert 2.3.0 and numpy, in a venv:

  python3 -m venv /tmp/litert-venv
  /tmp/litert-venv/bin/pip install ai-edge-litert==2.3.0 numpy

Run:

  /tmp/litert-venv/bin/python scripts/mlperf-reference-vectors.py \\
      models/mlperf-tiny/ic/pretrainedResnet_quant.tflite models/mlperf-tiny/ic \\
      --count 32 --seed 20261127
"""

import argparse
import json
import os
import sys

import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType

LITERT_VERSION = "2.3.0"
REFERENCE = (
    f"LiteRT (ai-edge-litert {LITERT_VERSION}) Python interpreter with the builtin reference "
    "kernels (OpResolverType.BUILTIN_REF); inputs are uniform random int8"
)


def tensor_meta(detail):
    scale, zero_point = detail["quantization"]
    return {
        "shape": [int(d) for d in detail["shape"]],
        "dtype": np.dtype(detail["dtype"]).name,
        "scale": float(scale),
        "zero_point": int(zero_point),
        "bytes_per_sample": int(np.prod(detail["shape"])) * np.dtype(detail["dtype"]).itemsize,
    }


def write_json(path, value, indent):
    # No trailing newline, like the existing kws/ and ad/ files.
    with open(path, "w") as f:
        f.write(json.dumps(value, indent=indent))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="int8 .tflite model")
    parser.add_argument("out_dir", help="output directory (created if missing)")
    parser.add_argument("--count", type=int, default=32, help="number of samples (default 32)")
    parser.add_argument("--seed", type=int, default=20261127, help="numpy default_rng seed (default 20261127)")
    parser.add_argument("--no-ops", action="store_true", help="do not write sample0_ops/")
    args = parser.parse_args()

    interp = Interpreter(
        model_path=args.model,
        experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
        experimental_preserve_all_tensors=True,
    )
    interp.allocate_tensors()
    (inp,) = interp.get_input_details()
    (out,) = interp.get_output_details()
    for name, detail in (("input", inp), ("output", out)):
        if np.dtype(detail["dtype"]) != np.int8:
            sys.exit(f"{args.model}: {name} is {np.dtype(detail['dtype']).name}, not int8")

    os.makedirs(args.out_dir, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    inputs, outputs = [], []
    for sample in range(args.count):
        x = rng.integers(-128, 128, size=tuple(inp["shape"]), dtype=np.int8)
        interp.set_tensor(inp["index"], x)
        interp.invoke()
        inputs.append(x.tobytes())
        outputs.append(interp.get_tensor(out["index"]).tobytes())
        if sample == 0 and not args.no_ops:
            dump_ops(interp, os.path.join(args.out_dir, "sample0_ops"))

    with open(os.path.join(args.out_dir, "inputs.bin"), "wb") as f:
        f.write(b"".join(inputs))
    with open(os.path.join(args.out_dir, "outputs.bin"), "wb") as f:
        f.write(b"".join(outputs))
    meta = {
        "model": os.path.basename(args.model),
        "count": args.count,
        "seed": args.seed,
        "input": tensor_meta(inp),
        "output": tensor_meta(out),
        "reference": REFERENCE,
    }
    write_json(os.path.join(args.out_dir, "meta.json"), meta, indent=2)
    print(
        f"{args.out_dir}: {args.count} samples, input {meta['input']['bytes_per_sample']} B, "
        f"output {meta['output']['bytes_per_sample']} B each"
    )


def dump_ops(interp, ops_dir):
    """Writes every op's (single) output tensor after the last invoke."""
    os.makedirs(ops_dir, exist_ok=True)
    tensors = {t["index"]: t for t in interp.get_tensor_details()}
    index = []
    for op in interp._get_ops_details():
        (t,) = op["outputs"]
        detail = tensors[t]
        value = interp.get_tensor(t)
        scale, zero_point = detail["quantization"]
        file = f"op{op['index']:02d}_{op['op_name'].lower()}_t{t}.bin"
        with open(os.path.join(ops_dir, file), "wb") as f:
            f.write(value.tobytes())
        index.append(
            {
                "op_index": int(op["index"]),
                "op": op["op_name"],
                "tensor": int(t),
                "name": detail["name"],
                "shape": [int(d) for d in detail["shape"]],
                "dtype": np.dtype(detail["dtype"]).name,
                "scale": float(scale),
                "zero_point": int(zero_point),
                "file": file,
            }
        )
    write_json(os.path.join(ops_dir, "index.json"), index, indent=1)


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# Refreshes models/mnist-cnn/data/ (the 10,000 MNIST digits, gzipped IDX) from
# a folder holding mnist10k-images-idx3-ubyte.gz and mnist10k-labels-idx1-ubyte.gz,
# checks the SHA-256 sums recorded in models/mnist-cnn/data/README.md, and
# rewrites the engine-form test files. The repository already holds the data;
# this is a maintainer tool.
#   scripts/mnist-data.sh SOURCE_DIR
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
src="${1:?usage: scripts/mnist-data.sh SOURCE_DIR (a folder with the two gzipped IDX files)}"
dst="$root/models/mnist-cnn/data"
for f in mnist10k-images-idx3-ubyte.gz mnist10k-labels-idx1-ubyte.gz; do
    install -m 644 "$src/$f" "$dst/$f"
done
(cd "$dst" && grep -E '^[0-9a-f]{64}  mnist10k-' README.md | sha256sum -c -)
# The engine-form test set: the last 2,000 digits; int8 = pixel - 128 is the
# byte with its top bit flipped. (`tinybench model train|variants` write the
# same bytes.)
export LC_ALL=C
gzip -dc "$dst/mnist10k-images-idx3-ubyte.gz" | tail -c +$((16 + 8000 * 784 + 1)) \
    | tr '\000-\377' '\200-\377\000-\177' >"$dst/test-inputs.bin"
gzip -dc "$dst/mnist10k-labels-idx1-ubyte.gz" | tail -c +$((8 + 8000 + 1)) >"$dst/test-labels.bin"
test "$(wc -c <"$dst/test-inputs.bin")" -eq $((2000 * 784))
test "$(wc -c <"$dst/test-labels.bin")" -eq 2000
echo "refreshed $dst"

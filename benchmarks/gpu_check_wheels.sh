#!/usr/bin/env bash
# Fetch the wheels the GPU machine lacks (its image has numba, numba-cuda, CuPy,
# scikit-learn, pytest; not imbalanced-learn, not Dask) into .whl/, for the device tool's
# `carry`. Then, on the device, in one call (carry: [".whl"]):
#   python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl \
#     && export PYTHONPATH=/tmp/site:$PWD && python3 -m benchmarks.gpu_check --quick
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform any -d .whl \
  imbalanced-learn==0.14.2 sklearn-compat==0.1.6 \
  dask==2026.8.0 click cloudpickle fsspec importlib_metadata zipp partd locket toolz pyyaml
ls -la .whl

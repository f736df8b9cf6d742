"""k-NN backends on one minority class: gpusmote's exact search, scikit-learn's
brute force (what imbalanced-learn uses) and, when FAISS is installed, its flat
search alone and gpusmote's exact FAISS-candidate search.

Run ``python -m benchmarks.knn_backends``. "faiss flat (cand.)" returns the
``k + 5`` candidates our re-rank needs and nothing more (not exact);
"faiss + re-rank" is :func:`gpusmote.neighbors._faiss.kneighbors_excluding_self_faiss`
on the CPU, whose table is checked equal to gpusmote's own search.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.neighbors import NearestNeighbors

from gpusmote.neighbors._cpu import kneighbors_excluding_self, n_candidates
from gpusmote.neighbors._faiss import kneighbors_excluding_self_faiss
from gpusmote.datasets import make_fraud_like


def _best_of(fn, repeat):
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minority-rows", type=int, default=10_000)
    parser.add_argument("--features", type=int, nargs="+", default=[32, 256])
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    try:
        import faiss
    except ImportError:
        faiss = None
    print(f"{'rows x dims':>14}{'gpusmote exact':>16}{'sklearn brute':>15}{'faiss flat (cand.)':>20}"
          f"{'faiss + re-rank':>17}")
    for n_features in args.features:
        X, y = make_fraud_like(args.minority_rows * 20, n_features, 0.05, random_state=0)
        data = np.ascontiguousarray(X[y == 1][: args.minority_rows])
        kneighbors_excluding_self(data[:200], args.k)  # JIT warm-up
        ours = _best_of(lambda: kneighbors_excluding_self(data, args.k), args.repeat)
        nn = NearestNeighbors(n_neighbors=args.k + 1, algorithm="brute").fit(data)
        theirs = _best_of(lambda: nn.kneighbors(data, return_distance=False), args.repeat)
        faiss_time = exact_faiss_time = "not installed"
        if faiss is not None:
            index = faiss.IndexFlatL2(n_features)
            index.add(data)
            m = n_candidates(args.k, len(data)) + 1
            faiss_time = f"{_best_of(lambda: index.search(data, m), args.repeat):.3f} s"
            same = np.array_equal(kneighbors_excluding_self_faiss(data, args.k, np, on_cuda=False),
                                  kneighbors_excluding_self(data, args.k))
            seconds = _best_of(lambda: kneighbors_excluding_self_faiss(data, args.k, np, on_cuda=False),
                               args.repeat)
            exact_faiss_time = f"{seconds:.3f} s" + ("" if same else " DIFFERS")
        print(f"{f'{len(data):,} x {n_features}':>14}{ours:>14.3f} s{theirs:>13.3f} s{faiss_time:>20}"
              f"{exact_faiss_time:>17}")


if __name__ == "__main__":
    main()

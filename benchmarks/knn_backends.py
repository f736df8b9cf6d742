"""k-NN backends on one minority class: gpusmote's exact search, scikit-learn's
brute force (what imbalanced-learn uses) and FAISS's flat index when installed.

Run ``python -m benchmarks.knn_backends``. FAISS is timed returning the same
number of candidates our re-rank needs (``k + 4``), i.e. before any exact
re-rank, so its figure is a lower bound for an exact FAISS-based search.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.neighbors import NearestNeighbors

from gpusmote._knn import kneighbors_excluding_self, n_candidates
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
    print(f"{'rows x dims':>14}{'gpusmote exact':>16}{'sklearn brute':>15}{'faiss flat (cand.)':>20}")
    for n_features in args.features:
        X, y = make_fraud_like(args.minority_rows * 20, n_features, 0.05, random_state=0)
        data = np.ascontiguousarray(X[y == 1][: args.minority_rows])
        kneighbors_excluding_self(data[:200], args.k)  # JIT warm-up
        ours = _best_of(lambda: kneighbors_excluding_self(data, args.k), args.repeat)
        nn = NearestNeighbors(n_neighbors=args.k + 1, algorithm="brute").fit(data)
        theirs = _best_of(lambda: nn.kneighbors(data, return_distance=False), args.repeat)
        faiss_time = "not installed"
        if faiss is not None:
            index = faiss.IndexFlatL2(n_features)
            index.add(data)
            m = n_candidates(args.k, len(data)) + 1
            faiss_time = f"{_best_of(lambda: index.search(data, m), args.repeat):.3f} s"
        print(f"{f'{len(data):,} x {n_features}':>14}{ours:>14.3f} s{theirs:>13.3f} s{faiss_time:>20}")


if __name__ == "__main__":
    main()

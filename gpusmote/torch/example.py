"""Train a small MLP on fraud-like data five ways: original rows, BCE ``pos_weight``,
``WeightedRandomSampler``, ``SMOTEDataset`` and ``BalancedBatches``.

Run: ``python -m gpusmote.torch.example`` (a few minutes on a 2-core CPU;
``--seeds 1 --epochs 2`` for a quick look). The data set is fixed; each way
is trained with several seeds (model initialisation, order, SMOTE stream), and
the table gives the median and range of held-out average precision and
balanced accuracy (at probability 0.5), and the median training time. The last
line says whether re-weighting is as good as SMOTE on this data: on the default
data it is (docs/pytorch.md has a run).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterable

import numpy as np
import torch
from sklearn.metrics import average_precision_score, balanced_accuracy_score
from sklearn.model_selection import train_test_split
from torch import nn
from torch.utils.data import DataLoader, TensorDataset, WeightedRandomSampler

from gpusmote.datasets import make_fraud_like
from gpusmote.torch import BalancedBatches, SMOTEDataset


def _model(n_features: int) -> nn.Module:
    return nn.Sequential(nn.Linear(n_features, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                         nn.Linear(64, 1))


def train(batches: Callable[[int], Iterable], n_features: int, epochs: int, seed: int,
          pos_weight: float | None = None) -> nn.Module:
    """Adam + binary cross-entropy over ``batches(epoch)``, an iterable of (X, y) batches."""
    torch.manual_seed(seed)
    model = _model(n_features)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    weight = None if pos_weight is None else torch.tensor(pos_weight)
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=weight)
    for epoch in range(epochs):
        for X_batch, y_batch in batches(epoch):
            optimiser.zero_grad()
            loss = loss_fn(model(X_batch).squeeze(1), y_batch.float())
            loss.backward()
            optimiser.step()
    return model


def evaluate(model: nn.Module, X: torch.Tensor, y: np.ndarray) -> tuple[float, float]:
    """(average precision, balanced accuracy at probability 0.5)."""
    with torch.no_grad():
        scores = torch.sigmoid(model(X).squeeze(1)).numpy()
    return average_precision_score(y, scores), balanced_accuracy_score(y, scores >= 0.5)


def ways(X: torch.Tensor, y: torch.Tensor, batch_size: int, seed: int) -> dict:
    """name -> (batches(epoch), rows per epoch, pos_weight) for one training seed."""
    n_pos = int(y.sum())
    plain = TensorDataset(X, y)

    def loader(dataset, **kwargs) -> DataLoader:
        return DataLoader(dataset, batch_size=batch_size,
                          generator=torch.Generator().manual_seed(seed), **kwargs)

    shuffled = loader(plain, shuffle=True)
    # Weights 1 / class size: each draw is a minority row half the time.
    row_weights = torch.where(y == 1, 1.0 / n_pos, 1.0 / (len(y) - n_pos)).double()
    sampled = loader(plain, sampler=WeightedRandomSampler(
        row_weights, len(y), generator=torch.Generator().manual_seed(seed)))
    smote = SMOTEDataset(X, y, random_state=seed)
    smote_loader = loader(smote, shuffle=True)
    balanced = BalancedBatches(X, y, batch_size=batch_size, random_state=seed)

    def smote_epoch(epoch: int) -> DataLoader:
        smote.set_epoch(epoch)
        return smote_loader

    return {
        "original rows": (lambda epoch: shuffled, len(y), None),
        "pos_weight": (lambda epoch: shuffled, len(y), (len(y) - n_pos) / n_pos),
        "WeightedRandomSampler": (lambda epoch: sampled, len(y), None),
        "SMOTEDataset": (smote_epoch, len(smote), None),
        # Each pass is a new epoch (auto_advance); batches are 50% minority.
        "BalancedBatches": (lambda epoch: balanced, len(balanced) * batch_size, None),
    }


def _summary(values: list[float]) -> str:
    median = statistics.median(values)
    if len(values) == 1:
        return f"{median:.3f}"
    return f"{median:.3f} ({min(values):.3f}-{max(values):.3f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Train a small MLP on fraud-like data with SMOTE rows and with re-weighting.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--rows", type=int, default=60_000, help="rows of data (70%% train)")
    parser.add_argument("--features", type=int, default=16, help="features")
    parser.add_argument("--minority", type=float, default=0.01, help="minority fraction")
    parser.add_argument("--epochs", type=int, default=4, help="training epochs")
    parser.add_argument("--batch-size", type=int, default=256, help="rows per batch")
    parser.add_argument("--seeds", type=int, default=3, help="training seeds per way")
    parser.add_argument("--seed", type=int, default=0, help="the data's seed")
    args = parser.parse_args(argv)

    X, y = make_fraud_like(args.rows, args.features, args.minority, random_state=args.seed)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=args.seed)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0) + 1e-6
    X_train, X_test = (X_train - mean) / std, (X_test - mean) / std
    X_train_t, y_train_t = torch.from_numpy(X_train), torch.from_numpy(y_train)
    print(f"train: {len(X_train):,} rows, {int(y_train.sum()):,} minority; "
          f"test: {len(X_test):,} rows, {int(y_test.sum()):,} minority; "
          f"{args.epochs} epochs, {args.seeds} seed(s): median (min-max)")

    results: dict[str, dict[str, list[float]]] = {}
    rows: dict[str, int] = {}
    for seed in range(args.seeds):
        for name, (batches, n_rows, pos_weight) in ways(X_train_t, y_train_t, args.batch_size,
                                                        seed).items():
            start = time.perf_counter()
            model = train(batches, X.shape[1], args.epochs, seed, pos_weight)
            seconds = time.perf_counter() - start
            ap, bal_acc = evaluate(model, torch.from_numpy(X_test), y_test)
            scores = results.setdefault(name, {"ap": [], "bal": [], "s": []})
            scores["ap"].append(ap)
            scores["bal"].append(bal_acc)
            scores["s"].append(seconds)
            rows[name] = n_rows

    print(f"{'':>22}  {'rows/epoch':>10}  {'average precision':>19}  "
          f"{'balanced accuracy':>19}  {'seconds':>7}")
    for name, scores in results.items():
        print(f"{name:>22}  {rows[name]:>10,}  {_summary(scores['ap']):>19}  "
              f"{_summary(scores['bal']):>19}  {statistics.median(scores['s']):>7.1f}")
    best_smote = max(statistics.median(results[n]["ap"]) for n in ("SMOTEDataset",
                                                                     "BalancedBatches"))
    best_weighting = max(statistics.median(results[n]["ap"]) for n in ("pos_weight",
                                                                       "WeightedRandomSampler"))
    verdict = ("as good as SMOTE or better" if best_weighting >= best_smote - 0.005
               else "worse than SMOTE")
    print(f"median average precision: SMOTE's best {best_smote:.3f}, re-weighting's best "
          f"{best_weighting:.3f}: on this data re-weighting is {verdict}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Train a small MLP on fraud-like data with and without SMOTE rows from a DataLoader.

Run: ``python -m gpusmote.torch.example`` (about a minute on a laptop CPU).
It prints average precision and balanced accuracy on a held-out split for the
same model trained on the original rows and on :class:`SMOTEDataset`, which
adds fresh synthetic minority rows every epoch.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from sklearn.metrics import average_precision_score, balanced_accuracy_score
from sklearn.model_selection import train_test_split
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from gpusmote.datasets import make_fraud_like
from gpusmote.torch import SMOTEDataset


def _model(n_features: int) -> nn.Module:
    return nn.Sequential(nn.Linear(n_features, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                         nn.Linear(64, 1))


def train(dataset, n_features: int, epochs: int, batch_size: int, seed: int) -> nn.Module:
    """Adam + binary cross-entropy; calls ``set_epoch`` when the data has it."""
    torch.manual_seed(seed)
    model = _model(n_features)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.BCEWithLogitsLoss()
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    for epoch in range(epochs):
        if hasattr(dataset, "set_epoch"):
            dataset.set_epoch(epoch)
        for X_batch, y_batch in loader:
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=60_000)
    parser.add_argument("--features", type=int, default=16)
    parser.add_argument("--minority", type=float, default=0.01)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    X, y = make_fraud_like(args.rows, args.features, args.minority, random_state=args.seed)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=args.seed)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0) + 1e-6
    X_train, X_test = (X_train - mean) / std, (X_test - mean) / std
    X_train_t, y_train_t = torch.from_numpy(X_train), torch.from_numpy(y_train)
    print(f"train: {len(X_train):,} rows, {int(y_train.sum()):,} minority; "
          f"test: {len(X_test):,} rows, {int(y_test.sum()):,} minority")

    runs = {
        "original rows": lambda: TensorDataset(X_train_t, y_train_t),
        "SMOTEDataset": lambda: SMOTEDataset(X_train_t, y_train_t, random_state=args.seed),
    }
    for name, make_data in runs.items():
        start = time.perf_counter()
        data = make_data()
        model = train(data, X.shape[1], args.epochs, args.batch_size, args.seed)
        ap, bal_acc = evaluate(model, torch.from_numpy(X_test), y_test)
        print(f"{name:>14}: {len(data):>7,} rows/epoch, average precision {ap:.3f}, "
              f"balanced accuracy {bal_acc:.3f} ({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

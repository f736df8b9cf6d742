"""gpusmote.torch on PyTorch's CPU build: resample, SMOTEDataset, BalancedBatches."""

import multiprocessing

import numpy as np
import pytest
import torch
from helpers import make_classes
from torch.utils.data import DataLoader, DistributedSampler, IterableDataset

from gpusmote import SMOTE
from gpusmote.torch import BalancedBatches, SMOTEDataset, resample


@pytest.fixture(scope="module")
def data():
    X, y = make_classes([400, 45, 30], n_features=5, dtype=np.float32, seed=1)
    return X, y


@pytest.fixture(scope="module")
def reference(data):
    X, y = data
    return SMOTE(random_state=7, k_neighbors=4, rng="philox").fit_resample(X, y)


@pytest.fixture(scope="module")
def dataset(data):
    X, y = data
    return SMOTEDataset(torch.from_numpy(X), torch.from_numpy(y), k_neighbors=4, random_state=7)


def _collect(loader):
    X_parts, y_parts = zip(*loader)
    return torch.cat(X_parts).numpy(), torch.cat(y_parts).numpy()


# --- resample ---------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_resample_returns_fit_resamples_rows_as_tensors(dtype):
    X, y = make_classes([200, 30], n_features=4, dtype=dtype, seed=2)
    X_ref, y_ref = SMOTE(random_state=3).fit_resample(X, y)
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    X_res, y_res = resample(X_t, y_t, random_state=3)
    assert isinstance(X_res, torch.Tensor) and X_res.dtype == X_t.dtype
    assert y_res.dtype == y_t.dtype and X_res.device == X_t.device
    np.testing.assert_array_equal(X_res.numpy(), X_ref, strict=True)
    np.testing.assert_array_equal(y_res.numpy(), y_ref, strict=True)
    assert torch.equal(X_t, torch.from_numpy(X))  # the input is untouched


def test_resample_takes_any_sampler(data):
    from imblearn.over_sampling import RandomOverSampler

    X, y = data
    X_res, y_res = resample(torch.from_numpy(X), torch.from_numpy(y),
                            RandomOverSampler(random_state=0))
    X_ref, _ = RandomOverSampler(random_state=0).fit_resample(X, y)
    np.testing.assert_array_equal(X_res.numpy(), X_ref)
    with pytest.raises(TypeError, match="not with it"):
        resample(torch.from_numpy(X), torch.from_numpy(y), SMOTE(), random_state=0)


# --- SMOTEDataset -----------------------------------------------------------

def test_dataset_rows_are_fit_resamples_rows(dataset, reference):
    X_ref, y_ref = reference
    assert len(dataset) == len(X_ref)
    X_all, y_all = _collect(DataLoader(dataset, batch_size=64))
    np.testing.assert_array_equal(X_all, X_ref, strict=True)
    np.testing.assert_array_equal(y_all, y_ref, strict=True)
    x, label = dataset[len(X_ref) - 1]
    assert torch.equal(x, torch.from_numpy(X_ref[-1])) and int(label) == y_ref[-1]
    assert torch.equal(dataset[-1][0], x)
    with pytest.raises(IndexError):
        dataset[len(X_ref)]


def test_shuffled_loader_yields_every_row_once(dataset, reference):
    X_ref, _ = reference
    loader = DataLoader(dataset, batch_size=50, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    X_all, _ = _collect(loader)
    assert not np.array_equal(X_all, X_ref)
    np.testing.assert_array_equal(np.unique(X_all, axis=0), np.unique(X_ref, axis=0))
    assert len(X_all) == len(X_ref)


@pytest.mark.parametrize("num_workers,batch_size", [(0, 1), (0, 97), (2, 33), (2, 256)])
def test_rows_do_not_depend_on_workers_or_batch_size(dataset, reference, num_workers, batch_size):
    X_all, y_all = _collect(DataLoader(dataset, batch_size=batch_size, num_workers=num_workers))
    np.testing.assert_array_equal(X_all, reference[0], strict=True)
    np.testing.assert_array_equal(y_all, reference[1], strict=True)


def test_set_epoch_reaches_persistent_workers(data, dataset):
    n_rows = len(data[0])
    loader = DataLoader(dataset, batch_size=64, num_workers=2, persistent_workers=True)
    try:
        dataset.set_epoch(1)
        epoch1, _ = _collect(loader)
        dataset.set_epoch(2)
        epoch2, _ = _collect(loader)
        dataset.set_epoch(1)
        again, _ = _collect(loader)
    finally:
        dataset.set_epoch(0)
    np.testing.assert_array_equal(epoch1[:n_rows], data[0])
    np.testing.assert_array_equal(epoch2[:n_rows], data[0])
    assert not np.any(np.all(epoch1[n_rows:] == epoch2[n_rows:], axis=1))
    np.testing.assert_array_equal(again, epoch1)


def test_spawned_workers_get_a_pickled_dataset(dataset, reference):
    loader = DataLoader(dataset, batch_size=128, num_workers=1, multiprocessing_context="spawn")
    X_all, _ = _collect(loader)
    np.testing.assert_array_equal(X_all, reference[0], strict=True)


def test_distributed_sampler_with_two_replicas_covers_each_index_once(dataset, reference):
    seen = []
    for rank in (0, 1):
        sampler = DistributedSampler(dataset, num_replicas=2, rank=rank, shuffle=True, seed=4)
        sampler.set_epoch(3)
        seen.append(np.fromiter(iter(sampler), dtype=np.int64))
        X_part, _ = _collect(DataLoader(dataset, batch_size=40, sampler=sampler))
        np.testing.assert_array_equal(X_part, reference[0][seen[-1]], strict=True)
    everything = np.concatenate(seen)
    padding = len(everything) - len(dataset)  # DistributedSampler pads to equal shares
    assert 0 <= padding < 2
    np.testing.assert_array_equal(np.unique(everything), np.arange(len(dataset)))
    assert len(np.unique(everything)) == len(everything) - padding


def test_zero_dim_index_is_one_row_like_an_int(dataset, reference):
    kinds = [3, np.int64(3), torch.tensor(3), np.array(3)]
    rows = [dataset[i] for i in kinds]
    for x, label in rows:
        assert x.shape == (5,) and label.shape == ()
        np.testing.assert_array_equal(x.numpy(), reference[0][3], strict=True)
        assert int(label) == reference[1][3]
    synthetic = len(reference[0]) - 1  # a synthetic row too
    assert torch.equal(dataset[torch.tensor(synthetic)][0], dataset[synthetic][0])
    for float_index in (torch.tensor(3.0), 3.0, [3, 4.5], np.array([1.0])):
        with pytest.raises(TypeError):  # no float index (it used to be truncated)
            dataset[float_index]


@pytest.mark.parametrize("index", [np.uint64(2**64 - 1), 2**64 - 1, 2**63, 2**70, -(2**63), -(2**70),
                                   np.uint64(2**63), [0, 2**64 - 1], np.array([2**63], np.uint64)])
def test_indices_beyond_int64_are_index_errors_not_wrapped(dataset, index):
    # np.uint64(2**64 - 1) used to wrap to -1 and return the last row.
    with pytest.raises(IndexError, match="out of range"):
        dataset[index]


def test_negative_indices_count_from_the_end(dataset, reference):
    n = len(reference[0])
    assert torch.equal(dataset[-n][0], dataset[0][0])
    assert torch.equal(dataset[[-1, -n]][0], torch.stack([dataset[n - 1][0], dataset[0][0]]))
    with pytest.raises(IndexError):
        dataset[-n - 1]


def test_getitems_is_one_batch_of_samples(dataset, reference):
    samples = dataset.__getitems__([3, len(reference[0]) - 2, 10])
    assert len(samples) == 3 and all(len(s) == 2 for s in samples)
    np.testing.assert_array_equal(samples[1][0].numpy(), reference[0][-2])


@pytest.mark.parametrize(
    "X, y, error, match",
    [
        (torch.zeros(10, 2), torch.zeros(10, 1, dtype=torch.int64), ValueError, "y must be 1-D"),
        (torch.zeros(10, 2), torch.zeros(9, dtype=torch.int64), ValueError, "different lengths"),
        (torch.zeros(10, 2, dtype=torch.int64), torch.zeros(10, dtype=torch.int64), TypeError,
         "float32 or float64"),
        (torch.zeros(10), torch.zeros(10, dtype=torch.int64), ValueError, "X must be 2-D"),
        ([[0.0, 1.0]] * 10, torch.zeros(10, dtype=torch.int64), TypeError, "torch.Tensor"),
        (torch.zeros(10, 2), torch.full((10,), 0.5), ValueError, "integer class labels"),
        (torch.zeros(10, 2), torch.zeros(10, dtype=torch.complex64), TypeError,
         "integer class labels"),
    ],
)
def test_bad_input_is_named(X, y, error, match):
    with pytest.raises(error, match=match):
        SMOTEDataset(X, y)
    with pytest.raises(error, match=match):
        BalancedBatches(X, y)


def test_dataset_errors_from_the_sampler(data):
    X, y = (torch.from_numpy(a) for a in data)
    with pytest.raises(ValueError, match="n_neighbors = 31"):
        SMOTEDataset(X, y, k_neighbors=30)
    nan_X = X.clone()
    nan_X[5, 1] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        SMOTEDataset(nan_X, y)
    with pytest.raises(ValueError, match="epoch"):
        SMOTEDataset(X, y).set_epoch(-1)


# --- BalancedBatches --------------------------------------------------------

def test_balanced_batches_composition_and_coverage(data):
    X, y = data
    batches = BalancedBatches(torch.from_numpy(X), torch.from_numpy(y), batch_size=100,
                              minority_fraction=0.4, k_neighbors=4, random_state=7)
    majority_per_batch = 60
    assert len(batches) == -(-400 // majority_per_batch)
    parts = list(batches)
    for X_b, y_b in parts[:-1]:
        assert X_b.shape == (100, 5) and X_b.dtype == torch.float32
        assert int((y_b != 0).sum()) == 40
    last_majority = 400 - 60 * (len(batches) - 1)
    assert int((parts[-1][1] == 0).sum()) == last_majority
    assert int((parts[-1][1] != 0).sum()) == round(last_majority * 0.4 / 0.6)
    # every original row appears exactly once per epoch
    X_all = torch.cat([p[0] for p in parts]).numpy()
    originals = {row.tobytes() for row in X}
    seen = [row.tobytes() for row in X_all if row.tobytes() in originals]
    assert len(seen) == len(set(seen)) == len(X)


def test_balanced_batches_synthetic_rows_are_the_streams_rows(data, reference):
    X, y = data
    batches = BalancedBatches(torch.from_numpy(X), torch.from_numpy(y), batch_size=50,
                              minority_fraction=0.5, k_neighbors=4, random_state=7)
    source, js, cls, _ = batches.epoch_plan()
    X_all = torch.cat([p[0] for p in batches]).numpy()
    X_ref, y_ref = reference
    starts = {1: len(X), 2: len(X) + int((y_ref == 1).sum()) - int((y == 1).sum())}
    synthetic = np.flatnonzero(source < 0)
    checked = 0
    for slot in synthetic:
        label = int(cls[slot]) + 1
        n_block = int((y_ref == label).sum() - (y == label).sum())
        if js[slot] < n_block:  # epoch 0 draws the same rows fit_resample does
            np.testing.assert_array_equal(X_all[slot], X_ref[starts[label] + js[slot]])
            checked += 1
    assert checked > 0
    originals = source >= 0
    np.testing.assert_array_equal(X_all[originals], X[source[originals]])


def test_balanced_batches_deterministic_per_epoch(data):
    X, y = (torch.from_numpy(a) for a in data)
    first = BalancedBatches(X, y, batch_size=64, random_state=1)
    second = BalancedBatches(X, y, batch_size=64, random_state=1)
    a, b = list(first), list(second)
    assert all(torch.equal(p[0], q[0]) and torch.equal(p[1], q[1]) for p, q in zip(a, b))
    first.set_epoch(1)
    assert not torch.equal(next(iter(first))[0], a[0][0])


def test_balanced_batches_bad_settings(data):
    X, y = (torch.from_numpy(a) for a in data)
    with pytest.raises(ValueError, match="minority_fraction must be in"):
        BalancedBatches(X, y, minority_fraction=1.0)
    with pytest.raises(ValueError, match="batch_size"):
        BalancedBatches(X, y, batch_size=1)
    with pytest.raises(ValueError, match="below the data's own minority share"):
        BalancedBatches(X, y, batch_size=100, minority_fraction=0.02)
    with pytest.raises(ValueError, match="do not fill one batch"):
        BalancedBatches(X, y, batch_size=1000, drop_last=True)
    with pytest.raises(ValueError, match="over-samples every class, so no class is left to "
                                         "define an epoch"):
        BalancedBatches(X, y, batch_size=2, sampling_strategy={0: 500, 1: 500, 2: 500})


def test_balanced_batches_take_x_that_requires_grad(data):
    X, y = (torch.from_numpy(a) for a in data)
    leaf = X.clone().requires_grad_(True)
    batches = list(BalancedBatches(leaf, y, batch_size=64, random_state=1))
    plain = list(BalancedBatches(X, y, batch_size=64, random_state=1))
    assert len(batches) == len(plain)
    for (X_b, y_b), (X_p, y_p) in zip(batches, plain):
        assert not X_b.requires_grad and X_b.grad_fn is None
        assert torch.equal(X_b, X_p) and torch.equal(y_b, y_p)


class _Epoch(IterableDataset):
    """One epoch of a BalancedBatches, iterated in a DataLoader worker."""

    def __init__(self, batches):
        self.batches = batches

    def __iter__(self):
        return iter(self.batches)


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork")
def test_balanced_batches_in_a_forked_worker_after_a_parallel_kernel(data):
    X, y = (torch.from_numpy(a) for a in data)
    batches = BalancedBatches(X, y, batch_size=64, random_state=1)
    expected = list(batches)  # the parallel CPU kernel, in this (the parent) process
    batches.set_epoch(0)  # the next pass would take epoch 1
    loader = DataLoader(_Epoch(batches), batch_size=None, num_workers=1,
                        multiprocessing_context="fork")
    got = list(loader)
    assert len(got) == len(expected)
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(got, expected))


def test_batch_indices_give_whole_batches(dataset, reference):
    from torch.utils.data import BatchSampler, SequentialSampler

    loader = DataLoader(dataset, sampler=BatchSampler(SequentialSampler(dataset), 50, False),
                        batch_size=None)
    X_all, y_all = _collect(loader)
    np.testing.assert_array_equal(X_all, reference[0], strict=True)
    np.testing.assert_array_equal(y_all, reference[1], strict=True)


def test_example_compares_smote_with_reweighting(capsys):
    from gpusmote.torch.example import main

    assert main(["--rows", "3000", "--features", "6", "--minority", "0.05", "--epochs", "1",
                 "--seeds", "2"]) == 0
    out = capsys.readouterr().out
    for way in ("original rows", "pos_weight", "WeightedRandomSampler", "SMOTEDataset",
                "BalancedBatches"):
        assert out.count(f"{way}  ") == 1, out
    assert "median (min-max)" in out and "on this data re-weighting is" in out

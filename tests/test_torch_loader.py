"""BalancedBatches as an IterableDataset: DataLoader workers, ranks, epochs, and the
inputs PyTorch users pass to gpusmote.torch (dtypes, float labels, NumPy, devices, masks)."""

import numpy as np
import pytest
import torch
from helpers import make_classes
from torch.utils.data import DataLoader, IterableDataset

from gpusmote import SMOTE
from gpusmote.torch import BalancedBatches, SMOTEDataset, resample
from gpusmote.torch._shards import majority_per_batch, shard

N_MAJORITY = 400


@pytest.fixture(scope="module")
def data():
    X, y = make_classes([N_MAJORITY, 45, 30], n_features=5, dtype=np.float32, seed=1)
    return X, y


@pytest.fixture(scope="module")
def row_ids(data):
    return {row.tobytes(): i for i, row in enumerate(data[0])}


def _batches(data, **params):
    X, y = data
    params = {"batch_size": 64, "random_state": 3, "k_neighbors": 4,
              "return_synthetic_mask": True, **params}
    X, y = (torch.as_tensor(a) for a in (X, y))
    return BalancedBatches(X, y, **params)


def _pass(iterable):
    return [tuple(t.clone() for t in batch) for batch in iterable]


def _same(a, b):
    return len(a) == len(b) and all(
        all(torch.equal(s, t) for s, t in zip(p, q)) for p, q in zip(a, b))


def _majority_ids(batches, data, row_ids):
    """Original majority rows of a pass, as row numbers (checks the mask on the way)."""
    ids = []
    for X_b, y_b, synthetic in batches:
        for row, label in zip(X_b[~synthetic].numpy(), y_b[~synthetic].numpy()):
            assert row.tobytes() in row_ids  # an unmarked row is an original row
            if label == 0:
                ids.append(row_ids[row.tobytes()])
    return ids


# --- DataLoader workers -----------------------------------------------------

def test_it_is_an_iterable_dataset(data):
    assert isinstance(_batches(data), IterableDataset)


@pytest.mark.filterwarnings("ignore:This DataLoader will create 3 worker processes")
@pytest.mark.parametrize("num_workers", [2, 3])
def test_workers_make_the_same_batches_in_the_same_order(data, row_ids, num_workers):
    batches = _batches(data)
    expected = _pass(batches)
    batches.set_epoch(0)
    loader = DataLoader(batches, batch_size=None, num_workers=num_workers)
    assert len(loader) == len(expected) == 13
    got = _pass(loader)
    assert _same(got, expected)
    ids = _majority_ids(got, data, row_ids)
    assert sorted(ids) == sorted(np.flatnonzero(data[1] == 0).tolist())  # each exactly once


def test_each_worker_makes_its_own_share(data):
    seen = []

    class Probe(IterableDataset):  # records which batches each worker makes
        def __iter__(self):
            info = torch.utils.data.get_worker_info()
            for batch in batches:
                yield info.id, batch[0]

    batches = _batches(data, batch_size=100)
    for worker, X_b in DataLoader(Probe(), batch_size=None, num_workers=2):
        seen.append((int(worker), X_b))
    assert [w for w, _ in seen] == [0, 1] * (len(batches) // 2) + [0] * (len(batches) % 2)


# --- ranks --------------------------------------------------------------------

@pytest.mark.parametrize("world_size,num_workers,drop_last", [(3, 2, False), (2, 0, False),
                                                              (4, 0, True)])
def test_ranks_and_workers_cover_each_majority_row_once(data, row_ids, world_size, num_workers,
                                                        drop_last):
    per_rank, ids = [], []
    for rank in range(world_size):
        batches = _batches(data, rank=rank, world_size=world_size, drop_last=drop_last)
        got = _pass(DataLoader(batches, batch_size=None, num_workers=num_workers))
        assert len(got) == len(batches)
        per_rank.append(got)
        ids += _majority_ids(got, data, row_ids)
    assert len({len(p) for p in per_rank}) == 1  # DDP needs equal batch counts
    assert len(ids) == len(set(ids))
    if drop_last:
        assert len(ids) == len(per_rank) * len(per_rank[0]) * (64 - 32)
    else:
        assert sorted(ids) == sorted(np.flatnonzero(data[1] == 0).tolist())
    # rank r's k-th batch is batch r + k * world_size of the epoch plan
    plan = _batches(data, rank=0, world_size=world_size, drop_last=drop_last).epoch_plan(0)
    source, starts = plan[0], plan[3]
    for rank, got in enumerate(per_rank):
        for k, (X_b, _, synthetic) in enumerate(got):
            b = rank + k * world_size
            np.testing.assert_array_equal(synthetic.numpy(), source[starts[b]:starts[b + 1]] < 0)
            np.testing.assert_array_equal(X_b[~synthetic].numpy(),
                                          data[0][source[starts[b]:starts[b + 1]][
                                              ~synthetic.numpy()]])


def test_rank_comes_from_torch_distributed_when_initialised(data, monkeypatch):
    import torch.distributed as dist

    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist, "get_rank", lambda group=None: 1)
    monkeypatch.setattr(dist, "get_world_size", lambda group=None: 2)
    from_dist = _batches(data)
    assert (from_dist.rank, from_dist.world_size) == (1, 2)
    assert _same(_pass(from_dist), _pass(_batches(data, rank=1, world_size=2)))
    explicit = _batches(data, rank=0, world_size=3)  # arguments win
    assert (explicit.rank, explicit.world_size) == (0, 3)
    assert "rank=1, world_size=2" in repr(from_dist)


_DDP_RANK = """
import json, sys
import numpy as np, torch, torch.distributed as dist
from gpusmote.torch import BalancedBatches

rank, folder = int(sys.argv[1]), sys.argv[2]
dist.init_process_group("gloo", init_method=f"file://{folder}/store", rank=rank, world_size=2)
data = np.load(f"{folder}/data.npz")
X, y = data["X"], data["y"]
ids = {row.tobytes(): i for i, row in enumerate(X)}
batches = BalancedBatches(torch.from_numpy(X), torch.from_numpy(y), batch_size=64, random_state=3,
                          k_neighbors=4, return_synthetic_mask=True)
counts = [torch.zeros(1, dtype=torch.int64) for _ in range(2)]
dist.all_gather(counts, torch.tensor([len(batches)]))
majority = [ids[row.tobytes()] for X_b, y_b, synthetic in batches
            for row, label in zip(X_b[~synthetic].numpy(), y_b[~synthetic].numpy()) if label == 0]
json.dump({"rank": batches.rank, "world_size": batches.world_size,
           "counts": [int(c) for c in counts], "majority": majority},
          open(f"{folder}/rank{rank}.json", "w"))
dist.destroy_process_group()
"""


def test_ranks_of_a_real_process_group(data, tmp_path):
    import json
    import subprocess
    import sys

    np.savez(tmp_path / "data.npz", X=data[0], y=data[1])
    # Fresh interpreters, started outside the checkout: they import the
    # installed gpusmote, as the tests do.
    ranks = [subprocess.Popen([sys.executable, "-c", _DDP_RANK, str(rank), str(tmp_path)],
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True) for rank in (0, 1)]
    for process in ranks:
        output, _ = process.communicate(timeout=180)
        assert process.returncode == 0, output
    results = [json.loads((tmp_path / f"rank{rank}.json").read_text()) for rank in (0, 1)]
    assert [(r["rank"], r["world_size"]) for r in results] == [(0, 2), (1, 2)]
    assert results[0]["counts"] == results[1]["counts"] == [7, 7]  # DDP needs equal counts
    majority = results[0]["majority"] + results[1]["majority"]
    assert sorted(majority) == sorted(np.flatnonzero(data[1] == 0).tolist())


def test_rank_defaults_to_a_single_process(data):
    batches = _batches(data)
    assert (batches.rank, batches.world_size) == (0, 1)


@pytest.mark.parametrize("params,match", [({"rank": 1}, "together"),
                                          ({"world_size": 2}, "together"),
                                          ({"rank": 2, "world_size": 2}, r"\[0, world_size\)"),
                                          ({"rank": 0, "world_size": 0}, r"\[0, world_size\)"),
                                          ({"rank": 0.0, "world_size": 2}, "int")])
def test_bad_rank_settings(data, params, match):
    with pytest.raises(ValueError, match=match):
        _batches(data, **params)


@pytest.mark.parametrize("n_rows,per_batch,world_size", [(400, 32, 1), (400, 32, 3), (400, 60, 8),
                                                         (65, 32, 3), (7, 3, 4), (1, 5, 1)])
def test_layout_gives_every_rank_the_same_number_of_non_empty_batches(n_rows, per_batch,
                                                                      world_size):
    sizes = majority_per_batch(n_rows, per_batch, world_size, drop_last=False)
    assert sizes.sum() == n_rows and len(sizes) % world_size == 0
    assert sizes.min() >= 1 and sizes.max() <= per_batch
    if world_size == 1:  # full batches, then the rest
        assert (sizes[:-1] == per_batch).all()
    lens = {len(shard(len(sizes), r, world_size)) for r in range(world_size)}
    assert len(lens) == 1
    with pytest.raises(ValueError, match="same number of non-empty batches"):
        majority_per_batch(3, 1, 4, drop_last=False)


# --- epochs -------------------------------------------------------------------

def test_each_pass_takes_a_new_epoch_unless_pinned(data):
    batches = _batches(data)
    first, second = _pass(batches), _pass(batches)
    assert batches.epoch == 1 and not torch.equal(first[0][0], second[0][0])
    batches.set_epoch(0)
    assert _same(_pass(batches), first)
    pinned = _batches(data, auto_advance=False, epoch=4)
    a, b = _pass(pinned), _pass(pinned)
    assert _same(a, b) and pinned.epoch == 4
    pinned.set_epoch(1)
    assert _same(_pass(pinned), second)


@pytest.mark.parametrize("persistent", [False, True])
def test_loader_passes_take_new_epochs_in_workers(data, persistent):
    batches = _batches(data)
    loader = DataLoader(batches, batch_size=None, num_workers=2, persistent_workers=persistent)
    passes = [_pass(loader) for _ in range(3)]
    assert batches.epoch == 2  # the workers' epoch is the main process's
    for epoch, got in enumerate(passes):
        batches.set_epoch(epoch)
        assert _same(got, _pass(batches))
    batches.set_epoch(7)  # reaches the workers, persistent ones too
    in_workers = _pass(loader)
    batches.set_epoch(7)
    assert _same(in_workers, _pass(batches))


def test_spawned_workers_share_the_epoch(data):
    batches = _batches(data, batch_size=128)
    loader = DataLoader(batches, batch_size=None, num_workers=1, multiprocessing_context="spawn",
                        persistent_workers=True)
    passes = [_pass(loader), _pass(loader)]
    for epoch, got in enumerate(passes):
        batches.set_epoch(epoch)
        assert _same(got, _pass(batches))


# --- inputs: dtypes, labels, NumPy, devices, masks ---------------------------

@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_is_computed_in_float32(data, dtype):
    X, y = torch.from_numpy(data[0]).to(dtype), torch.from_numpy(data[1])
    X_res, y_res = resample(X, y, random_state=0)
    X_ref, y_ref = resample(X.float(), y, random_state=0)
    assert X_res.dtype == dtype and torch.equal(X_res, X_ref.to(dtype))
    assert torch.equal(X_res[: len(X)], X) and torch.equal(y_res, y_ref)

    dataset = SMOTEDataset(X, y, random_state=0)
    reference = SMOTEDataset(X.float(), y, random_state=0)
    rows = dataset[[0, len(dataset) - 1]]
    assert rows[0].dtype == dtype and torch.equal(rows[0], reference[[0, -1]][0].to(dtype))

    batches = _batches((X, y), return_synthetic_mask=False)
    reference = _batches((X.float(), y), return_synthetic_mask=False)
    got, expected = _pass(batches), _pass(reference)
    assert got[0][0].dtype == dtype
    assert all(torch.equal(p[0], q[0].to(dtype)) for p, q in zip(got, expected))


def test_float_labels_give_the_integer_labels_rows(data):
    X = torch.from_numpy(data[0])
    y_int, y_float = torch.from_numpy(data[1]), torch.from_numpy(data[1]).float()
    (X_i, y_i), (X_f, y_f) = resample(X, y_int, random_state=2), resample(X, y_float, random_state=2)
    assert y_f.dtype == torch.float32 and torch.equal(X_i, X_f) and torch.equal(y_i.float(), y_f)

    dataset = SMOTEDataset(X, y_float)
    assert dataset.sampling_strategy_ == SMOTEDataset(X, y_int).sampling_strategy_
    assert dataset[len(dataset) - 1][1].dtype == torch.float32

    batches = _batches((X, y_float))
    got, expected = _pass(batches), _pass(_batches((X, y_int)))
    assert got[0][1].dtype == torch.float32
    assert all(torch.equal(p[0], q[0]) and torch.equal(p[1], q[1].float())
               for p, q in zip(got, expected))


def test_numpy_input_gives_tensors(data):
    X, y = data
    X_res, y_res = resample(X, y, random_state=1)
    X_ref, y_ref = SMOTE(random_state=1).fit_resample(X, y)
    assert isinstance(X_res, torch.Tensor) and X_res.device.type == "cpu"
    np.testing.assert_array_equal(X_res.numpy(), X_ref, strict=True)
    np.testing.assert_array_equal(y_res.numpy(), y_ref, strict=True)
    from_numpy = SMOTEDataset(X, y, k_neighbors=4, random_state=7)
    from_torch = SMOTEDataset(torch.from_numpy(X), torch.from_numpy(y), k_neighbors=4,
                              random_state=7)
    assert torch.equal(from_numpy[[3, -1]][0], from_torch[[3, -1]][0])
    assert _same(_pass(BalancedBatches(X, y, batch_size=64, random_state=3)),
                 _pass(BalancedBatches(torch.from_numpy(X), torch.from_numpy(y), batch_size=64,
                                       random_state=3)))
    reversed_rows = BalancedBatches(X[::-1], y[::-1], batch_size=64)  # negative strides: copied
    assert _same(_pass(reversed_rows),
                 _pass(BalancedBatches(X[::-1].copy(), y[::-1].copy(), batch_size=64)))


def test_sampling_strategy_has_plain_python_ints(data):
    for labels in (data[1], data[1].astype(np.float32)):
        X, y = torch.from_numpy(data[0]), torch.from_numpy(labels)
        for obj in (SMOTEDataset(X, y), _batches((X, y))):
            strategy = obj.sampling_strategy_
            assert strategy == {1: 355, 2: 370}
            assert all(type(k) is int and type(v) is int for k, v in strategy.items())


@pytest.mark.parametrize("device", ["cpu", torch.device("cpu"), "cpu:0"])
def test_cpu_devices_in_every_spelling(data, device):
    X, y = torch.from_numpy(data[0]), torch.from_numpy(data[1])
    X_res, _ = resample(X, y, random_state=0, device=device)
    assert torch.equal(X_res, resample(X, y, random_state=0)[0])
    assert len(SMOTEDataset(X, y, device=device)) == len(X_res)
    assert next(iter(_batches(data, device=device)))[0].device.type == "cpu"


@pytest.mark.parametrize("device", ["cuda", "cuda:1", torch.device("cuda", 1)])
def test_cuda_without_a_gpu_is_a_clear_error(data, device, monkeypatch):
    import gpusmote.torch._device as devices

    monkeypatch.setattr(devices, "cuda_simulated", lambda: False)  # as on a CPU-only machine
    X, y = torch.from_numpy(data[0]), torch.from_numpy(data[1])
    with pytest.raises(RuntimeError, match=r"device='cuda(:1)?' was requested, but "):
        resample(X, y, device=device)
    with pytest.raises(RuntimeError, match=r"device='cuda(:1)?' was requested, but "):
        SMOTEDataset(X, y, device=device)
    with pytest.raises(RuntimeError, match="PyTorch sees no CUDA device"):
        _batches(data, device=device)


@pytest.mark.parametrize("device", ["tpu", "mps", 3.5])
def test_unknown_devices_are_refused(data, device):
    with pytest.raises(ValueError, match="device must be"):
        _batches(data, device=device)
    with pytest.raises(ValueError, match="device must be"):
        resample(torch.from_numpy(data[0]), torch.from_numpy(data[1]), device=device)


def test_synthetic_masks(data):
    from imblearn.over_sampling import RandomOverSampler
    from imblearn.under_sampling import RandomUnderSampler

    X, y = torch.from_numpy(data[0]), torch.from_numpy(data[1])
    X_res, y_res, synthetic = resample(X, y, random_state=0, return_synthetic_mask=True)
    assert synthetic.dtype == torch.bool and int(synthetic.sum()) == len(X_res) - len(X) == 725
    assert not synthetic[: len(X)].any()
    _, _, duplicated = resample(X, y, RandomOverSampler(random_state=0),
                                return_synthetic_mask=True)
    assert int(duplicated.sum()) == 725
    with pytest.raises(ValueError, match="over-sampler"):
        resample(X, y, RandomUnderSampler(), return_synthetic_mask=True)

    dataset = SMOTEDataset(X, y, return_synthetic_mask=True)
    x, label, flag = dataset[len(X) - 1]
    assert flag.dtype == torch.bool and not flag and torch.equal(x, X[-1])
    assert bool(dataset[len(X)][2])
    X_b, y_b, flags = next(iter(DataLoader(dataset, batch_size=600)))
    assert flags.tolist() == [False] * len(X) + [True] * (600 - len(X))

    batches = _batches(data)
    source, _, _, starts = batches.epoch_plan()
    X_b, _, flags = next(iter(batches))
    np.testing.assert_array_equal(flags.numpy(), source[: starts[1]] < 0)
    np.testing.assert_array_equal(X_b[~flags].numpy(), data[0][source[: starts[1]][~flags.numpy()]])


def test_reprs_say_what_they_hold(data):
    dataset = SMOTEDataset(torch.from_numpy(data[0]).half(), torch.from_numpy(data[1]),
                           k_neighbors=4, random_state=7)
    text = repr(dataset)
    for part in ("1200 rows", "475 original", "725 synthetic", "{1: 355, 2: 370}", "float16",
                 "k_neighbors=4", "random_state=7", "epoch=0"):
        assert part in text, text
    text = repr(_batches(data))
    for part in ("13 batches of 64", "400 majority", "75 minority", "on cpu", "epoch=0",
                 "auto_advance=True", "float32"):
        assert part in text, text

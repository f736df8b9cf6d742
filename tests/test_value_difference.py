"""SMOTEN's VDM kernels (gpusmote.kernels.value_difference): the CPU kernel
and its CUDA twin (Numba's simulator in CI) against imbalanced-learn's own
``ValueDifferenceMetric.pairwise``, bit for bit, and the k-NN built on them
against scikit-learn's precomputed search."""

from __future__ import annotations

import numpy as np
import pytest
from imblearn.metrics.pairwise import ValueDifferenceMetric
from imblearn.over_sampling import SMOTEN as ImbSMOTEN
from sklearn.neighbors import NearestNeighbors

from gpusmote.devices._backend import CPU
from gpusmote.devices._resolve import resolve_device
from gpusmote.kernels import value_difference
from gpusmote.over_sampling import _categorical
from gpusmote.over_sampling._categorical import SMOTEN, _feature_terms, _KernelTerms, vdm_kneighbors


def _fitted(n_rows, n_features, levels, n_classes, seed):
    """Codes whose levels' class probabilities are irregular (so float sums
    round differently in a different order) and the VDM fitted on them."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, levels, size=(n_rows, n_features)).astype(np.int32)
    weights = rng.random(n_classes) + 0.05
    y = rng.choice(n_classes, size=n_rows, p=weights / weights.sum())
    y[:n_classes] = np.arange(n_classes)  # every class present
    vdm = ValueDifferenceMetric(n_categories=[levels] * n_features).fit(codes, y)
    return codes, y, vdm


def _packed(vdm, codes):
    terms = [_feature_terms(proba, codes[:, f]) for f, proba in enumerate(vdm.proba_per_class_)]
    return terms, _KernelTerms.pack(terms, codes.shape[0], vdm.proba_per_class_[0].shape[1])


@pytest.mark.parametrize("n_classes", [2, 3, 7, 8, 9, 16, 17, 33, 128])
@pytest.mark.parametrize("direct", [False, True])
def test_cpu_and_cuda_blocks_are_imblearns_pairwise(n_classes, direct, monkeypatch):
    if direct:  # every feature's terms per pair, no level table
        monkeypatch.setattr(_categorical, "VDM_BLOCK_ELEMENTS", 0)
    codes, _, vdm = _fitted(150, 5, 9, n_classes, seed=n_classes)
    expected = vdm.pairwise(codes)
    terms, packed = _packed(vdm, codes)
    assert {kind for kind, _, _ in terms} == {"direct" if direct else "table"}
    start, stop = 17, 120
    on_cpu = np.full((stop - start, codes.shape[0]), np.nan)
    value_difference.vdm_block(on_cpu, start, *packed.arrays())
    assert np.array_equal(on_cpu, expected[start:stop])
    assert np.array_equal(_categorical._vdm_rows(terms, start, stop), on_cpu)
    on_cuda = np.full((8, codes.shape[0]), np.nan)  # simulated threads are slow: a few rows
    value_difference.vdm_block_cuda(on_cuda, 60, *packed.arrays())
    assert np.array_equal(on_cuda, expected[60:68])


def test_mixed_table_and_direct_features(monkeypatch):
    # one high-cardinality feature (direct) among small ones (tables)
    rng = np.random.default_rng(4)
    codes = np.column_stack([rng.integers(0, 3, 400), rng.integers(0, 300, 400),
                             rng.integers(0, 5, 400)]).astype(np.int32)
    y = rng.integers(0, 3, 400)
    vdm = ValueDifferenceMetric(n_categories=[3, 300, 5]).fit(codes, y)
    monkeypatch.setattr(_categorical, "VDM_BLOCK_ELEMENTS", 3 * 100 * 100)
    terms, packed = _packed(vdm, codes)
    assert [kind for kind, _, _ in terms] == ["table", "direct", "table"]
    out = np.empty((400, 400))
    value_difference.vdm_block(out, 0, *packed.arrays())
    assert np.array_equal(out, vdm.pairwise(codes))
    on_cuda = np.empty((50, 400))
    value_difference.vdm_block_cuda(on_cuda, 350, *packed.arrays())
    assert np.array_equal(on_cuda, out[350:])


def test_kernel_limit_is_numpys_unrolled_sum():
    assert value_difference.kernel_applies(value_difference.MAX_CLASSES)
    assert not value_difference.kernel_applies(value_difference.MAX_CLASSES + 1)


def _sklearn_table(vdm, codes, k):
    distances = vdm.pairwise(codes)
    return NearestNeighbors(n_neighbors=k, metric="precomputed").fit(distances).kneighbors(
        distances, return_distance=False)


@pytest.mark.parametrize("device", ["cpu", "cuda"])
@pytest.mark.parametrize("n_classes", [2, 9, 130])
def test_knn_through_kernels_is_sklearns_precomputed_search(device, n_classes, monkeypatch):
    # few levels: distance ties everywhere, so the tie order is sklearn's too
    monkeypatch.setattr(_categorical, "SMALL_VDM_TERMS", 0)
    monkeypatch.setattr(_categorical, "VDM_BLOCK_ELEMENTS", 2000)  # many blocks
    simulated = device == "cuda" and value_difference.kernel_applies(n_classes)
    codes, _, vdm = _fitted(90 if simulated else 260, 4, 3, n_classes, seed=1)
    backend = CPU if device == "cpu" else resolve_device("cuda")
    got = vdm_kneighbors(vdm.proba_per_class_, codes, 6, backend)
    assert np.array_equal(got, _sklearn_table(vdm, codes, 6))


def test_cpu_uses_the_kernel_only_beyond_the_small_size(monkeypatch):
    calls = []
    monkeypatch.setattr(value_difference, "vdm_block", lambda *args: calls.append(args[1]))
    codes, _, vdm = _fitted(100, 3, 4, 2, seed=2)
    vdm_kneighbors(vdm.proba_per_class_, codes, 3)  # 100^2 x 3 terms: NumPy
    assert calls == []
    monkeypatch.setattr(_categorical, "SMALL_VDM_TERMS", 100 * 100 * 3 - 1)
    vdm_kneighbors(vdm.proba_per_class_, codes, 3)
    assert calls == [0]  # one block, through the kernel


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_smoten_through_kernels_equals_imblearn(device, monkeypatch):
    monkeypatch.setattr(_categorical, "SMALL_VDM_TERMS", 0)
    monkeypatch.setattr(_categorical, "DECODE_BLOCK_ROWS", 37)
    rng = np.random.default_rng(3)
    X = rng.integers(0, 4, size=(300, 5))
    y = rng.choice(3, size=300, p=[0.7, 0.2, 0.1])
    theirs = ImbSMOTEN(random_state=5).fit_resample(X, y)
    ours = SMOTEN(random_state=5, device=device).fit_resample(X, y)
    assert ours[0].dtype == theirs[0].dtype
    assert np.array_equal(ours[0], theirs[0]) and np.array_equal(ours[1], theirs[1])

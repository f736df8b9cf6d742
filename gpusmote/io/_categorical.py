"""``gpusmote resample`` with categorical features: SMOTENC class by class.

:class:`gpusmote.SMOTENC` on the whole table would hold every row. But with an
int ``random_state`` the synthetic rows of one class depend only on

* that class's rows (its k-NN, its median std, its draws: imbalanced-learn's
  ``RandomState`` restarts from the seed for every class),
* the categorical levels of the whole table, in ``OneHotEncoder``'s sorted
  order (the one-hot layout: tied levels are listed in that order before the
  tie-breaking permutation),
* the continuous columns' common dtype (the one-hot dtype) and
* the class's place among the sorted labels (``rng='philox'``'s class index).

So each over-sampled class is resampled as its own small problem, through the
estimator's public API only: the class's rows plus one row of every other
class (the same sorted labels), ``sampling_strategy={label: rows + n_new}``
and ``categorical_encoder=OneHotEncoder(categories=<the whole file's levels>,
handle_unknown="ignore", dtype=<the continuous dtype>)``; the rows appended
after the sub-problem's own are the class's synthetic rows, exactly those of
``SMOTENC(categorical_features=<the categorical columns>, ...)`` on the whole
table. The feature columns go through pandas as ``pd.read_parquet`` /
``Table.to_pandas`` give them (a dictionary column as ``category``), so the
encoder and the sampler see what they would see in memory.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gpusmote.io._tabular import Columns, Dictionaries, synthetic_batch_from_arrays


def present_levels(column: pa.Array) -> pa.Array:
    """The distinct values of ``column`` (a dictionary column's used values,
    not its whole dictionary: ``OneHotEncoder`` learns the values it sees)."""
    if pa.types.is_dictionary(column.type):
        return pc.unique(column.dictionary.take(pc.unique(column.indices)))
    return pc.unique(column)


class Levels:
    """Every categorical column's distinct values over the whole file (pass 1)."""

    def __init__(self, columns: Columns, schema: pa.Schema) -> None:
        self.types = {name: schema.field(name).type for name in columns.categorical}
        self.values = {name: None for name in columns.categorical}

    def add(self, batch: pa.RecordBatch) -> None:
        for name, known in self.values.items():
            found = present_levels(batch.column(name))
            self.values[name] = found if known is None else pc.unique(
                pa.concat_arrays([known, found]))

    def categories(self) -> list[np.ndarray]:
        """``categories_`` of a ``OneHotEncoder`` fitted on the whole file's
        categorical columns, in pandas' view of them: one fit per column on
        its distinct values (the encoder keeps the sorted distinct values, so
        the rows' multiplicity does not matter)."""
        from sklearn.preprocessing import OneHotEncoder

        categories = []
        for name, values in self.values.items():
            type_ = self.types[name]
            if pa.types.is_dictionary(type_):
                values = pa.DictionaryArray.from_arrays(
                    pa.array(np.arange(len(values)), type_.index_type), values)
            frame = pa.table({name: values}).to_pandas()
            categories.append(OneHotEncoder().fit(frame).categories_[0])
        return categories


def _frame(batches: list[pa.RecordBatch], names: list[str]):
    """The feature columns of ``batches`` as the DataFrame pandas reads."""
    return pa.Table.from_batches([batch.select(names) for batch in batches]).to_pandas()


def class_synthetic(label, n_new: int, class_rows: list[pa.RecordBatch], class_y: np.ndarray,
                    others: list[pa.RecordBatch], others_y: np.ndarray, columns: Columns,
                    categories: list[np.ndarray], *, k_neighbors: int, random_state: int,
                    device: str, rng: str):
    """The ``n_new`` synthetic rows of class ``label`` (a DataFrame of the
    feature columns, the input's dtypes) and the device that ran them.

    ``class_rows`` are the class's feature rows in file order, ``others`` one
    row of every other class (see the module notes).
    """
    from sklearn.preprocessing import OneHotEncoder
    from sklearn.utils import check_array

    from gpusmote import SMOTENC

    features = list(columns.features)
    X = _frame([*class_rows, *others], features)
    y = np.concatenate([class_y, others_y]) if len(others_y) else class_y
    n_class = len(class_y)
    # The one-hot dtype SMOTENC takes: the continuous columns' common dtype.
    dtype = check_array(X[columns.continuous].iloc[:1]).dtype
    dtype = dtype if dtype != object else np.dtype(np.float64)
    encoder = OneHotEncoder(categories=categories, handle_unknown="ignore", dtype=dtype)
    sampler = SMOTENC(categorical_features=list(columns.categorical), categorical_encoder=encoder,
                      sampling_strategy={label: n_class + n_new}, random_state=random_state,
                      k_neighbors=k_neighbors, device=device, rng=rng)
    X_res, _ = sampler.fit_resample(X, y)
    return X_res.iloc[len(X):], sampler.device_


def feature_arrays(frame, columns: Columns, schema: pa.Schema,
                   dictionaries: Dictionaries) -> dict[str, pa.Array]:
    """The synthetic rows' feature columns (``frame``: pandas, the input's
    dtypes) as arrays of ``schema``'s types; dictionary columns encoded
    against the file's dictionary."""
    arrays = {}
    for name in columns.features:
        type_ = schema.field(name).type
        series = frame[name]
        if pa.types.is_dictionary(type_):
            values = pa.array(series.astype(object).to_numpy(), type=type_.value_type)
            indices = pc.index_in(values, value_set=dictionaries.values[name])
            arrays[name] = dictionaries.encode(name, indices)
        elif pa.types.is_string(type_) or pa.types.is_large_string(type_):
            arrays[name] = pa.array(series.astype(object).to_numpy(), type=type_)
        else:
            arrays[name] = pa.array(series.to_numpy().astype(type_.to_pandas_dtype(), copy=False),
                                    type=type_)
    return arrays


def synthetic_batches(frame, label, chunk_rows: int, columns: Columns, schema: pa.Schema,
                      dictionaries: Dictionaries):
    """``frame``'s rows as output batches of at most ``chunk_rows`` rows."""
    for lo in range(0, len(frame), chunk_rows):
        piece = frame.iloc[lo : lo + chunk_rows]
        yield synthetic_batch_from_arrays(feature_arrays(piece, columns, schema, dictionaries),
                                          len(piece), label, columns, schema, dictionaries)

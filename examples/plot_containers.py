"""
DataFrames, the SMOTE family and pipelines
==========================================

Every sampler takes what imbalanced-learn's takes (NumPy arrays, lists, pandas DataFrames and Series, SciPy sparse
matrices) and returns the same container: a DataFrame keeps its columns and dtypes. The samplers are scikit-learn
estimators, so they fit in ``imblearn.pipeline.Pipeline``.
"""

import numpy as np
import pandas as pd
from imblearn.pipeline import make_pipeline
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_validate

import gpusmote
from gpusmote.datasets import make_fraud_like

X, y = make_fraud_like(3_000, 8, minority_fraction=0.05, random_state=1)
frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(8)])
label = pd.Series(y, name="is_fraud")

X_res, y_res = gpusmote.SMOTE(random_state=0).fit_resample(frame, label)
print(type(X_res).__name__, X_res.shape, "columns kept:", list(X_res.columns) == list(frame.columns),
      "dtypes:", sorted(set(X_res.dtypes.astype(str))), "| y:", type(y_res).__name__, y_res.name)
print(y_res.value_counts().sort_index().to_dict())

# %%
# The whole over-sampling family, each checked against imbalanced-learn's class of the same name.

import imblearn.over_sampling as imb

for name in ["SMOTE", "RandomOverSampler", "ADASYN", "BorderlineSMOTE", "SVMSMOTE"]:
    ours = getattr(gpusmote, name)(random_state=0).fit_resample(X, y)
    theirs = getattr(imb, name)(random_state=0).fit_resample(X, y)
    same = all(np.array_equal(a, b) for a, b in zip(ours, theirs))
    print(f"{name:18} {len(ours[0]):6,} rows  identical: {same}")

# %%
# In an imbalanced-learn pipeline the sampler runs on the training folds only. Whether SMOTE helps depends on the data
# and the score: here it raises balanced accuracy (the decision threshold moves towards the minority) and lowers
# average precision (a ranking score, which re-balancing does not improve). Measure it against re-weighting
# (``class_weight="balanced"``) on your own data.

for name, pipeline in [
    ("no resampling", make_pipeline(LogisticRegression())),
    ("class_weight='balanced'", make_pipeline(LogisticRegression(class_weight="balanced"))),
    ("gpusmote.SMOTE", make_pipeline(gpusmote.SMOTE(random_state=0), LogisticRegression())),
]:
    scores = cross_validate(pipeline, X, y, scoring=["average_precision", "balanced_accuracy"], cv=3)
    print(f"{name:24} average precision {scores['test_average_precision'].mean():.3f}   "
          f"balanced accuracy {scores['test_balanced_accuracy'].mean():.3f}")

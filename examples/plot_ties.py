"""
Ties: ``ties='imblearn'`` and ``ties='index'``
===============================================

On integer, count or duplicated data many distances are equal, and which neighbour comes first is a choice.
imbalanced-learn's choice is whatever scikit-learn's search returns; gpusmote's exact search breaks ties by the lower
row index. With the default ``ties='imblearn'`` gpusmote detects the tables whose order could depend on a (near) tie
and answers those with scikit-learn's own search, called as imbalanced-learn calls it, so the output is
imbalanced-learn's; ``ties='index'`` keeps the exact search with its lower-index rule everywhere.
"""

import numpy as np
from imblearn.over_sampling import ADASYN as ImbADASYN
from imblearn.over_sampling import SMOTE as ImbSMOTE

from gpusmote import ADASYN, SMOTE

rng = np.random.RandomState(0)
# Small integer features: full of equal distances and duplicate rows.
X = rng.randint(0, 4, size=(600, 3)).astype(np.float64)
y = (rng.uniform(size=600) < 0.1).astype(np.int64)
print("duplicate rows:", len(X) - len(np.unique(X, axis=0)), "of", len(X))

for ours, theirs in [(SMOTE, ImbSMOTE), (ADASYN, ImbADASYN)]:
    X_ref, y_ref = theirs(random_state=0).fit_resample(X, y)
    for ties in ("imblearn", "index"):
        X_res, y_res = ours(random_state=0, ties=ties).fit_resample(X, y)
        same = X_res.shape == X_ref.shape and np.array_equal(X_res, X_ref) and np.array_equal(y_res, y_ref)
        print(f"{ours.__name__:6} ties={ties!r:11} identical to imbalanced-learn: {same}")

# %%
# Both are valid SMOTE; they differ only in which of several equally near rows is taken. Use ``ties='index'`` when
# the rows must not depend on scikit-learn's search (it never runs it), and the default when they must be
# imbalanced-learn's.

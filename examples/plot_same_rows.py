"""
The same rows as imbalanced-learn
=================================

``gpusmote.SMOTE`` is a drop-in for ``imblearn.over_sampling.SMOTE``: with the same integer ``random_state`` it returns
the same rows, bit for bit. This example resamples a small fraud-like data set with both and compares the outputs,
then plots the minority class with its synthetic rows.
"""

import matplotlib.pyplot as plt
import numpy as np
from imblearn.over_sampling import SMOTE as ImbSMOTE

from gpusmote import SMOTE
from gpusmote.datasets import make_fraud_like

X, y = make_fraud_like(4_000, 2, minority_fraction=0.02, random_state=0)
print("input:", X.shape, X.dtype, "class counts", np.bincount(y))

X_ours, y_ours = SMOTE(random_state=0).fit_resample(X, y)
X_ref, y_ref = ImbSMOTE(random_state=0).fit_resample(X, y)
print("output:", X_ours.shape, X_ours.dtype, "class counts", np.bincount(y_ours))
print("identical to imbalanced-learn:", np.array_equal(X_ours, X_ref) and np.array_equal(y_ours, y_ref))

# %%
# The original rows come first, unchanged and in order; the synthetic rows follow, class by class. Each lies on the
# segment between a minority row and one of its ``k_neighbors`` nearest minority rows.

n = len(X)
minority = y == 1
fig, ax = plt.subplots(figsize=(6, 4.5))
ax.scatter(*X[~minority].T, s=2, c="lightgrey", label="majority")
ax.scatter(*X_ours[n:].T, s=6, c="tab:orange", alpha=0.5, label="synthetic (SMOTE)")
ax.scatter(*X[minority].T, s=14, c="tab:blue", label="minority")
ax.set_xlabel("feature 0")
ax.set_ylabel("feature 1")
ax.set_title("gpusmote.SMOTE: the rows imbalanced-learn makes")
ax.legend(loc="best", markerscale=2)
fig.tight_layout()
plt.show()

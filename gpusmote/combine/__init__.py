"""Over-sampling followed by cleaning, mirroring ``imblearn.combine``: the same
classes, parameters and output, on gpusmote's SMOTE and cleaners."""

from gpusmote.combine._smote_enn import SMOTEENN
from gpusmote.combine._smote_tomek import SMOTETomek

__all__ = ["SMOTEENN", "SMOTETomek"]

"""Over-samplers, mirroring ``imblearn.over_sampling``."""

from gpusmote._smote import SMOTE

__all__ = ["SMOTE"]

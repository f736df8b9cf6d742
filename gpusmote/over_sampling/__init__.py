"""Over-samplers, mirroring ``imblearn.over_sampling``: the same classes,
parameters and output, on gpusmote's engine."""

from gpusmote.over_sampling._adasyn import ADASYN
from gpusmote.over_sampling._categorical import SMOTEN, SMOTENC
from gpusmote.over_sampling._cluster import KMeansSMOTE
from gpusmote.over_sampling._filter import SVMSMOTE, BorderlineSMOTE
from gpusmote.over_sampling._random_over_sampler import RandomOverSampler
from gpusmote.over_sampling._smote import SMOTE

__all__ = ["ADASYN", "BorderlineSMOTE", "KMeansSMOTE", "RandomOverSampler", "SMOTE", "SMOTEN", "SMOTENC", "SVMSMOTE"]

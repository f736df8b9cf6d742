"""Cleaning under-samplers, mirroring ``imblearn.under_sampling``: the same
classes, parameters and output, on gpusmote's exact k-NN."""

from gpusmote.under_sampling._edited_nearest_neighbours import EditedNearestNeighbours
from gpusmote.under_sampling._tomek_links import TomekLinks

__all__ = ["EditedNearestNeighbours", "TomekLinks"]

"""gpusmote: exact, fast SMOTE over-sampling on CUDA GPUs and CPUs."""

from pathlib import Path as _Path

# An installed gpusmote carries its kernels as the subpackage gpusmote.kernels
# (setuptools maps the repo's top-level kernels/ there). Imported straight from
# a source checkout, they sit beside this package instead: let the subpackage
# resolve there too.
_checkout = _Path(__file__).resolve().parent.parent
if not (_Path(__file__).parent / "kernels").is_dir() and (_checkout / "pyproject.toml").is_file() and (
    _checkout / "kernels" / "__init__.py"
).is_file():
    __path__.append(str(_checkout))  # noqa: F821 (the package's own __path__)

__version__ = "0.1.0"

__all__ = ["ADASYN", "BorderlineSMOTE", "KMeansSMOTE", "NearestNeighbors", "RandomOverSampler", "SMOTE",
           "SMOTEENN", "SMOTEN", "SMOTENC", "SMOTETomek", "SVMSMOTE", "__version__"]

# The estimators import scikit-learn and imbalanced-learn (about 2 s cold):
# loaded on first use, so `gpusmote --help`, argument errors and an interrupt
# while starting up answer at once.
_LAZY = {
    "SMOTE": "gpusmote.over_sampling._smote",
    "NearestNeighbors": "gpusmote.neighbors",
    "RandomOverSampler": "gpusmote.over_sampling._random_over_sampler",
    "ADASYN": "gpusmote.over_sampling._adasyn",
    "BorderlineSMOTE": "gpusmote.over_sampling._filter",
    "SVMSMOTE": "gpusmote.over_sampling._filter",
    "KMeansSMOTE": "gpusmote.over_sampling._cluster",
    "SMOTEN": "gpusmote.over_sampling._categorical",
    "SMOTENC": "gpusmote.over_sampling._categorical",
    "SMOTEENN": "gpusmote.combine",
    "SMOTETomek": "gpusmote.combine",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gpusmote' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

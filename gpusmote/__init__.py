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

from gpusmote._smote import SMOTE  # noqa: E402
from gpusmote.neighbors import NearestNeighbors  # noqa: E402

__version__ = "0.1.0"

__all__ = ["NearestNeighbors", "SMOTE", "__version__"]

"""pytest plugin for CI: fail unless the tests import the installed gpusmote.

``pytest -p installed_check`` with ``.ci`` on PYTHONPATH. The checkout's
``gpusmote/`` must not shadow the installed wheel (it lacks ``gpusmote.kernels``,
which setuptools maps from the top-level ``kernels/``).
"""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

import pytest


def pytest_collection_finish(session: pytest.Session) -> None:
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    for name in ("gpusmote", "gpusmote.kernels"):
        module = sys.modules.get(name)
        if module is None:
            raise pytest.UsageError(f"installed_check: the collected tests never imported {name}")
        where = Path(module.__file__).resolve()
        if site not in where.parents:
            raise pytest.UsageError(f"installed_check: {name} came from {where}, not from the "
                                    f"installed wheel in {site}")
        print(f"installed_check: {name} from {where}")

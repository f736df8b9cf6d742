"""Check the built sdist and wheel: every package of the checkout listed, every
module of every package (the mapped ``gpusmote.kernels`` included) in both, and
extras that pin nothing users install.

Usage: ``python .ci/check_dist.py DIST_DIR`` (run from the repository root).
"""

from __future__ import annotations

import email
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

from packaging.requirements import Requirement  # build's own dependency


def expected_modules(pyproject: dict) -> dict[str, Path]:
    """Wheel path of each module -> its source file, from [tool.setuptools]."""
    setuptools = pyproject["tool"]["setuptools"]
    mapped = setuptools.get("package-dir", {})
    modules = {}
    for package in setuptools["packages"]:
        source = Path(mapped.get(package, package.replace(".", "/")))
        for file in sorted(source.glob("*.py")):
            modules[f"{package.replace('.', '/')}/{file.name}"] = file
    return modules


def main(dist: Path) -> int:
    pyproject = tomllib.loads(Path("pyproject.toml").read_text())
    (wheel,) = dist.glob("*.whl")
    (sdist,) = dist.glob("*.tar.gz")
    problems = []
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (metadata_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = email.message_from_bytes(archive.read(metadata_name))
    modules = expected_modules(pyproject)
    problems += [f"wheel lacks {name}" for name in modules if name not in names]
    listed = set(pyproject["tool"]["setuptools"]["packages"])
    for init in sorted(Path("gpusmote").rglob("__init__.py")):
        package = ".".join(init.parent.parts)
        if package not in listed:
            problems.append(f"{package} is not in [tool.setuptools] packages: the wheel lacks it")
    # Extras users install state ranges: only [test] may pin (see pyproject.toml).
    for text in metadata.get_all("Requires-Dist") or []:
        requirement = Requirement(text)
        pinned = any(spec.operator in ("==", "===") for spec in requirement.specifier)
        if pinned and not (requirement.marker and requirement.marker.evaluate({"extra": "test"})):
            problems.append(f"wheel pins a requirement users install: {text}")
    with tarfile.open(sdist) as archive:
        root = archive.getnames()[0].split("/")[0]
        sdist_names = set(archive.getnames())
    for source in list(modules.values()) + [Path("tests/conftest.py"), Path("README.md")]:
        if f"{root}/{source.as_posix()}" not in sdist_names:
            problems.append(f"sdist lacks {source}")
    for problem in problems:
        print(f"check_dist: {problem}", file=sys.stderr)
    if not problems:
        print(f"check_dist: {wheel.name} holds all {len(modules)} modules "
              f"(gpusmote/kernels included); {sdist.name} holds their sources and the tests")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1])))

"""Sphinx configuration for gpusmote's documentation.

Build (what CI runs, warnings as errors)::

    bash .ci/docs                      # installs .[docs], then sphinx-build -W --keep-going
    sphinx-build -W --keep-going -b html docs /tmp/gpusmote-docs

The Markdown pages are MyST, the API reference comes from the numpydoc
docstrings (autodoc + autosummary), and the examples in ``examples/`` are run by
sphinx-gallery on every build (small data, a few seconds).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# Document the checkout being built, whether or not it is installed.
sys.path.insert(0, str(ROOT))

import gpusmote  # noqa: E402

project = "gpusmote"
author = "The gpusmote developers"
copyright = "The gpusmote developers"  # noqa: A001 (Sphinx's name)
release = gpusmote.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints", ".gitignore"]
templates_path = ["_templates"]

# --- pages that other modules of the project may not have yet ---------------
# A page listed here is built only when its module (and, for a user-guide page,
# its file) exists, and is dropped from the toctrees otherwise, so the build
# passes with -W on a checkout without them.
OPTIONAL_API = {
    "api/under_sampling": "gpusmote.under_sampling",
    "api/combine": "gpusmote.combine",
    "api/dask": "gpusmote.dask",
}
OPTIONAL_PAGES = ["cleaning", "pytorch", "dask", "benchmarks", "cli"]


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:
        return False


def _imports(name: str) -> bool:
    try:
        importlib.import_module(name)
    except Exception:  # noqa: BLE001 (absent, or a broken install: mock it)
        return False
    return True


MISSING = {doc for doc, module in OPTIONAL_API.items() if not _module_exists(module)}
MISSING |= {page for page in OPTIONAL_PAGES if not (DOCS / f"{page}.md").is_file()}
exclude_patterns += [f"{doc}.rst" for doc in MISSING if doc.startswith("api/")]


def _drop_missing_toctree_entries(app, docname, source):
    """Remove toctree lines naming a page that is not there (see MISSING)."""
    if not MISSING:
        return
    here = docname.rpartition("/")[0]

    def missing(line: str) -> bool:
        entry = line.strip().removesuffix(".md").removesuffix(".rst")
        if not entry or " " in entry:
            return False
        full = entry.lstrip("/") if entry.startswith("/") or not here else f"{here}/{entry}"
        return full in MISSING

    text = "\n".join(line for line in source[0].split("\n") if not missing(line))
    for page in MISSING:  # a link to it becomes the file's name
        for role in (":doc:", "{doc}"):
            text = text.replace(f"{role}`/{page}`", f"``docs/{page}.md``")
    source[0] = text


def _quote_trailing_underscore_names(app, what, name, obj, options, lines):
    """A fitted attribute's name in a shape, ``ndarray of shape
    (n_features_in_,)`` or ``(n_queries, n_samples_fit_)`` (scikit-learn's
    wording), would be read as a reST reference: quote such names as literals
    before numpydoc renders the docstring (doctest lines are left alone)."""
    for i, line in enumerate(lines):
        if not line.lstrip().startswith((">>>", "...")):
            lines[i] = _SHAPE_NAME.sub(r"``\1``", line)


# A name ending in "_" right before "," or ")", not already quoted.
_SHAPE_NAME = re.compile(r"(?<![`\w.])([A-Za-z]\w*[A-Za-z0-9]_)(?=[,)])")


def _own_init_signature(app, what, name, obj, options, signature, return_annotation):
    """A class whose base is mocked (gpusmote.torch without PyTorch) shows
    ``(*args, **kwargs)``, the mock's: show its own ``__init__``'s instead."""
    if what != "class" or signature != "(*args, **kwargs)" or "__init__" not in vars(obj):
        return None
    empty = inspect.Parameter.empty
    init = inspect.signature(obj.__init__)
    params = [p.replace(annotation=empty) for p in list(init.parameters.values())[1:]]
    return str(init.replace(parameters=params, return_annotation=inspect.Signature.empty)), None


def setup(app):
    app.connect("autodoc-process-signature", _own_init_signature)
    app.connect("source-read", _drop_missing_toctree_entries)
    # Before numpydoc's own handler (priority 500), on the raw docstring.
    app.connect("autodoc-process-docstring", _quote_trailing_underscore_names, priority=100)


# --- API reference -----------------------------------------------------------
# Import the real modules before autodoc mocks torch (below): a mock "torch" in
# sys.modules while SciPy, scikit-learn or gpusmote load makes SciPy's array-API
# helpers (is_torch_array) fail with a TypeError.
for _module in ["scipy.stats", "sklearn.neighbors", "imblearn", "gpusmote.over_sampling", "gpusmote.neighbors",
                *OPTIONAL_API.values()]:
    if _module_exists(_module):
        importlib.import_module(_module)
autosummary_generate = True
autodoc_default_options: dict[str, object] = {}
autodoc_typehints = "none"  # numpydoc's Parameters sections say the types
# gpusmote.torch needs PyTorch, which the docs do not install (1 GB): mock it
# when absent, so its reference is still built from the docstrings.
autodoc_mock_imports = [] if _imports("torch") else ["torch"]
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# No intersphinx: the build must not need the network.

# --- Markdown (MyST) ---------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# --- executed examples (sphinx-gallery) ---------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    "show_memory": False,
}

# --- HTML ----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"gpusmote {release}"
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_static_path: list[str] = []
html_show_sourcelink = False

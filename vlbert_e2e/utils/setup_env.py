"""The one explicit set-up call of vlbert_e2e, as mmdet's ``register_all_modules``.

``import vlbert_e2e`` changes no global state. Whatever runs the project (``tools/*.py``,
the inferencer, and every Runner built from ``configs/_base_/default_runtime.py``
through its ``SafeLoadingHook``) calls :func:`register_all_modules` once, which

- imports the modules named by the registries' ``locations`` (``vlbert_e2e/registry.py``),
  so that every class is registered; this is MMEngine's own lazy import, so ``utils/``
  names no higher package here (docs/architecture.md);
- installs the safe checkpoint loading (:func:`install_safe_loading`);
- optionally makes ``vlbert_e2e`` the default registry scope.
"""
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.registry import init_default_scope as _init_default_scope
from mmengine.runner.checkpoint import CheckpointLoader

from vlbert_e2e import registry

from .safe_load import SAFE_GLOBALS, history_buffer_getstate, load_local_checkpoint


def install_safe_loading() -> None:
    """Allow-list ``SAFE_GLOBALS`` in ``torch.load(weights_only=True)``, make
    MMEngine's ``HistoryBuffer`` pickle its data only, and route MMEngine's local
    ``CheckpointLoader`` scheme (``load_from``, ``resume``, ``load_checkpoint``)
    through :func:`~vlbert_e2e.utils.load_checkpoint_file`. Idempotent."""
    torch.serialization.add_safe_globals(SAFE_GLOBALS)
    HistoryBuffer.__getstate__ = history_buffer_getstate
    CheckpointLoader.register_scheme(prefixes='', loader=load_local_checkpoint, force=True)


def register_all_modules(init_default_scope: bool = True) -> None:
    """Register every vlbert_e2e module and install the safe checkpoint loading.

    Args:
        init_default_scope (bool): Also make ``'vlbert_e2e'`` MMEngine's current default
            scope (``mmengine.registry.init_default_scope``), so that
            ``MODELS.build(dict(type='VLBertE2E', ...))`` finds our classes.
    """
    for name in dir(registry):
        reg = getattr(registry, name)
        if isinstance(reg, registry.Registry) and reg.scope == 'vlbert_e2e':
            reg.import_from_location()
    install_safe_loading()
    if init_default_scope:
        _init_default_scope('vlbert_e2e')

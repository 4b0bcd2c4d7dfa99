"""Importing vlbert_e2e changes no global state; ``register_all_modules`` is the one call
that does (docs/architecture.md)."""
import json
import os
import subprocess
import sys

from vlbert_e2e.testing import ROOT

# Runs in a fresh interpreter: the third-party packages first (their own import-time
# changes are not ours), then a snapshot, every module of vlbert_e2e, a second snapshot,
# register_all_modules, a third.
PROBE = r'''
import json, logging, pkgutil, sys, warnings, importlib
import torch, mmcv, mmengine.runner, mmengine.registry, mmdet.models, mmdet.datasets
import transformers
from mmengine.registry import DefaultScope
from mmengine.runner.checkpoint import CheckpointLoader
from mmengine.logging.history_buffer import HistoryBuffer

def snapshot():
    loggers = [logging.root] + [l for l in logging.Logger.manager.loggerDict.values()
                                if isinstance(l, logging.Logger)]
    scope = DefaultScope.get_current_instance()
    return dict(
        safe_globals=sorted(map(repr, torch.serialization.get_safe_globals())),
        loaders={k: repr(v) for k, v in CheckpointLoader._schemes.items()},
        scope=None if scope is None else scope.scope_name,
        warnings=[repr(f) for f in warnings.filters],
        handlers={l.name: [repr(h) for h in l.handlers] for l in loggers if l.handlers},
        history_buffer_getstate=repr(getattr(HistoryBuffer, '__getstate__', None)))

before = snapshot()
import vlbert_e2e
names = [m.name for m in pkgutil.walk_packages(vlbert_e2e.__path__, 'vlbert_e2e.')]
for name in names:
    importlib.import_module(name)
after = snapshot()
from vlbert_e2e.utils import register_all_modules
register_all_modules()
registered = snapshot()
print(json.dumps(dict(n=len(names), before=before, after=after, registered=registered)))
'''


def _probe() -> dict:
    env = dict(os.environ, PYTHONPATH=ROOT, HF_HUB_OFFLINE='1', TRANSFORMERS_OFFLINE='1')
    out = subprocess.run([sys.executable, '-c', PROBE], env=env, cwd=ROOT, text=True,
                         capture_output=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_changes_no_global_state_and_register_all_modules_does():
    res = _probe()
    assert res['n'] > 50  # every module of the package was imported
    before, after, registered = res['before'], res['after'], res['registered']
    for key in before:
        assert after[key] == before[key], f'importing vlbert_e2e changed {key}'
    # the explicit call installs what the import no longer does (the snapshot sees it)
    assert any('HistoryBuffer' in g for g in registered['safe_globals'])
    assert not any('HistoryBuffer' in g for g in before['safe_globals'])
    assert 'load_local_checkpoint' in registered['loaders']['']
    assert registered['scope'] == 'vlbert_e2e' and before['scope'] is None
    assert registered['history_buffer_getstate'] != before['history_buffer_getstate']


def test_loading_a_checkpoint_keeps_the_installed_allow_list(tmp_path):
    """load_checkpoint_file allow-lists SAFE_GLOBALS for its own load only; torch's
    context removes on exit what it added, which must not undo install_safe_loading."""
    import numpy as np
    import torch

    from vlbert_e2e.utils import SAFE_GLOBALS, install_safe_loading, load_checkpoint_file
    path = tmp_path / 'c.pth'
    torch.save({'meta': {'seed': np.int64(3)}, 'state_dict': {}}, path)
    install_safe_loading()
    assert load_checkpoint_file(str(path))['meta']['seed'] == 3
    assert set(SAFE_GLOBALS) <= set(torch.serialization.get_safe_globals())
    assert torch.load(path, weights_only=True)['meta']['seed'] == 3

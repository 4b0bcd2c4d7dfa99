"""Every config file states plain data: no Python function or class (MMEngine drops them
on ``dump``, so a dumped config would differ from the one that ran), and
``fromfile -> dump -> fromfile`` gives the same dict."""
import ast
import glob
import os

import pytest
from mmengine.config import Config

from vlbert_e2e.testing import ROOT

CONFIGS = sorted(glob.glob(os.path.join(ROOT, 'configs', '**', '*.py'), recursive=True))
# the files a run starts from; their bases reach the dump through them
LEAVES = [p for p in CONFIGS if os.sep + '_base_' + os.sep not in p]


def code_objects(source: str, path: str) -> list:
    """``path:line: def NAME`` for each function, lambda or class in a config source."""
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
    return [f'{path}:{n.lineno}: {type(n).__name__} {getattr(n, "name", "")}'.rstrip()
            for n in ast.walk(ast.parse(source)) if isinstance(n, kinds)]


def _ids(paths):
    return [os.path.relpath(p, ROOT) for p in paths]


def test_every_config_is_found():
    assert len(CONFIGS) > 40 and len(LEAVES) > 20


@pytest.mark.parametrize('path', CONFIGS, ids=_ids(CONFIGS))
def test_config_has_no_function(path):
    with open(path) as f:
        assert code_objects(f.read(), os.path.relpath(path, ROOT)) == []


def test_function_check_catches_a_function_and_a_lambda():
    src = 'def f(x):\n    return x\n\ng = lambda y: y\nmodel = dict(a=f(1))\n'
    assert code_objects(src, 'c.py') == ['c.py:1: FunctionDef f', 'c.py:4: Lambda']


@pytest.mark.parametrize('path', LEAVES, ids=_ids(LEAVES))
def test_config_dumps_and_reloads_to_the_same_dict(path, tmp_path):
    cfg = Config.fromfile(path)
    out = tmp_path / 'dumped.py'
    cfg.dump(str(out))
    assert Config.fromfile(str(out)).to_dict() == cfg.to_dict()

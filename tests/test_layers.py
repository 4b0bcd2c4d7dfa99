"""Layers point one way: every import of the package and its tools obeys docs/architecture.md.

The checker parses each module with ``ast`` (imports inside functions included) and names
``file:line`` of every import that points up a layer or crosses a forbidden edge.
"""
import ast
import os.path as osp
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = 'vlbert_e2e'

# Higher number = higher layer; a module may import its own layer or lower ones.
LAYERS = {
    'tools': 4, 'testing': 4, '__init__': 4,
    'apis': 3, 'benchmarking': 3,
    'engine': 2, 'evaluation': 2, 'models': 2, 'datasets': 2, 'visualization': 2,
    'structures': 1, 'utils': 1, 'registry': 1,
}
# Edges forbidden inside one layer (importer -> imported).
FORBIDDEN = {
    ('utils', 'models'), ('structures', 'models'), ('datasets', 'models'),
    ('evaluation', 'models'), ('engine', 'datasets'),
}


def _part_of(module: str) -> Optional[str]:
    """Top part of a dotted module inside the package (``None`` for other packages)."""
    parts = module.split('.')
    if parts[0] != PKG:
        return None
    return parts[1] if len(parts) > 1 else '__init__'


def _imported_modules(tree: ast.AST, module: str, is_pkg: bool) -> Iterator[Tuple[int, str]]:
    """(line, dotted module) of every import in ``tree``, relative imports resolved."""
    package = module if is_pkg else module.rpartition('.')[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                anchor = package.split('.')[:len(package.split('.')) - node.level + 1]
                base = '.'.join(anchor + ([base] if base else []))
            if base == PKG:  # `from vlbert_e2e import models` imports the subpackage
                for alias in node.names:
                    yield node.lineno, f'{PKG}.{alias.name}'
            else:
                yield node.lineno, base


def layer_violations(source: str, module: str, path: str, is_pkg: bool = False) -> List[str]:
    """``path:line: importer -> imported`` for each import of ``source`` breaking the rule.

    Args:
        source (str): Python source of the module.
        module (str): Its dotted name (``vlbert_e2e.utils.x``; ``tools.x`` for tools).
        path (str): The path printed in the messages.
        is_pkg (bool): Whether the module is a package ``__init__``.

    Returns:
        list[str]: One message per violation; empty when the module obeys the rule.
    """
    src = 'tools' if module.split('.')[0] == 'tools' else _part_of(module)
    if src not in LAYERS:
        return [f'{path}:1: {module} is in no layer; add its package to LAYERS']
    bad = []
    for line, target in _imported_modules(ast.parse(source), module, is_pkg):
        dst = _part_of(target)
        if dst is None or dst == src:
            continue
        if dst not in LAYERS:
            bad.append(f'{path}:{line}: {target} is in no layer')
        elif LAYERS[dst] > LAYERS[src] or (src, dst) in FORBIDDEN:
            bad.append(f'{path}:{line}: {src}/ imports {dst}/ ({target})')
    return bad


def _all_modules() -> Iterator[Tuple[Path, str, bool]]:
    for path in sorted((ROOT / PKG).rglob('*.py')) + sorted((ROOT / 'tools').rglob('*.py')):
        rel = path.relative_to(ROOT).with_suffix('')
        parts = list(rel.parts)
        is_pkg = parts[-1] == '__init__'
        if is_pkg:
            parts = parts[:-1]
        yield path, '.'.join(parts), is_pkg


def test_package_and_tools_import_down_only():
    modules = list(_all_modules())
    assert len(modules) > 50, 'the walk found too few modules'
    bad = []
    for path, module, is_pkg in modules:
        bad += layer_violations(path.read_text(), module, osp.relpath(path, ROOT), is_pkg)
    assert not bad, 'imports against docs/architecture.md:\n' + '\n'.join(bad)


@pytest.mark.parametrize('module,source,expected', [
    ('vlbert_e2e.utils.x', 'def f():\n    from vlbert_e2e.models.heads import H\n',
     'x.py:2: utils/ imports models/ (vlbert_e2e.models.heads)'),
    ('vlbert_e2e.engine.hooks.h', 'import os\nfrom ...datasets.transforms import t\n',
     'x.py:2: engine/ imports datasets/ (vlbert_e2e.datasets.transforms)'),
    ('vlbert_e2e.datasets.d', 'from vlbert_e2e import apis\n',
     'x.py:1: datasets/ imports apis/ (vlbert_e2e.apis)'),
    ('vlbert_e2e.structures.s', 'import vlbert_e2e.visualization.canvas as c\n',
     'x.py:1: structures/ imports visualization/ (vlbert_e2e.visualization.canvas)'),
])
def test_checker_catches_a_synthetic_violation(module, source, expected):
    assert layer_violations(source, module, 'x.py') == [expected]


def test_checker_allows_downward_and_same_layer_imports():
    source = ('from vlbert_e2e.registry import MODELS\nfrom ..utils import x\n'
              'from .heads import H\nfrom vlbert_e2e.models.heads import G\nimport torch\n')
    assert layer_violations(source, 'vlbert_e2e.models.m', 'x.py') == []
    assert layer_violations('from vlbert_e2e.evaluation import f\n',
                            'vlbert_e2e.datasets.vqa_v2', 'x.py') == []

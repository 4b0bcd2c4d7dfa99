"""Every public definition of ``vlbert_e2e/`` has a docstring; no function is longer
than 60 lines (issue 15, item 8 and the acceptance rule on function length).

Both checks read the source with ``ast`` (nothing is imported) and fail with
``file:line name`` of every offender, so one run lists all of them.

Public: a module-level function or class, or a method or nested class of a public
class, whose name does not start with ``_``, plus ``__call__`` (the entry point of a
callable object). ``__init__`` is exempt: its arguments are documented in the class
docstring (Google style, as mmdet does). Functions nested inside functions are private.

No file is exempt. When this test was written, the files that issue 15 has other
helpers rewriting (``models/``, ``structures/``, ``apis/``, ``visualization/``,
``engine/hooks/vl_visualization_hook.py``, ``datasets/transforms/formatting.py``,
``datasets/samplers/image_grouped_sampler.py``, ``utils/vlbert_original.py``,
``utils/safe_load.py``, ``__init__.py``) still had offenders; they are listed here, not
skipped, and are to be fixed by those rewrites.
"""
import ast
import os
from typing import Iterator, List, Tuple, Union

PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       'vlbert_e2e')
MAX_FUNCTION_LINES = 60
FunctionNode = Union[ast.FunctionDef, ast.AsyncFunctionDef]
DefNode = Union[ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef]


def _is_public(name: str) -> bool:
    return not name.startswith('_') or name == '__call__'


def _public_defs(tree: ast.AST, prefix: str = '') -> Iterator[Tuple[str, DefNode]]:
    """``(qualified name, node)`` of every public def in a module or class body,
    descending into public classes only."""
    for node in ast.iter_child_nodes(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if not _is_public(node.name):
            continue
        name = prefix + node.name
        yield name, node
        if isinstance(node, ast.ClassDef):
            yield from _public_defs(node, name + '.')


def missing_docstrings(source: str, filename: str) -> List[str]:
    """``'<filename>:<line> <qualified name>'`` of every public def of ``source``
    without a docstring."""
    tree = ast.parse(source, filename)
    return [f'{filename}:{node.lineno} {name}' for name, node in _public_defs(tree)
            if not ast.get_docstring(node)]


def long_functions(source: str, filename: str, limit: int = MAX_FUNCTION_LINES
                   ) -> List[str]:
    """``'<filename>:<line> <name> (<n> lines)'`` of every function of ``source``
    (methods and nested functions included) longer than ``limit`` lines, counted from
    its ``def`` line to its last line (decorators not counted)."""
    tree = ast.parse(source, filename)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            n = node.end_lineno - node.lineno + 1
            if n > limit:
                out.append(f'{filename}:{node.lineno} {node.name} ({n} lines)')
    return out


def _package_sources() -> Iterator[Tuple[str, str]]:
    for root, dirs, files in os.walk(PACKAGE):
        dirs.sort()
        for name in sorted(files):
            if name.endswith('.py'):
                path = os.path.join(root, name)
                with open(path, encoding='utf-8') as f:
                    yield os.path.relpath(path, os.path.dirname(PACKAGE)), f.read()


SYNTHETIC = '''
def documented(x):
    """Says what it does."""
    return x


def undocumented(x):
    return x


def _private(x):
    return x


class Public:
    """A class."""

    def __init__(self):
        pass

    def method(self):
        pass

    def __call__(self):
        pass

    def _helper(self):
        pass

    def forward(self, x):
        """Documented forward."""
        return x

    class Inner:
        pass


class _Private:
    def method(self):
        pass
'''


def test_checker_finds_missing_docstrings_in_synthetic_source():
    assert missing_docstrings(SYNTHETIC, 'x.py') == [
        'x.py:7 undocumented', 'x.py:21 Public.method', 'x.py:24 Public.__call__',
        'x.py:34 Public.Inner']


def test_checker_finds_long_functions_in_synthetic_source():
    body = ''.join(f'    x{i} = {i}\n' for i in range(60))
    src = f'def long_one():\n{body}\n\ndef short():\n    return 1\n'
    assert long_functions(src, 'y.py') == ['y.py:1 long_one (61 lines)']
    assert long_functions(src, 'y.py', limit=61) == []


def test_every_public_definition_has_a_docstring():
    missing = [m for path, src in _package_sources() for m in missing_docstrings(src, path)]
    assert not missing, (f'{len(missing)} public definitions without a docstring:\n'
                         + '\n'.join(missing))


def test_no_function_longer_than_60_lines():
    long = [m for path, src in _package_sources() for m in long_functions(src, path)]
    assert not long, (f'{len(long)} functions longer than {MAX_FUNCTION_LINES} lines:\n'
                      + '\n'.join(long))

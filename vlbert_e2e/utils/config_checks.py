"""Checks of a user's config overrides, with messages that name the key.

MMEngine lacks them: ``Config.merge_from_dict`` silently adds a mistyped
``--cfg-options`` key, keeps ``train_cfg.max_iters=abc`` as a string until the loop
fails deep inside, and a registry build reports an unexpected argument by class, not by
config key. Hand-written here, used by ``tools/train.py`` and ``tools/test.py``.
"""
import argparse
import difflib
import inspect
import os
import re
from contextlib import contextmanager
from typing import Any, Iterator, List, Optional

from mmengine.config import Config, DictAction


class ConfigError(ValueError):
    """A config file or key a user gave that cannot be used."""


class ConfigKeyError(ConfigError):
    """A config key that does not exist or holds a value of the wrong type."""


def load_config(path: str) -> Config:
    """``Config.fromfile`` with one-line errors for a missing or unparsable file.

    The config's ``pretty_text`` is not run through yapf: MMEngine's Runner renders it
    on every run (the log, the work_dir dump, each checkpoint's meta) and yapf is most of
    that cost; unformatted it is the same valid Python (``Config.fromfile`` of the dump
    gives the same dict). ``Config.fromfile(format_python_code=False)`` would say so, but
    MMEngine 0.10 drops that argument for non-lazy configs, hence the copy.

    Args:
        path (str): The config file.

    Returns:
        Config: The loaded config.

    Raises:
        ConfigError: ``path`` is not a file, or reading it raises ``SyntaxError``,
            ``OSError``, ``KeyError`` or ``NameError`` (naming the file and the error).
    """
    import os.path as osp
    if not osp.isfile(path):
        raise ConfigError(f'config file not found: {path}')
    try:
        cfg = Config.fromfile(path)
    except (SyntaxError, OSError, KeyError, NameError) as e:
        raise ConfigError(f'cannot read config {path}: {type(e).__name__}: {e}') from e
    return Config(cfg.to_dict(), cfg_text=cfg.text, filename=cfg.filename,
                  env_variables=cfg.env_variables, format_python_code=False)


def _registered_class(type_name: Any) -> Optional[type]:
    """The class a config ``type`` names, looked up in every registry of the project
    (parents and ``mmdet.`` scopes included); ``None`` when not found."""
    if isinstance(type_name, type):
        return type_name
    if not isinstance(type_name, str):
        return None
    import mmdet.registry  # noqa: F401 (creates the mmdet scope)
    from mmengine.registry import Registry

    from vlbert_e2e import registry
    for reg in vars(registry).values():
        if isinstance(reg, Registry):
            cls = reg.get(type_name)
            if cls is not None:
                return cls
    return None


def _accepted_args(node: dict) -> Optional[List[str]]:
    """Argument names the class of a typed dict accepts; ``None`` = any key (a plain
    dict, an unknown class, or one that takes ``**kwargs``)."""
    cls = _registered_class(node.get('type')) if 'type' in node else None
    if cls is None:
        return None
    params = inspect.signature(cls.__init__ if inspect.isclass(cls) else cls).parameters
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return None
    return [p for p in params if p != 'self']


def _type_error(key: str, old: Any, new: Any) -> Optional[str]:
    """Why ``new`` cannot replace ``old`` (the config's value), or ``None``."""
    if old is None or new is None:
        return None
    if isinstance(old, bool) or isinstance(new, bool):
        ok = isinstance(old, bool) == isinstance(new, bool)
    elif isinstance(old, (int, float)):
        ok = isinstance(new, (int, float))
    elif isinstance(old, (list, tuple)):
        ok = isinstance(new, (list, tuple))
    elif isinstance(old, dict):
        ok = isinstance(new, dict)
    else:
        ok = isinstance(new, type(old))
    return None if ok else (f'config key {key} expects {type(old).__name__} '
                            f'(config: {old!r}), got {new!r}')


def check_cfg_options(cfg: Config, options: dict) -> dict:
    """Validate ``--cfg-options`` against ``cfg``; return them ready to merge.

    A key must exist, except a new key under a plain dict (no ``type``, e.g.
    ``randomness.deterministic``) or an argument the ``type``'s class accepts; a key
    written ``+a.b`` is added without checks. A value must have the type of the one it
    replaces (numbers mix, ``None`` goes anywhere).

    Args:
        cfg: the config the options will be merged into (not changed here).
        options: dotted key -> value, as ``DictAction`` parses ``--cfg-options``.

    Returns:
        The options with the ``+`` of added keys removed.

    Raises:
        ConfigKeyError: an unknown key (with the closest existing one, when there is
            one), a key through a value that is not a dict, or a value of another type.
    """
    out, tree = {}, cfg.to_dict()
    for key, value in options.items():
        if key.startswith('+'):
            out[key[1:]] = value
            continue
        node: Any = tree
        parts = key.split('.')
        for depth, part in enumerate(parts):
            here = '.'.join(parts[:depth + 1])
            if isinstance(node, (list, tuple)) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
                continue
            if not isinstance(node, dict):
                raise ConfigKeyError(f'config key {here}: {".".join(parts[:depth])} is a '
                                     f'{type(node).__name__}, not a dict')
            if part not in node:
                last = depth == len(parts) - 1
                accepted = _accepted_args(node) if last else []
                if last and (accepted is None and 'type' not in node
                             or accepted is not None and part in accepted):
                    break  # a free-form dict, or an argument the class accepts
                names = list(node) + list(accepted or [])
                close = difflib.get_close_matches(part, names, n=1)
                hint = f'; did you mean {".".join(parts[:depth] + close)}?' if close else ''
                raise ConfigKeyError(f'unknown config key {here}{hint} '
                                     f'(write +{key}=... to add a new key)')
            if depth == len(parts) - 1:
                problem = _type_error(key, node[part], value)
                if problem:
                    raise ConfigKeyError(problem)
            node = node[part]
        out[key] = value
    return out


def _key_paths(node: Any, arg: str, cls_name: Optional[str], prefix: str = '') -> List[str]:
    """Dotted paths of every dict in ``node`` holding ``arg`` (those whose ``type``
    names ``cls_name`` first)."""
    found, preferred = [], []
    items = (node.items() if isinstance(node, dict)
             else enumerate(node) if isinstance(node, (list, tuple)) else ())
    if isinstance(node, dict) and arg in node:
        path = f'{prefix}{arg}'
        typ = str(node.get('type', '')).split('.')[-1]
        (preferred if cls_name and typ == cls_name else found).append(path)
    for k, v in items:
        found += _key_paths(v, arg, cls_name, f'{prefix}{k}.')
    return preferred + found


BAD_KWARG = re.compile(r"unexpected keyword argument '(\w+)'")
# mmengine.dataset.ConcatDataset's words when its datasets' metainfo differ
CONCAT_META = 'meta information of the'

# the innermost class: Python names it ("X.__init__()"), MMEngine's wrapper too
CLASS = re.compile(r'class `(\w+)`|(\w+)\.__init__\(\)')


@contextmanager
def explain_config_errors(cfg: Config) -> Iterator[None]:
    """Turn the ``TypeError`` of a registry build with an argument the class does not
    take ("X.__init__() got an unexpected keyword argument 'foo'", or MMEngine's
    "class `X` in ...: ..." wrapping of it) into a :class:`ConfigKeyError` naming the config
    key(s); and MMEngine ``ConcatDataset``'s refusal of datasets whose meta information
    differs (a ``ValueError`` or ``TypeError`` naming no config key) into a
    :class:`ConfigError` that says which option allows it. Other errors pass unchanged.

    Raises:
        ConfigKeyError: from such a ``TypeError`` raised inside the ``with`` block.
        ConfigError: from ``ConcatDataset``'s meta-information check.
    """
    try:
        yield
    except (TypeError, ValueError) as e:
        if CONCAT_META in str(e):
            msg = ' '.join(str(e).split(': ')[-1].split())
            raise ConfigError(
                f'ConcatDataset: {msg} (the datasets of a ConcatDataset must have the same '
                'metainfo, e.g. classes, attributes; list the keys that may differ in its '
                'ignore_keys)') from e
        bad = BAD_KWARG.search(str(e)) if isinstance(e, TypeError) else None
        if bad is None:
            raise
        classes = [a or b for a, b in CLASS.findall(str(e))]
        cls_name = classes[-1] if classes else None
        paths = _key_paths(cfg.to_dict(), bad.group(1), cls_name)
        where = ', '.join(paths) if paths else bad.group(1)
        raise ConfigKeyError(f'unknown config key {where}: {cls_name or "the class"} takes '
                             f'no argument {bad.group(1)!r}') from e


@contextmanager
def explain_build_errors(cfg: Config) -> Iterator[None]:
    """Around building a runner (its model and what it builds at once) from ``cfg``:
    :func:`explain_config_errors`, and a ``ValueError`` a constructor raises on a value
    it refuses (``drop_prob=1.5``) as a one-line :class:`ConfigError`. Only around the
    build: a ``ValueError`` while training or testing is no config error.

    Raises:
        ConfigKeyError: see :func:`explain_config_errors`.
        ConfigError: from a plain ``ValueError`` raised inside the ``with`` block
            (its subclasses pass unchanged).
    """
    try:
        with explain_config_errors(cfg):
            yield
    except ValueError as e:
        if type(e) is not ValueError:  # ours (ConfigError, CheckpointError, ...) say more
            raise
        msg = ' '.join(str(e).split()) or type(e).__name__
        raise ConfigError(f'a config value was refused while building: {msg}') from e


def int_at_least(low: int):
    """argparse ``type``: an integer >= ``low``; anything else is a usage error (exit 2,
    ``'<value> is not an integer >= <low>'``)."""
    def parse(value: str) -> int:
        try:
            n = int(value)
        except ValueError:
            n = low - 1
        if n < low:
            raise argparse.ArgumentTypeError(f'{value} is not an integer >= {low}')
        return n
    return parse


def writable_file(value: str) -> str:
    """argparse ``type``: a file path that can be created or replaced (not a folder, in
    an existing folder), so a tool refuses it before its work, not after (exit 2)."""
    parent = os.path.dirname(os.path.abspath(value))
    if os.path.isdir(value):
        raise argparse.ArgumentTypeError(f'{value} is a folder, not a file to write')
    if not os.path.isdir(parent):
        raise argparse.ArgumentTypeError(f'{value}: folder {parent} does not exist')
    if not os.access(parent, os.W_OK) or (os.path.exists(value)
                                          and not os.access(value, os.W_OK)):
        raise argparse.ArgumentTypeError(f'{value} cannot be written (permissions)')
    return value


class CfgOptionsAction(DictAction):
    """MMEngine's ``DictAction`` for ``--cfg-options``, with an item that is not
    ``key=value`` reported as a usage error (exit 2) instead of a traceback."""

    def __call__(self, parser, namespace, values, option_string=None):
        """Parse ``values`` as MMEngine does, after checking each holds a ``=``.

        Raises:
            SystemExit: (code 2, through ``parser.error``) an item without ``=``.
        """
        bad = [v for v in (values if isinstance(values, list) else [values]) if '=' not in v]
        if bad:
            parser.error(f'{option_string} takes key=value items, got {bad[0]!r}')
        super().__call__(parser, namespace, values, option_string)


def merge_cfg_options(cfg: Config, options: Optional[dict]) -> None:
    """``cfg.merge_from_dict(options)`` after :func:`check_cfg_options` (nothing for
    ``None`` or ``{}``).

    Raises:
        ConfigKeyError: see :func:`check_cfg_options`; ``cfg`` is then unchanged.
    """
    if options:
        cfg.merge_from_dict(check_cfg_options(cfg, options))

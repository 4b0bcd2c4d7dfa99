"""Does a checkpoint hold the weights of this model? One check for every entry point.

``tools/test.py`` (through :class:`~vlbert_e2e.engine.hooks.CheckpointKeysHook`),
``tools/train.py`` (resume: strict; ``load_from`` for fine-tuning: logged), the
inferencer and the benchmark all call :func:`check_checkpoint_keys`. MMEngine's own
``load_state_dict`` only logs a mismatch as a list of every key; a metric computed from
weights that were never loaded must not be reported, so a mismatch is refused unless a
partial load was asked for, and is then logged one line per group of keys.
"""
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Mapping, Tuple

from mmengine.logging import print_log
from torch import Tensor, nn

from .safe_load import CheckpointError, load_checkpoint_file

MODULE_PREFIX = re.compile(r'^module\.')  # DDP's, removed as MMEngine's load does


def key_groups(keys: Iterable[str], others: Iterable[str]) -> Dict[str, int]:
    """Group ``keys`` by their shortest dotted prefix that no key of ``others`` shares:
    ``{'heads.ground.*': 4, 'vl_bert.pooler.dense.bias': 1}`` (a lone key keeps its name)."""
    taken = set()
    for k in others:
        parts = k.split('.')
        taken.update('.'.join(parts[:i]) for i in range(1, len(parts) + 1))
    groups: Counter = Counter()
    for k in keys:
        parts = k.split('.')
        for i in range(1, len(parts) + 1):
            prefix = '.'.join(parts[:i])
            if prefix not in taken:
                break
        groups[prefix if i == len(parts) else prefix + '.*'] += 1
    return dict(groups)


def _fmt(groups: Dict[str, int]) -> str:
    return ', '.join(f'{g} ({n} key{"s" * (n != 1)})' for g, n in groups.items())


@dataclass
class KeyMismatch:
    """How a checkpoint's state dict differs from a model's; false when it does not.

    Attributes:
        missing: key group (:func:`key_groups`) -> count, keys of the model only.
        unexpected: key group -> count, keys of the checkpoint only.
        reshaped: ``(key, checkpoint shape, model shape)`` of every key whose shapes
            differ.
    """
    missing: Dict[str, int] = field(default_factory=dict)  # group -> count, model only
    unexpected: Dict[str, int] = field(default_factory=dict)  # checkpoint only
    reshaped: List[Tuple[str, tuple, tuple]] = field(default_factory=list)  # key, ckpt, model

    def __bool__(self) -> bool:
        return bool(self.missing or self.unexpected or self.reshaped)

    def lines(self) -> List[str]:
        """One line per group: what was not loaded, and why."""
        out = [f'missing from the checkpoint (left as initialised): {g} ({n})'
               for g, n in self.missing.items()]
        out += [f'in the checkpoint but not in the model (ignored): {g} ({n})'
                for g, n in self.unexpected.items()]
        out += [f'other shape (left as initialised): {k} {list(a)} in the checkpoint, '
                f'{list(b)} in the model' for k, a, b in self.reshaped]
        return out

    def summary(self) -> str:
        """All differences on one line (``'missing ...; unexpected ...; other shapes:
        <first key> ... and N more'``), for an error message."""
        parts = []
        if self.missing:
            parts.append(f'missing {_fmt(self.missing)}')
        if self.unexpected:
            parts.append(f'unexpected {_fmt(self.unexpected)}')
        if self.reshaped:
            k, a, b = self.reshaped[0]
            more = f' and {len(self.reshaped) - 1} more' if len(self.reshaped) > 1 else ''
            parts.append(f'other shapes: {k} {list(a)} vs {list(b)}{more}')
        return '; '.join(parts)


def compare_state_dicts(own: Mapping[str, Tensor], loaded: Mapping[str, Tensor]
                        ) -> KeyMismatch:
    """Missing, unexpected (both grouped by :func:`key_groups`) and reshaped keys of a
    checkpoint's ``loaded`` state dict against a model's ``own``."""
    loaded = {MODULE_PREFIX.sub('', k): v for k, v in loaded.items()}
    missing = [k for k in own if k not in loaded]
    unexpected = [k for k in loaded if k not in own]
    reshaped = [(k, tuple(loaded[k].shape), tuple(own[k].shape)) for k in own
                if k in loaded and hasattr(loaded[k], 'shape')
                and tuple(loaded[k].shape) != tuple(own[k].shape)]
    return KeyMismatch(key_groups(missing, loaded), key_groups(unexpected, own), reshaped)


def state_dict_of(checkpoint: Mapping) -> Mapping[str, Tensor]:
    """The weights of a checkpoint dict: its ``state_dict``, or itself when bare."""
    return checkpoint.get('state_dict', checkpoint)


def check_checkpoint_keys(own: Mapping[str, Tensor], loaded: Mapping[str, Tensor], path: str,
                          partial: bool = False, hint: str = '') -> KeyMismatch:
    """Refuse a checkpoint that does not fit the model, or, with ``partial``, log what
    of it is not loaded (one line per key group).

    Args:
        own: the model's ``state_dict()``.
        loaded: the checkpoint's state dict.
        path: the checkpoint file, for the messages.
        partial: allow a mismatch (logged) instead of raising.
        hint: appended to the error, e.g. how to ask for a partial load.

    Raises:
        CheckpointError: on any missing, unexpected or reshaped key unless ``partial``;
            also with ``partial`` when the checkpoint shares no weight with the model
            (another model's file: nothing would be loaded).
    """
    mismatch = compare_state_dicts(own, loaded)
    if partial and own and sum(mismatch.missing.values()) == len(own):  # none loaded
        raise CheckpointError(f'checkpoint {path} shares no weight with the model '
                              f'({len(loaded)} keys, none of the model\'s): another '
                              f'model\'s file?')
    if mismatch and not partial:
        raise CheckpointError(f'checkpoint {path} does not match the model: '
                              f'{mismatch.summary()}{hint}')
    for line in mismatch.lines():
        print_log(f'partial load of {path}: {line}', logger='current', level=30)
    return mismatch


def complete_partial_state_dict(own: Mapping[str, Tensor], loaded: dict) -> None:
    """Make ``loaded`` (edited in place) exactly what a partial load puts into a model
    whose state dict is ``own``: keys the model lacks removed, keys it misses or holds in
    another shape set to the model's own values (DDP's ``module.`` prefix is allowed on
    ``loaded``'s keys). It then loads strictly, and MMEngine's loader prints no key lists
    (:func:`check_checkpoint_keys` has logged each group in one line)."""
    plain = {MODULE_PREFIX.sub('', k): k for k in loaded}
    for key, name in plain.items():
        if key not in own:
            del loaded[name]
    for key, value in own.items():
        name = plain.get(key, key)
        if getattr(loaded.get(name), 'shape', None) != value.shape:
            loaded[name] = value


def apply_checkpoint(model: nn.Module, checkpoint: Mapping, path: str, partial: bool = False,
                     hint: str = '') -> dict:
    """Load a checkpoint dict read from ``path`` into ``model`` after
    :func:`check_checkpoint_keys`; returns its ``meta`` (``{}`` if none). With
    ``partial``, keys of another shape are skipped, not loaded. DDP's ``module.``
    prefix is removed from the checkpoint's keys.

    Raises:
        CheckpointError: the keys do not match the model and ``partial`` is false.
    """
    own = model.state_dict()
    sd = {MODULE_PREFIX.sub('', k): v for k, v in state_dict_of(checkpoint).items()}
    if check_checkpoint_keys(own, sd, path, partial, hint):  # partial: left as initialised
        complete_partial_state_dict(own, sd)
    model.load_state_dict(sd)
    meta = checkpoint.get('meta')
    return meta if isinstance(meta, dict) else {}


def load_weights(model: nn.Module, path: str, partial: bool = False, hint: str = '') -> dict:
    """:func:`load_checkpoint_file` then :func:`apply_checkpoint`; returns the
    checkpoint's ``meta`` (``{}`` if none).

    Raises:
        CheckpointError: ``path`` is not a usable checkpoint file, or its keys do not
            match the model and ``partial`` is false.
    """
    return apply_checkpoint(model, load_checkpoint_file(path), path, partial, hint)

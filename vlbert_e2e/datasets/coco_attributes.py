"""Object attributes in COCO-format instance files, as targets of the detector's
attribute head (BUTD, Anderson et al., arXiv 1707.07998: the Visual Genome detector
whose features VL-BERT used predicts an attribute beside each class).

Format (PACO's COCO-format files, arXiv 2301.01795): a top-level ``attributes`` list of
``{"id", "name"}`` and, per annotation, ``attribute_ids`` (a list; absent or empty: the
object has no attribute label and gives no attribute loss). Written by hand: mmdet's
``CocoDataset`` reads no attributes.
"""
from typing import List, Optional, Sequence, Tuple

from vlbert_e2e.utils.config_checks import ConfigError

from .transforms.loading import BadSampleError


def configured_attributes(value, where: str) -> Optional[Tuple[str, ...]]:
    """A dataset's ``metainfo['attributes']`` as a tuple of names.

    Args:
        value: the metainfo value; ``None`` or empty: attributes are not read.
        where: the dataset's file, for the error message.

    Raises:
        ConfigError: a string (MMEngine reads a string metainfo value as the path of a
            meta file and keeps it when there is none, so ``'red'`` would become the
            names ``r``, ``e``, ``d``), or names that are not strings.
    """
    if not value:
        return None
    if isinstance(value, str) or not all(isinstance(n, str) for n in value):
        raise ConfigError(f'{where}: metainfo.attributes must be a list of names, got '
                          f'{value!r}')
    return tuple(value)


class AttributeIndex:
    """The attribute names of one instance file and each annotation's multi-hot row.

    Args:
        coco: the loaded instances JSON.
        configured: the config's attribute names (``metainfo['attributes']``), in the
            attribute head's order; ``None`` or empty: attributes are not read.
        path: the file, for error messages.

    Raises:
        ConfigError: (a ``ValueError``) the file's attribute names, sorted by id,
            differ from ``configured`` (a file without ``attributes`` included), or its
            ``attributes`` are not ``{"id": int, "name": str}`` entries with distinct
            ids; ``configured`` not a list of names (:func:`configured_attributes`).
    """

    def __init__(self, coco: dict, configured: Optional[Sequence[str]], path: str) -> None:
        self.path = path
        self.names = configured_attributes(configured, path)
        if self.names is None:
            return
        attrs = coco.get('attributes') or []
        ok = isinstance(attrs, list) and all(
            isinstance(a, dict) and _is_int(a.get('id')) and isinstance(a.get('name'), str)
            for a in attrs)
        ids = [a['id'] for a in attrs] if ok else []
        if not ok or len(set(ids)) != len(ids):
            # a repeated id would label its objects with whichever name sorts last
            raise ConfigError(f'{path}: "attributes" must be a list of {{"id": int, "name": '
                              'str} with distinct ids')
        attrs = sorted(attrs, key=lambda a: a['id'])
        names = [a['name'] for a in attrs]
        if names != list(self.names):
            # a row's index is the head's class: another set would be learnt under the
            # configured names (as VQAv2Dataset checks the categories)
            raise ConfigError(f'{path}: its attributes {names} are not the attributes '
                              f'of the config {list(self.names)}')
        self._index = {a['id']: i for i, a in enumerate(attrs)}

    @property
    def enabled(self) -> bool:
        """Whether the config asks for attributes."""
        return self.names is not None

    def multi_hot(self, ann: dict, where: str) -> List[float]:
        """``(A,)`` 1.0 at each attribute of annotation ``ann`` (all 0: none labelled).

        Raises:
            BadSampleError: ``attribute_ids`` that is not a list, or an entry of it the
                file's ``attributes`` lack (or not an int), naming ``where``.
        """
        ids = ann.get('attribute_ids')
        ids = [] if ids is None else ids
        if not isinstance(ids, list):
            raise BadSampleError(f'{where}: attribute_ids must be a list of ids, got {ids!r}')
        unknown = [a for a in ids if not _is_int(a) or a not in self._index]
        if unknown:
            raise BadSampleError(f'{where}: attribute id {unknown[0]!r} is not in the '
                                 f'"attributes" of {self.path}')
        return multi_hot([self._index[a] for a in ids], len(self.names))


def multi_hot(indices: Sequence[int], num: int) -> List[float]:
    """``(num,)`` 1.0 at each of ``indices`` (0-based attribute indices).

    Raises:
        ValueError: an index outside ``[0, num)`` or not an int (``true`` included).
    """
    row = [0.0] * num
    for i in indices:
        if not (_is_int(i) and 0 <= i < num):
            raise ValueError(f'attribute {i!r} is not an index of the {num} attributes')
        row[i] = 1.0
    return row


def _is_int(v) -> bool:
    """An int that is not a bool (JSON ``true`` would read as 1)."""
    return isinstance(v, int) and not isinstance(v, bool)

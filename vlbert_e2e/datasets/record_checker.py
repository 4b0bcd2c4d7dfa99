"""Load-time checks every dataset's ``load_data_list`` goes through.

An annotation record points into other files (a RefCOCO ref at an annotation and an
image of ``instances.json``, a VQA question at its annotation and image, a VCR line at
its metadata file, a Conceptual Captions line at a downloaded image). When such a link
does not resolve, or the record is otherwise unusable, the record is skipped and
counted, or raised, by the dataset's ``on_bad_sample``; one log line at the end says how
many were skipped. Written by hand: MMEngine's ``BaseDataset`` has no notion of a bad
record (mmdet's datasets raise a bare ``KeyError`` on a broken link).
"""
from typing import Any, Callable, Hashable, Iterable, List, Mapping, Union

from mmengine.logging import MMLogger

from .transforms.loading import BadSampleError, BadSamplePolicy

Samples = Union[dict, List[dict]]


def resolve(table: Mapping, key: Hashable, where: str, what: str, other_file: str) -> Any:
    """Follow one cross-file link: ``table[key]``.

    Args:
        table: the records of the other file by id (e.g. image id -> COCO image).
        key: the id the record points at.
        where: the record, as ``'<file>, <record kind> <id>'``.
        what: the kind of the id (``'image_id'``, ``'ann_id'``).
        other_file: the file ``table`` was read from.

    Returns:
        ``table[key]``.

    Raises:
        BadSampleError: ``'<where>: <what> <key> not in <other_file>'`` when ``key`` is
            not in ``table`` (or cannot be a key at all, e.g. a list).
    """
    try:
        return table[key]
    except (KeyError, TypeError):
        raise BadSampleError(f'{where}: {what} {key} not in {other_file}') from None


class RecordChecker(BadSamplePolicy):
    """The :class:`BadSamplePolicy` of a dataset's annotation files.

    Args:
        on_bad_sample: ``'raise'``: the first bad record raises its
            :class:`BadSampleError` (naming the file and the record); ``'skip'``: it is
            dropped and counted in ``num_skipped``.
        max_warnings: under ``'skip'``, the first this many bad records are each named
            in a warning, the rest only counted (a COCO file cut to a subset can leave
            thousands of refs dangling); :meth:`report` gives the total.
    """

    def __init__(self, on_bad_sample: str, max_warnings: int = 20) -> None:
        super().__init__(on_bad_sample)
        self.max_warnings = max_warnings

    def __call__(self, err: BadSampleError) -> None:
        """Handle one bad record: raise ``err``, or count it and (for the first
        ``max_warnings``) log a warning naming it.

        Raises:
            BadSampleError: ``err`` itself, under ``on_bad_sample='raise'``.
        """
        if self.on_bad_sample == 'raise':
            raise err
        self.num_skipped += 1
        if self.num_skipped <= self.max_warnings:
            more = ' (further ones are only counted)' if (
                self.num_skipped == self.max_warnings) else ''
            MMLogger.get_current_instance().warning(f'skipping bad record: {err}{more}')

    def collect(self, records: Iterable, build: Callable[[Any], Samples]) -> List[dict]:
        """``build`` every record into its sample(s).

        Args:
            records: the records, in file order.
            build: record -> one sample dict, or a list of them (e.g. one per sentence
                of a RefCOCO ref); raises :class:`BadSampleError` for a bad record.

        Returns:
            The samples of the good records, in order.

        Raises:
            BadSampleError: a record's error, under ``on_bad_sample='raise'`` (under
                ``'skip'`` the record is counted and passed over).
        """
        out = []
        for rec in records:
            try:
                samples = build(rec)
            except BadSampleError as e:
                self(e)
                continue
            if isinstance(samples, dict):
                out.append(samples)
            else:
                out.extend(samples)
        return out

    def report(self, source: str, num_samples: int) -> None:
        """Log, in one line, how many records of ``source`` were skipped.

        Raises:
            BadSampleError: every record was bad (nothing to train or test on).
        """
        if not self.num_skipped:
            MMLogger.get_current_instance().info(f'{source}: {num_samples} samples')
            return
        if not num_samples:
            raise BadSampleError(f'{source}: all {self.num_skipped} records are bad '
                                 f'(see the warnings above); no sample left')
        MMLogger.get_current_instance().warning(
            f'{source}: {num_samples} samples; skipped {self.num_skipped} bad records '
            f"(on_bad_sample='skip')")

"""Image loading for any raw image file a user may give."""
from typing import List, Optional

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import MMLogger

from vlbert_e2e.registry import TRANSFORMS
from vlbert_e2e.utils.image_io import BadSampleError, decode_image, one_line

__all__ = ['BadSampleError', 'BadSamplePolicy', 'LoadVLImage', 'clip_instances',
           'decode_image', 'one_line', 'record_name']


class BadSamplePolicy:
    """What to do with a :class:`BadSampleError`: ``'raise'`` it, or ``'skip'``: log
    a warning naming it and count it in ``num_skipped``.

    Args:
        on_bad_sample: ``'raise'`` or ``'skip'``.

    Raises:
        ValueError: ``on_bad_sample`` is neither.
    """

    def __init__(self, on_bad_sample: str) -> None:
        if on_bad_sample not in ('skip', 'raise'):
            raise ValueError(f"on_bad_sample must be 'skip' or 'raise', got {on_bad_sample!r}")
        self.on_bad_sample = on_bad_sample
        self.num_skipped = 0

    def __call__(self, err: BadSampleError) -> None:
        """Handle one bad sample: raise ``err``, or count it and log a warning.

        Raises:
            BadSampleError: ``err`` itself, under ``on_bad_sample='raise'``.
        """
        if self.on_bad_sample == 'raise':
            raise err
        self.num_skipped += 1
        MMLogger.get_current_instance().warning(
            f'skipping (skipped so far: {self.num_skipped}): {err}')


def record_name(results: dict) -> str:
    """``'record <sample_id> of <ann_file>, image <img_path>'`` (the parts the sample
    has) for error messages."""
    parts = []
    if 'sample_id' in results:
        parts.append(f'record {results["sample_id"]}'
                     + (f' of {results["ann_file"]}' if 'ann_file' in results else ''))
    if 'img_path' in results:
        parts.append(f'image {results["img_path"]}')
    return ', '.join(parts) or 'a sample without record id'


def clip_instances(instances: List[dict], height: int, width: int, where: str) -> List[dict]:
    """Clip the ``bbox`` (x1, y1, x2, y2) of mmdet ``instances`` to the image.

    A box partly outside is clipped and kept. A box with a non-finite coordinate, or of
    zero area after clipping (entirely outside, degenerate or reversed), raises
    :class:`BadSampleError` naming ``where`` and the box: the boxes are indexed by
    other fields (``ref_index``, VCR word-to-object links, ``roi_labels``), so one box
    cannot be dropped alone; the whole sample is rejected.

    Args:
        instances: mmdet instance dicts, ``bbox`` as x1, y1, x2, y2 in pixels.
        height, width: the image size in pixels.
        where: names the image and record in errors.

    Returns:
        Copies of ``instances`` (same order, other keys kept) with ``bbox`` clipped to
        ``[0, width] x [0, height]`` as 4 Python floats.
    """
    out = []
    for i, inst in enumerate(instances):
        box = np.asarray(inst['bbox'], dtype=np.float64)
        if box.shape != (4, ) or not np.isfinite(box).all():
            raise BadSampleError(f'{where}: box {i} {inst["bbox"]} is not 4 finite numbers')
        x1, x2 = np.clip(box[0::2], 0, width)
        y1, y2 = np.clip(box[1::2], 0, height)
        if x2 <= x1 or y2 <= y1:
            raise BadSampleError(f'{where}: box {i} {inst["bbox"]} has no area inside the '
                                 f'{width}x{height} image')
        out.append(dict(inst, bbox=[float(x1), float(y1), float(x2), float(y2)]))
    return out


@TRANSFORMS.register_module()
class LoadVLImage(BaseTransform):
    """Load ``results['img_path']`` with :func:`decode_image`, and check the sample's
    boxes (``instances``) against the image with :func:`clip_instances`.

    Args:
        on_bad_sample: ``'skip'`` logs a warning naming the file and the record
            (``sample_id``) and returns ``None`` (MMEngine's dataset then draws another
            sample; the skips are counted); ``'raise'`` raises :class:`BadSampleError`
            naming them.
    """

    def __init__(self, on_bad_sample: str = 'raise') -> None:
        self.policy = BadSamplePolicy(on_bad_sample)

    def transform(self, results: dict) -> Optional[dict]:
        """Decode the sample's image and clip its boxes.

        Args:
            results: reads ``img_path``, ``instances`` (optional, mmdet's, ``bbox``
                x1y1x2y2 in pixels) and ``sample_id`` (optional, to name the record).

        Returns:
            ``results`` with ``img`` (``(H, W, 3)`` uint8, BGR), ``img_shape`` and
            ``ori_shape`` (both ``(H, W)``) and ``instances`` clipped to the image;
            ``None`` when the sample is skipped (``on_bad_sample='skip'``).

        Raises:
            BadSampleError: under ``on_bad_sample='raise'``, naming the file and the
                record: see :func:`decode_image` and :func:`clip_instances`.
        """
        record = f'record {results["sample_id"]}' if 'sample_id' in results else 'no record'
        try:
            img = decode_image(results['img_path'])
            if results.get('instances'):
                results['instances'] = clip_instances(
                    results['instances'], *img.shape[:2], f'{results["img_path"]} ({record})')
        except BadSampleError as e:
            named = record in str(e) or 'sample_id' not in results  # e.g. the inferencer
            self.policy(e if named else BadSampleError(f'{e} ({record})'))
            return None  # skipped (counted, per worker, in self.policy.num_skipped)
        results['img'] = img
        results['img_shape'] = results['ori_shape'] = img.shape[:2]
        return results

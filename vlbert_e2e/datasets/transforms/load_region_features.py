"""Load precomputed region features (bottom-up-attention TSV or per-image .npz)."""
from typing import Dict, Optional, Sequence, Union

import numpy as np
from mmcv.transforms import BaseTransform

from vlbert_e2e.registry import TRANSFORMS

from .loading import BadSampleError, BadSamplePolicy
from .region_feature_files import FIELDNAMES, BottomUpTSV, RegionRecord, read_region_npz


@TRANSFORMS.register_module()
class LoadRegionFeatures(BaseTransform):
    """Put the precomputed regions of the sample's image into ``results``, in place of
    :class:`LoadVLImage` (no pixels are read): the model's
    :class:`PrecomputedRegionEncoder` then uses them as they are, as the original
    VL-BERT's ``-prec`` models did.

    Writes ``gt_bboxes`` ``(K, 4)`` (the given RoIs, original-image pixels, so
    :class:`MaskRoIs` and ``PackVLInputs`` treat them as any given boxes),
    ``region_feats`` ``(K, D)``, ``roi_cls_dist`` ``(K, C)`` when the file has class
    probabilities (MVRC targets), ``img_shape = ori_shape = (H, W)`` of the original
    image and ``scale_factor = (1, 1)``. The whole-image box is not among them (the
    model adds it). An image with 0 boxes is kept: the model then sees the whole-image
    box alone, with a zero feature (the mean of no box; the original divides by 0 there
    and gets NaN).

    Args:
        tsv: one bottom-up-attention TSV file or a list of them (e.g. the ``.tsv.0`` ...
            ``.tsv.7`` of a multi-GPU extraction); an id is looked up in each in turn.
            Each file is indexed once (cached as ``<file>.index.npz``, see
            :class:`BottomUpTSV`) when the transform is built.
        npz: path template of per-image ``.npz`` files, formatted with ``image_id``,
            e.g. ``'data/vqa/features/{image_id}.npz'``.
        id_key: the ``results`` key holding the image id (``'img_id'``).
        feature_dim: D, the size of every box feature (bottom-up-attention: 2048).
        fields: the TSV's columns (default ``image_id, image_w, image_h, num_boxes,
            boxes, features``; add ``'cls_prob'`` for a file that stores them).
        npz_keys: array names of the ``.npz`` files, see :func:`read_region_npz`.
        with_cls_prob: write ``roi_cls_dist`` when the file has class probabilities.
        index_file: for a single ``tsv``: where to cache its index (``False``: memory).
        on_bad_sample: ``'raise'`` a :class:`BadSampleError` naming the file, the line
            and the image id (id not in the file, truncated line, wrong sizes), or
            ``'skip'``: log it, count it and return ``None`` (MMEngine's dataset then
            draws another sample).

    Raises:
        FileNotFoundError: a ``tsv`` file does not exist (when built).
        ValueError: both or neither of ``tsv`` and ``npz``; an ``npz`` without
            ``{image_id}``; ``index_file`` with more than one ``tsv``; ``fields``
            without one of the standard columns; an
            ``on_bad_sample`` other than ``'raise'``/``'skip'``.
    """

    def __init__(self, tsv: Union[str, Sequence[str], None] = None,
                 npz: Optional[str] = None, id_key: str = 'img_id',
                 feature_dim: int = 2048, fields: Sequence[str] = FIELDNAMES,
                 npz_keys: Optional[Dict[str, str]] = None, with_cls_prob: bool = True,
                 index_file=None, on_bad_sample: str = 'raise') -> None:
        if (tsv is None) == (npz is None):
            raise ValueError('LoadRegionFeatures takes one of tsv= or npz=')
        if npz is not None and '{image_id' not in npz:
            raise ValueError(f"npz must be a path template with '{{image_id}}', got {npz!r}")
        self.id_key, self.feature_dim = id_key, feature_dim
        self.npz, self.npz_keys = npz, npz_keys
        self.with_cls_prob = with_cls_prob
        self.policy = BadSamplePolicy(on_bad_sample)
        paths = [tsv] if isinstance(tsv, str) else list(tsv or [])
        if index_file is not None and len(paths) != 1:
            raise ValueError('index_file needs exactly one tsv file')
        self.tsv = [BottomUpTSV(p, fields, index_file, feature_dim=feature_dim) for p in paths]

    def read(self, image_id) -> RegionRecord:
        """The record of ``image_id`` (raises :class:`BadSampleError`)."""
        if self.npz is not None:
            return read_region_npz(self.npz.format(image_id=image_id), self.npz_keys,
                                   self.feature_dim)
        for f in self.tsv:
            if image_id in f:
                return f.get(image_id)
        names = ', '.join(f.path for f in self.tsv)
        raise BadSampleError(f'image_id {image_id} not in {names}')

    def _checked(self, rec: RegionRecord, results: dict):
        """``(boxes, features, cls_prob, (h, w))`` after the checks the model relies on."""
        feats = rec.features  # (K, feature_dim): the readers checked it
        if len(rec.boxes) == 0:
            feats = np.zeros((0, self.feature_dim), np.float32)
        for name, a in (('boxes', rec.boxes), ('features', feats), ('cls_prob', rec.cls_prob)):
            if a is not None and not np.isfinite(a).all():
                raise BadSampleError(f'{rec.where}: {name} hold NaN or inf values')
        if rec.image_wh is not None:
            w, h = rec.image_wh
        elif results.get('ori_shape') is not None:
            h, w = results['ori_shape'][:2]
        else:
            raise BadSampleError(f'{rec.where}: no image size (image_w / image_h) in the '
                                 'file nor in the sample')
        if w < 1 or h < 1:
            raise BadSampleError(f'{rec.where}: image size {w}x{h}')
        return rec.boxes, feats, rec.cls_prob, (int(h), int(w))

    def transform(self, results: dict) -> Optional[dict]:
        """Read and check the regions of the sample's image.

        Args:
            results: reads ``id_key``, ``sample_id`` (optional, names the record) and
                ``ori_shape`` (the image size, used when the file holds none).

        Returns:
            ``results`` with ``gt_bboxes`` ``(K, 4)`` float32 (x1y1x2y2, pixels),
            ``region_feats`` ``(K, D)`` float32, ``roi_cls_dist`` ``(K, C)`` float32
            (when the file has it and ``with_cls_prob``), ``img_shape = ori_shape =
            (H, W)`` and ``scale_factor = (1.0, 1.0)``; ``None`` when the sample is
            skipped (``on_bad_sample='skip'``).

        Raises:
            BadSampleError: under ``on_bad_sample='raise'``, naming the file, line,
                image id and record: no id in the sample, id not in the file, wrong
                sizes, NaN/inf values, no image size anywhere, a size below 1 pixel.
        """
        image_id = results.get(self.id_key)
        record = f'record {results["sample_id"]}' if 'sample_id' in results else 'no record'
        try:
            if image_id is None:
                raise BadSampleError(f'no {self.id_key!r} in the sample')
            boxes, feats, cls_prob, hw = self._checked(self.read(image_id), results)
        except BadSampleError as e:
            self.policy(BadSampleError(f'{e} ({record})'))
            return None  # skipped (counted in self.policy.num_skipped)
        results['gt_bboxes'] = np.ascontiguousarray(boxes, np.float32).reshape(-1, 4)
        results['region_feats'] = np.ascontiguousarray(feats, np.float32)
        if cls_prob is not None and self.with_cls_prob:
            results['roi_cls_dist'] = np.ascontiguousarray(cls_prob, np.float32)
        results['img_shape'] = results['ori_shape'] = hw
        results['scale_factor'] = (1.0, 1.0)
        return results

    def __repr__(self) -> str:
        src = f'npz={self.npz!r}' if self.npz else f'tsv={[f.path for f in self.tsv]}'
        return f'{type(self).__name__}({src}, feature_dim={self.feature_dim})'

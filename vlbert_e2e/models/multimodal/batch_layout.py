"""Batch bookkeeping between the region encoder and the sequence: multiple-choice rows,
distinct images, and scattering per-image RoIs into padded batch rows.

Written by hand: mmdet batches one image per sample and transformers one text per
sample; VL-BERT needs both at once, with several texts (choices, questions) per image.
"""
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor
from torch.nn.utils.rnn import pad_sequence

from vlbert_e2e.structures import RegionFeatures, picture_key, roi_field


def flatten_choices(inputs: Dict) -> Tuple[Dict, int]:
    """Flatten ``(B, C, L)`` text (C choices per sample, VCR) to ``(B * C, L)`` rows,
    sample-major.

    Args:
        inputs: the preprocessor's ``inputs`` dict (``input_ids`` (B, L) or (B, C, L)).

    Returns:
        ``(inputs with every (B, C, L) tensor flattened, C)``; C is 1 for (B, L) text.
    """
    if inputs['input_ids'].dim() != 3:
        return inputs, 1
    num_choices = inputs['input_ids'].shape[1]
    return {k: (v.flatten(0, 1) if torch.is_tensor(v) and v.dim() == 3 else v)
            for k, v in inputs.items()}, num_choices


def _same_pixels(imgs: Optional[Tensor], samples: Sequence, a: int, b: int) -> bool:
    """Rows ``a`` and ``b`` hold the same pixels (without pixels: the same precomputed
    region features)."""
    if imgs is not None:
        return torch.equal(imgs[a], imgs[b])
    fa, fb = samples[a].get('region_feats'), samples[b].get('region_feats')
    return fa is not None and fb is not None and torch.equal(fa, fb)


def _encoding_key(sample) -> tuple:
    """What must match for two samples to share a region-encoder pass: the picture
    (:func:`picture_key`), its size, and the given RoIs, their masks and their attribute
    labels (what a region encoder reads of a sample besides its pixels: a question row
    with attribute labels and an expression row without them, of one picture, are
    encoded apart, else the representative's lack of labels would drop the others')."""
    fields = tuple(None if roi_field(sample, k) is None else
                   roi_field(sample, k).cpu().numpy().tobytes()
                   for k in ('bboxes', 'masked', 'attributes'))
    return picture_key(sample.metainfo), tuple(sample.metainfo.get('img_shape') or ()), fields


def distinct_images(imgs: Optional[Tensor], samples: Sequence) -> Tuple[List[int], List[int]]:
    """Rows that show the same picture with the same given RoIs and RoI masks (e.g.
    several questions about one image, see ``ImageGroupedSampler``) are encoded once.

    Rows with detector ground truth (``gt_instances``) are preferred as the encoded
    representatives, so the detector losses still see it.

    Args:
        imgs: (N, 3, H, W) the rows' pixels, or ``None`` for samples with precomputed
            region features (compared instead).
        samples: the N rows' data samples.

    Returns:
        ``(keep, where)``: the rows to encode, and for every row the position in
        ``keep`` of its encoded row.
    """
    order = sorted(range(len(samples)), key=lambda k: 'gt_instances' not in samples[k])
    keep, where, by_key = [], [0] * len(samples), {}
    for k in order:
        key = _encoding_key(samples[k])
        for u in by_key.get(key, ()):
            if _same_pixels(imgs, samples, keep[u], k):
                where[k] = u
                break
        else:
            by_key.setdefault(key, []).append(len(keep))
            where[k] = len(keep)
            keep.append(k)
    return keep, where


@dataclass
class PaddedRoIs:
    """The RoIs of a batch in padded rows (R: most RoIs of a row; rows without an
    image hold one invalid RoI).

    Attributes:
        feats: (B, R, H) visual embeddings of the RoIs (0 where padded).
        valid: (B, R) bool, real RoIs (box 0 = the whole image).
        masked: (B, R) bool, RoIs whose pixels were zeroed.
        boxes: (B, R, 4) boxes in the resized image, pixels (0 where padded).
        cls_dist: (B, R, C + 1) detector class distribution, or ``None``.
        attr_dist: (B, R, A) attribute distribution, or ``None``.
    """
    feats: Tensor
    valid: Tensor
    masked: Tensor
    boxes: Tensor
    cls_dist: Optional[Tensor]
    attr_dist: Optional[Tensor] = None

    def repeat(self, n: int) -> 'PaddedRoIs':
        """Each row repeated ``n`` times in place (a sample's RoIs for its n choices)."""
        if n == 1:
            return self
        return PaddedRoIs(*(None if t is None else t.repeat_interleave(n, 0) for t in (
            self.feats, self.valid, self.masked, self.boxes, self.cls_dist, self.attr_dist)))


def scatter_to_rows(region: Optional[RegionFeatures], vis: Optional[Tensor],
                    img_rows: Tensor, batch_size: int, hidden: int) -> PaddedRoIs:
    """Scatter the RoIs of the image rows into padded batch rows.

    Args:
        region: the region encoder's output, one entry per image row (``None``: no
            row has an image).
        vis: (sum K_i, H) visual embeddings of ``region``'s RoIs, image-major.
        img_rows: (N,) long, the batch rows that have an image, in ``region``'s order.
        batch_size: B, rows of the batch.
        hidden: H, the embedding size.

    Returns:
        :class:`PaddedRoIs` of B rows.
    """
    dev = img_rows.device
    if region is None:
        valid = torch.zeros((batch_size, 1), dtype=torch.bool, device=dev)
        return PaddedRoIs(torch.zeros((batch_size, 1, hidden), device=dev), valid,
                          torch.zeros_like(valid), torch.zeros((batch_size, 1, 4), device=dev),
                          None)
    counts = [len(x) for x in region.boxes]
    vis_p = pad_sequence(list(vis.split(counts)), batch_first=True)
    r = vis_p.shape[1]

    def scatter(rows: Tensor, empty: Tensor) -> Tensor:
        return empty.index_copy(0, img_rows, rows)
    lens = torch.tensor(counts, device=dev)
    valid = scatter(torch.arange(r, device=dev)[None] < lens[:, None],
                    torch.zeros((batch_size, r), dtype=torch.bool, device=dev))
    feats = scatter(vis_p, torch.zeros((batch_size, r, hidden), device=dev).to(vis_p.dtype))
    masked = scatter(pad_sequence(region.masked, batch_first=True), torch.zeros_like(valid))
    boxes = scatter(pad_sequence(region.boxes, batch_first=True).float(),
                    torch.zeros((batch_size, r, 4), device=dev))

    def scatter_dist(dist: Optional[List[Tensor]]) -> Optional[Tensor]:
        if dist is None:
            return None
        d = pad_sequence(dist, batch_first=True)
        return scatter(d, d.new_zeros((batch_size, r, d.shape[-1])))
    return PaddedRoIs(feats, valid, masked, boxes, scatter_dist(region.cls_dist),
                      scatter_dist(region.attr_dist))

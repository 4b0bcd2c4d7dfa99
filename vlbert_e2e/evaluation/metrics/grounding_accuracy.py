"""Referring-expression accuracy: predicted box IoU >= 0.5 with the referred box."""
from typing import List, Optional, Sequence

import torch
from mmdet.structures.bbox import bbox_overlaps
from mmengine.evaluator import BaseMetric

from vlbert_e2e.registry import METRICS


@METRICS.register_module()
class GroundingAccuracy(BaseMetric):
    """acc@IoU (percent) of ``pred_ref_box`` against the sample's ``ref_bbox`` (both in
    original image coordinates). Use ``prefix`` to name the split (e.g. ``testA``).

    Args:
        iou_thr: a prediction is a hit when its IoU with ``ref_bbox`` is at least this.
        collect_device: MMEngine's, ``'cpu'`` or ``'gpu'``.
        prefix: the metric names' prefix (default ``'refcoco'``).
    """
    default_prefix = 'refcoco'

    def __init__(self, iou_thr: float = 0.5, collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.iou_thr = iou_thr

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Store the IoU of each grounding sample's ``pred_ref_box`` (4 numbers,
        x1y1x2y2) with its ``ref_bbox`` (0 for an empty box: no region was found);
        samples without ``ref_bbox`` (another task's) are passed over."""
        for s in data_samples:
            if 'ref_bbox' not in s:  # another task's sample in a multi-task loader
                continue
            pred = torch.as_tensor(s['pred_ref_box'], dtype=torch.float32).view(-1, 4)
            if not len(pred):  # no candidate region was found: a miss
                self.results.append(0.0)
                continue
            gt = torch.as_tensor(s['ref_bbox'], dtype=torch.float32).view(1, 4)
            self.results.append(float(bbox_overlaps(pred[:1], gt)[0, 0]))

    def compute_metrics(self, results: List[float]) -> dict:
        """Returns ``{'acc@<iou_thr>': float}`` (e.g. ``acc@0.5``): the percentage of
        samples whose IoU reaches ``iou_thr`` (0.0 without samples)."""
        hits = sum(iou >= self.iou_thr for iou in results)
        return {f'acc@{self.iou_thr:g}': 100.0 * hits / max(len(results), 1)}

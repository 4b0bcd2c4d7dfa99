"""COCO detection metric when several samples show the same image."""
from typing import Sequence

from mmdet.evaluation import CocoMetric

from vlbert_e2e.registry import METRICS


@METRICS.register_module()
class UniqueImageCocoMetric(CocoMetric):
    """mmdet's :class:`CocoMetric`, fed each image's detections once: VL samples
    (several questions or expressions per image) would otherwise repeat them.
    Samples without ``pred_instances`` are ignored. Takes ``CocoMetric``'s arguments
    (``ann_file``, ``metric``, ...)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._seen = set()

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """``CocoMetric.process`` on the first sample of each ``img_id`` that has
        ``pred_instances``; later samples of the same image are passed over."""
        keep = []
        for s in data_samples:
            if 'pred_instances' in s and s['img_id'] not in self._seen:
                self._seen.add(s['img_id'])
                keep.append(s)
        super().process(data_batch, keep)

    def compute_metrics(self, results: list) -> dict:
        """``CocoMetric.compute_metrics`` (``bbox_mAP``, ``bbox_mAP_50``, ... as
        fractions in ``[0, 1]``), then forget the images seen, for the next run."""
        self._seen = set()
        return super().compute_metrics(results)

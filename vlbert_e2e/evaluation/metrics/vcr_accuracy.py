"""VCR multiple-choice accuracy, with a per-annot_id results file for Q->AR."""
import json
from typing import List, Optional, Sequence

from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from vlbert_e2e.registry import METRICS


@METRICS.register_module()
class VCRAccuracy(BaseMetric):
    """Accuracy (percent) of ``pred_choice`` against ``label`` for one mode. With
    ``outfile_prefix``, ``<prefix>.json`` maps ``annot_id`` -> ``{pred, label, scores}``;
    ``tools/analysis_tools/vcr_joint_accuracy.py`` joins a Q->A and a QA->R file into
    Q->AR.

    Args:
        mode: ``'q2a'`` or ``'qa2r'``; the metric's name.
        outfile_prefix: when set, write the results file ``<prefix>.json``.
        collect_device: MMEngine's, ``'cpu'`` or ``'gpu'``.
        prefix: the metric names' prefix (default ``'vcr'``).
    """
    default_prefix = 'vcr'

    def __init__(self, mode: str = 'q2a', outfile_prefix: Optional[str] = None,
                 collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.mode, self.outfile_prefix = mode, outfile_prefix

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Store each sample's ``annot_id``, ``pred_choice`` (int), ``label`` (int,
        or ``None`` without ground truth) and ``pred_choice_scores`` (``C`` floats,
        one per choice)."""
        for s in data_samples:
            label = s.get('label')
            self.results.append(dict(
                annot_id=s['annot_id'], pred=int(s['pred_choice']),
                label=None if label is None else int(label),
                scores=[float(x) for x in s['pred_choice_scores']]))

    def compute_metrics(self, results: List[dict]) -> dict:
        """Write the results file (with ``outfile_prefix``) and score.

        Returns:
            ``{mode: float}``, the accuracy in percent over the samples with a label;
            ``{}`` when none has one (the test split).
        """
        if self.outfile_prefix:
            path = f'{self.outfile_prefix}.json'
            with open(path, 'w') as f:
                json.dump({r['annot_id']: {k: r[k] for k in ('pred', 'label', 'scores')}
                           for r in results}, f)
            MMLogger.get_current_instance().info(f'VCR {self.mode} results written to {path}')
        scored = [r for r in results if r['label'] is not None]
        if not scored:
            return {}
        return {self.mode: 100.0 * sum(r['pred'] == r['label'] for r in scored) / len(scored)}

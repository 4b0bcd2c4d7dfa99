"""VQA v2 accuracy (official evaluation) and the test-server results file."""
import json
import os.path as osp
from collections import defaultdict
from typing import List, Optional, Sequence

from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from vlbert_e2e.registry import METRICS

from ..functional.vqa_eval import vqa_accuracy


@METRICS.register_module()
class VQAAccuracy(BaseMetric):
    """Official VQA accuracy, overall and per answer type (``yes/no``, ``number``,
    ``other``), in percent. Samples without ground truth (test-dev/std) only go to the
    results file.

    Per-type values are the mean of each question's accuracy (the official script
    averages the accuracy of the *last* leave-one-out subset per type, a known quirk;
    the overall value is identical either way).

    The predicted answer is the sample's ``pred_answer``, or its ``pred_answer_index``
    looked up in the dataset's ``metainfo['answers']``.

    Args:
        outfile_prefix: when set, write ``<prefix>.json`` as
            ``[{"question_id": int, "answer": str}]`` for the evaluation server.
        per_question_type: also report the accuracy per question type (the
            annotations' ``question_type``, e.g. ``"how many"``; the official script's
            ``perQuestionType``) as ``accuracy_qtype_<type>`` (spaces -> ``_``); the
            samples need ``question_type`` in their meta keys.
        collect_device: MMEngine's, ``'cpu'`` or ``'gpu'``.
        prefix: the metric names' prefix (default ``'vqa'``).
    """
    default_prefix = 'vqa'

    def __init__(self, outfile_prefix: Optional[str] = None, per_question_type: bool = False,
                 collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.outfile_prefix = outfile_prefix
        self.per_question_type = per_question_type

    def process(self, data_batch, data_samples: Sequence) -> None:
        """Store each VQA sample's ``question_id``, predicted answer (``pred_answer``,
        else ``metainfo['answers'][pred_answer_index]``), ``gt_answers``,
        ``answer_type`` and ``question_type``; samples without ``question_id``
        (another task's) are passed over."""
        for s in data_samples:  # MMEngine's evaluator hands over ``to_dict()`` samples
            if 'question_id' not in s:  # another task's sample in a multi-task loader
                continue
            answer = s.get('pred_answer')
            if answer is None:
                answer = self.dataset_meta['answers'][int(s['pred_answer_index'])]
            self.results.append(dict(
                question_id=int(s['question_id']),
                answer=str(answer),
                gt_answers=s.get('gt_answers'),
                answer_type=s.get('answer_type'),
                question_type=s.get('question_type')))

    def compute_metrics(self, results: List[dict]) -> dict:
        """Write the results file (with ``outfile_prefix``) and score.

        Returns:
            In percent, over the samples with ``gt_answers``: ``accuracy``, and
            ``accuracy_<answer type>`` per type (``/`` -> ``_``: ``accuracy_yes_no``,
            ``accuracy_number``, ``accuracy_other``; ``accuracy_unknown`` for samples
            without a type); with ``per_question_type`` also
            ``accuracy_qtype_<question type>``. ``{}`` when no sample has ground
            truth (test-dev/std).
        """
        if self.outfile_prefix:
            path = f'{self.outfile_prefix}.json'
            with open(path, 'w') as f:
                json.dump([dict(question_id=r['question_id'], answer=r['answer'])
                           for r in results], f)
            MMLogger.get_current_instance().info(f'VQA results written to {osp.abspath(path)}')
        scored = [r for r in results if r['gt_answers']]
        if not scored:
            return {}
        by_type, by_qtype = defaultdict(list), defaultdict(list)
        accs = []
        for r in scored:
            acc = vqa_accuracy(r['answer'], r['gt_answers'])
            accs.append(acc)
            by_type[r['answer_type'] or 'unknown'].append(acc)
            by_qtype[r.get('question_type') or 'unknown'].append(acc)
        out = {'accuracy': 100 * sum(accs) / len(accs)}
        for t, v in sorted(by_type.items()):
            out[f'accuracy_{t.replace("/", "_")}'] = 100 * sum(v) / len(v)
        if self.per_question_type:
            for t, v in sorted(by_qtype.items()):
                key = t.strip().replace(' ', '_').replace('/', '_')
                out[f'accuracy_qtype_{key}'] = 100 * sum(v) / len(v)
        return out

"""Draw test predictions on the input images (``tools/test.py --show-dir``)."""
import os
import os.path as osp
from collections import Counter
from typing import List, Optional, Sequence, Tuple

import cv2
import mmcv
from mmengine import fileio
from mmengine.hooks import Hook

from vlbert_e2e.registry import HOOKS
from vlbert_e2e.utils.class_names import detector_class_names, label_name
from vlbert_e2e.visualization import draw_answer


def sample_drawing_args(sample, class_names: Optional[Sequence[str]],
                        score_thr: float) -> dict:
    """:func:`~vlbert_e2e.visualization.draw_answer`'s arguments for a predicted data
    sample: its detections (``pred_instances`` from ``score_thr``, labelled as the
    inferencer labels them; those the model did not read as RoIs, ``is_roi`` False,
    apart as ``unread``), the grounded box (``pred_ref_box``), the question
    (``text``), the answer (``pred_answer``) and, for VQA, the truth (the most common
    of ``gt_answers``) with right/wrong."""
    dets: List[Tuple] = []
    unread: List[Tuple] = []
    if 'pred_instances' in sample:
        inst = sample.pred_instances[sample.pred_instances.scores >= score_thr]
        read = inst.is_roi.tolist() if 'is_roi' in inst else [True] * len(inst)
        for b, lab, sc, r in zip(inst.bboxes, inst.labels, inst.scores, read):
            (dets if r else unread).append(
                (b.tolist(), f'{label_name(class_names, lab)} {float(sc):.2f}'))
    chosen = None
    if 'pred_ref_box' in sample and sample.pred_ref_box.numel():  # empty: none found
        chosen = (sample.pred_ref_box.tolist(), f'{float(sample.pred_ref_score):.2f}')
    text = sample.metainfo.get('text')
    lines = [str(text)] if text else []
    answer = sample.get('pred_answer')
    if answer is not None:
        lines.append(f'-> {answer} (score {float(sample.pred_answer_score):.3f})')
    truth = right = None
    gt = sample.metainfo.get('gt_answers')
    if answer is not None and gt:
        truth = Counter(gt).most_common(1)[0][0]
        right = answer == truth
    return dict(detections=dets, unread=unread, chosen=chosen, lines=lines, truth=truth,
                right=right)


@HOOKS.register_module()
class VLVisualizationHook(Hook):
    """Write ``<test_out_dir>/<image stem>.jpg`` for each test sample, drawn as the
    inferencer draws (:func:`~vlbert_e2e.visualization.draw_answer`: detections with
    their class names, the grounded box, the question, the answer, the truth marked
    right/wrong; labels readable at any image size).

    Args:
        draw: draw at all (``tools/test.py --show-dir`` turns it on).
        test_out_dir: output folder (relative paths go under the work dir).
        score_thr: hide detections below this score.
    """

    def __init__(self, draw: bool = False, test_out_dir: Optional[str] = None,
                 score_thr: float = 0.3) -> None:
        self.draw, self.test_out_dir, self.score_thr = draw, test_out_dir, score_thr
        self.class_names = None

    def before_test(self, runner) -> None:
        """Read the detector's class names from the config or the test set's metainfo."""
        meta = getattr(runner.test_dataloader.dataset, 'metainfo', None)
        self.class_names = detector_class_names(runner.cfg, meta)

    def after_test_iter(self, runner, batch_idx: int, data_batch: dict,
                        outputs: Sequence) -> None:
        """With ``draw``, write one picture per predicted sample to ``test_out_dir``
        (relative to the work dir): ``<image stem>_<question/ref id or batch
        position>.jpg``, so several texts about one picture keep their own drawing."""
        if not self.draw or self.test_out_dir is None:
            return
        out_dir = self.test_out_dir if osp.isabs(self.test_out_dir) else osp.join(
            runner.work_dir, self.test_out_dir)
        os.makedirs(out_dir, exist_ok=True)
        for i, s in enumerate(outputs):
            path = s.metainfo.get('img_path')
            if not path:
                continue
            rgb = mmcv.imfrombytes(fileio.get(path), channel_order='rgb')
            pic = draw_answer(rgb, **sample_drawing_args(s, self.class_names, self.score_thr))
            stem = osp.splitext(osp.basename(path))[0]
            text_id = next((s.metainfo[k] for k in ('question_id', 'ref_id', 'sample_id')
                            if s.metainfo.get(k) is not None), f'{batch_idx}-{i}')
            cv2.imwrite(osp.join(out_dir, f'{stem}_{text_id}.jpg'), pic[..., ::-1])

"""Draw test predictions on the input images (``tools/test.py --show-dir``)."""
import os
import os.path as osp
from typing import Optional, Sequence

import cv2
import numpy as np
from mmengine.hooks import Hook
from mmengine.visualization import Visualizer

from vlbert_e2e.registry import HOOKS
from vlbert_e2e.utils.class_names import detector_class_names, label_name
from vlbert_e2e.utils.image_io import decode_image


@HOOKS.register_module()
class VLVisualizationHook(Hook):
    """Write ``<test_out_dir>/<image stem>.jpg`` with the detections
    (``pred_instances``, green, labelled as the inferencer labels them:
    :func:`~vlbert_e2e.utils.label_name`) and any ``pred_*`` text answers of each test
    sample, drawn with MMEngine's :class:`Visualizer`.

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
        meta = getattr(runner.test_dataloader.dataset, 'metainfo', None)
        self.class_names = detector_class_names(runner.cfg, meta)

    def after_test_iter(self, runner, batch_idx: int, data_batch: dict,
                        outputs: Sequence) -> None:
        if not self.draw or self.test_out_dir is None:
            return
        out_dir = self.test_out_dir if osp.isabs(self.test_out_dir) else osp.join(
            runner.work_dir, self.test_out_dir)
        os.makedirs(out_dir, exist_ok=True)
        vis = Visualizer.get_current_instance()
        for s in outputs:
            path = s.metainfo.get('img_path')
            if not path:
                continue
            vis.set_image(decode_image(path)[..., ::-1])
            if 'pred_instances' in s:
                inst = s.pred_instances[s.pred_instances.scores >= self.score_thr]
                if len(inst):
                    vis.draw_bboxes(inst.bboxes, edge_colors='g')
                    vis.draw_texts([f'{label_name(self.class_names, lab)} {sc:.2f}'
                                    for lab, sc in zip(inst.labels, inst.scores)],
                                   inst.bboxes[:, :2], colors='g', font_sizes=8)
            texts = [f'{k[5:]}: {s.get(k)}' for k in s.keys()
                     if k.startswith('pred_') and isinstance(s.get(k), str)]
            if texts:
                vis.draw_texts('\n'.join(texts), np.array([5, 5]), colors='w')
            stem = osp.splitext(osp.basename(path))[0]
            cv2.imwrite(osp.join(out_dir, f'{stem}.jpg'), vis.get_image()[..., ::-1])

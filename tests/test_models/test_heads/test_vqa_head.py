"""VQAHead: the wiring learns a tiny batch (overfit through the real config)."""
import os

import pytest

from vlbert_e2e.evaluation import vqa_accuracy
from vlbert_e2e.testing import ROOT, overfit

TINY_VQA = os.path.join(ROOT, 'configs/vqa/vlbert-tiny_faster-rcnn-r18-c4_1xb2-2e_vqa-fixture.py')


def test_vqa_head_overfits_a_tiny_batch():
    # no RoIs but the image box: the test is about the head and its labels
    runner, out = overfit(TINY_VQA, 'loss_vqa', steps=40, batch_size=6,
                          **{'region_encoder.box_source': 'given'})
    answers = runner.train_dataloader.dataset.metainfo['answers']
    acc = sum(vqa_accuracy(answers[s.pred_answer_index], s.gt_answers) for s in out)
    assert acc / len(out) == pytest.approx(1.0)

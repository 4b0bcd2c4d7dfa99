"""VCRHead: the wiring learns a tiny batch (overfit through the real config)."""
import os

from vlbert_e2e.testing import ROOT, overfit

TINY_VCR = os.path.join(
    ROOT, 'configs/vcr/vlbert-tiny_faster-rcnn-r18-c4_1xb2-2e_vcr-q2a-fixture.py')


def test_vcr_head_overfits_a_tiny_batch():
    _, out = overfit(TINY_VCR, 'loss_vcr', steps=30, batch_size=4)
    assert [s.pred_choice for s in out] == [int(s.label) for s in out]

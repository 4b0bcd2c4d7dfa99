"""GroundingHead: the wiring learns a tiny batch (overfit through the real config)."""
import os

import pytest

from vlbert_e2e.evaluation import GroundingAccuracy
from vlbert_e2e.testing import ROOT, overfit

TINY_REF = os.path.join(
    ROOT, 'configs/refcoco/vlbert-tiny_faster-rcnn-r18-c4_1xb4-2e_refcoco-fixture.py')


def test_grounding_head_overfits_a_tiny_batch():
    _, out = overfit(TINY_REF, 'loss_ground', steps=40, **{'vl_bert.visual_ln_init_gain': 0.1})
    m = GroundingAccuracy()
    m.process(None, [s.to_dict() for s in out])
    assert m.compute_metrics(m.results)['acc@0.5'] == pytest.approx(100.0)

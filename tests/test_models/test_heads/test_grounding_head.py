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


def test_no_candidate_region_gives_no_box_not_the_whole_image():
    # a picture where the detector found nothing: RoI 0 (the whole image) alone is valid
    from types import SimpleNamespace

    import torch

    from vlbert_e2e.models.heads import GroundingHead
    from vlbert_e2e.structures import VLDataSample
    head = GroundingHead(hidden_size=8)
    boxes = torch.tensor([[[0., 0., 159., 159.], [10., 10., 40., 40.]]]).repeat(2, 1, 1)
    out = SimpleNamespace(roi_boxes=boxes, roi_valid=torch.tensor([[True, False],
                                                                   [True, True]]))
    head._logits = lambda o: torch.zeros(2, 2)
    samples = [VLDataSample(metainfo=dict(scale_factor=(1.0, 1.0))) for _ in range(2)]
    head.predict(out, samples)
    assert samples[0].pred_ref_box.shape == (0, 4) and samples[0].pred_ref_score == 0.0
    assert samples[1].pred_ref_box.tolist() == [10., 10., 40., 40.]
    assert samples[1].pred_ref_score == pytest.approx(0.5)

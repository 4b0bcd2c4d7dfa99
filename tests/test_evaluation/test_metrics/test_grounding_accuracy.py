"""GroundingAccuracy: acc@0.5 of the predicted box."""
import pytest

from vlbert_e2e.evaluation import GroundingAccuracy


def test_metric_acc_at_iou_half():
    m = GroundingAccuracy(prefix='refcoco_val')
    m.process(None, [
        dict(pred_ref_box=[0, 0, 10, 10], ref_bbox=[0, 0, 10, 10]),   # IoU 1
        dict(pred_ref_box=[0, 0, 10, 10], ref_bbox=[0, 0, 10, 20]),   # IoU 0.5 -> hit
        dict(pred_ref_box=[0, 0, 10, 10], ref_bbox=[5, 0, 15, 10]),   # IoU 1/3 -> miss
    ])
    assert m.evaluate(3)['refcoco_val/acc@0.5'] == pytest.approx(200 / 3)


def test_no_region_found_is_a_miss():
    import torch
    m = GroundingAccuracy()
    # the referred object fills the picture: the whole-image box would have been a hit
    m.process(None, [dict(pred_ref_box=torch.zeros(0, 4), ref_bbox=[0, 0, 159, 159]),
                     dict(pred_ref_box=[0, 0, 159, 159], ref_bbox=[0, 0, 159, 159])])
    assert m.compute_metrics(m.results)['acc@0.5'] == pytest.approx(50.0)

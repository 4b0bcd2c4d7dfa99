"""det_boxes='proposals': the RPN's proposals are the boxes, one RoI-head pass.

The fast inference path of the base configs (docs/benchmarks.md): it changes which
boxes our detector picks, never what the model computes on a given set of boxes.
"""
import pytest
import torch

from vlbert_e2e.testing import batch, build_tiny_model, greedy_nms, make_sample

HEADS = dict(vqa=dict(type='VQAHead', num_answers=4, classifier_hidden=32),
             mvrc=dict(type='MVRCHead', num_classes=9))


def _count_calls(module):
    calls = []
    module.register_forward_hook(lambda *_: calls.append(1))
    return calls


def _vqa_sample(seed, boxes=None):
    img, s = make_sample(96, 128, seed=seed, boxes=boxes, mlm=False)
    s.input_ids[-2] = 103  # [MASK] before the last [SEP]: the answer position
    s.answer_position = torch.tensor(len(s.input_ids) - 2)
    return img, s


@pytest.mark.parametrize('det_boxes, res5_passes', [('proposals', 1), ('detections', 2)])
def test_rpn_proposals_take_one_roi_pass_and_answer_as_the_same_given_boxes(
        det_boxes, res5_passes):
    """The pooled boxes of either path, given back as given boxes to the same weights,
    give bit-identical features, class distributions, hidden states and answers."""
    torch.manual_seed(0)
    model = build_tiny_model(heads=HEADS, box_source='detector', det_boxes=det_boxes,
                             max_det_boxes=5, det_score_thr=0.0, need_cls_dist=True).eval()
    same = build_tiny_model(heads=HEADS, box_source='given', need_cls_dist=True).eval()
    same.load_state_dict(model.state_dict(), strict=True)
    res5 = _count_calls(model.region_encoder.roi_head.shared_head)
    backbone = _count_calls(model.region_encoder.detector.backbone)
    with torch.no_grad():
        fast = model.encode(**batch(model, [_vqa_sample(1)], training=False))
        assert len(res5) == res5_passes and len(backbone) == 1
        boxes = fast.region.boxes[0]
        assert len(boxes) == 6  # the whole image + 5
        ref = same.encode(**batch(same, [_vqa_sample(1, boxes[1:].tolist())], training=False))
        (a, ) = model.predict(**batch(model, [_vqa_sample(1)], training=False))
        (b, ) = same.predict(**batch(same, [_vqa_sample(1, boxes[1:].tolist())], False))
    assert torch.equal(ref.region.boxes[0], boxes)
    assert torch.equal(ref.region.feats[0], fast.region.feats[0])
    assert torch.equal(ref.region.cls_dist[0], fast.region.cls_dist[0])
    assert torch.equal(ref.seq.hidden, fast.seq.hidden)
    assert (a.pred_answer_index, a.pred_answer_score) == (b.pred_answer_index,
                                                          b.pred_answer_score)


def test_rpn_proposals_are_the_rpns_best_and_reported_with_the_box_heads_class():
    model = build_tiny_model(heads=HEADS, box_source='given+detector', det_boxes='proposals',
                             max_det_boxes=4, det_score_thr=0.0, det_nms_iou=0.5).eval()
    model.predict_detections = True
    enc = model.region_encoder
    with torch.no_grad():
        data = batch(model, [_vqa_sample(2, [[3, 4, 50, 60]])], training=False)
        feats = enc.extract_feat(data['inputs']['imgs'])
        rpn = enc.detector.rpn_head.predict(feats, data['data_samples'], rescale=False)[0]
        out = model.encode(**data)
        (s, ) = model.predict(**data)
    # by hand: objectness order, class-agnostic NMS at 0.5 (greedy), the first 4
    keep = greedy_nms(rpn.bboxes, rpn.scores, 0.5)[:4]
    expect = enc._clip(rpn.bboxes[keep], data['data_samples'][0])
    boxes = out.region.boxes[0]
    assert torch.equal(boxes[2:], expect) and boxes[1].tolist() == [3, 4, 50, 60]
    probs = out.region.detections[0]
    dist = torch.softmax(enc.roi_features(feats, _rois(boxes))[1], -1)[2:, :-1]
    assert torch.equal(probs.labels, dist.argmax(-1))
    assert torch.allclose(probs.scores, dist.max(-1).values)
    assert torch.allclose(s.pred_instances.bboxes, boxes[2:])  # scale factor 1


def _rois(boxes):
    return torch.cat([boxes.new_zeros((len(boxes), 1)), boxes], 1)


def test_det_boxes_must_be_known():
    with pytest.raises(ValueError, match="det_boxes must be one of"):
        build_tiny_model(det_boxes='rpn')

"""Texts of one image share one detector pass: ImageGroupedSampler + VLBertE2E's
distinct-image encoding, and the ``given_or_detector`` box source."""
import copy

import pytest
import torch

from vlbert_e2e.models.vl_bert import ObjectTagEmbedding
from vlbert_e2e.testing import batch, build_tiny_model, make_sample

HEADS = dict(mlm=dict(type='MLMHead'))


def _same_image_other_text(img, s, seed):
    _, other = make_sample(img.shape[1], img.shape[2], seed=seed)
    t = copy.deepcopy(s)
    t.input_ids, t.mlm_labels = other.input_ids, other.mlm_labels
    return img.clone(), t


def _roi_align_calls(model):
    calls = []
    layer = model.region_encoder.roi_head.bbox_roi_extractor.roi_layers[0]
    layer.register_forward_hook(lambda m, a, o: calls.append(a[1].shape[0]))
    return calls


def test_texts_of_one_image_share_one_detector_pass_and_equal_separate_passes():
    model = build_tiny_model(heads=HEADS).eval()
    a = make_sample(96, 128, boxes=[[5, 5, 40, 40], [50, 20, 120, 90]], seed=1)
    a[1].set_metainfo(dict(img_path='x.jpg'))
    b = _same_image_other_text(*a, seed=2)
    c = make_sample(96, 128, boxes=[[0, 0, 30, 60]], seed=3)
    c[1].set_metainfo(dict(img_path='y.jpg'))
    calls = _roi_align_calls(model)
    with torch.no_grad():
        together = model(**batch(model, [a, b, c], training=False), mode='tensor')
        assert calls == [3 + 2]  # image x once (image box + 2), image y once (+ 1)
        for i, one in enumerate((a, b, c)):
            alone = model(**batch(model, [one], training=False), mode='tensor')
            n = int(alone.seq.attention_mask.sum())
            torch.testing.assert_close(together.seq.hidden[i, :n], alone.seq.hidden[0, :n],
                                       rtol=1e-4, atol=1e-5)


def test_shared_pass_gets_the_gradients_of_every_text():
    """One detector pass for two texts gives the detector the same gradient as two
    separate passes (the MLM loss is the mean over the two masked words)."""
    model = build_tiny_model(heads=HEADS, visual_gain=1.0).eval()  # eval: fixed BN stats
    a = make_sample(96, 128, boxes=[[5, 5, 40, 40]], seed=4)
    a[1].set_metainfo(dict(img_path='x.jpg'))
    b = _same_image_other_text(*a, seed=5)
    weight = model.region_encoder.detector.backbone.layer3[0].conv1.weight

    def grad(samples):
        model.zero_grad()
        model(**batch(model, samples), mode='loss')['loss_mlm_vl'].backward()
        return weight.grad.clone()
    calls = _roi_align_calls(model)
    together = grad([a, b])
    assert calls == [2]
    separate = (grad([a]) + grad([b])) / 2
    assert together.abs().sum() > 0
    torch.testing.assert_close(together, separate, rtol=1e-4, atol=1e-7)


def test_predicted_detections_of_rows_sharing_a_pass_match_a_detector_run():
    model = build_tiny_model(heads=HEADS).eval()
    model.predict_detections = True
    a = make_sample(96, 128, boxes=[[5, 5, 40, 40]], seed=13)
    a[1].set_metainfo(dict(img_path='x.jpg'))
    b = _same_image_other_text(*a, seed=14)
    data = batch(model, [a, b], training=False)
    with torch.no_grad():
        shared = model.predict(data['inputs'], copy.deepcopy(data['data_samples']))
        alone = model.detect(batch(model, [a], training=False)['inputs'],
                             [copy.deepcopy(data['data_samples'][0])])
    for s in shared:
        torch.testing.assert_close(s.pred_instances.bboxes, alone[0].pred_instances.bboxes)
        torch.testing.assert_close(s.pred_instances.scores, alone[0].pred_instances.scores)


@pytest.mark.parametrize('change', ['boxes', 'pixels', 'mask'])
def test_same_path_but_other_boxes_pixels_or_masks_are_encoded_apart(change):
    model = build_tiny_model(heads=HEADS).eval()
    a = make_sample(96, 128, boxes=[[5, 5, 40, 40]], masked=[False], seed=6)
    a[1].set_metainfo(dict(img_path='x.jpg'))
    img, s = _same_image_other_text(*a, seed=7)
    if change == 'boxes':
        s.gt_rois.bboxes = torch.tensor([[6., 5, 40, 40]])
    elif change == 'pixels':  # e.g. another random crop of the same file
        img[0, 0, 0] = (int(img[0, 0, 0]) + 1) % 256
    else:
        s.gt_rois.masked = torch.tensor([True])
    calls = _roi_align_calls(model)
    with torch.no_grad():
        model(**batch(model, [a, (img, s)], training=False), mode='tensor')
    assert calls == [2 + 2]


def test_detector_loss_comes_from_the_copy_with_ground_truth():
    model = build_tiny_model(heads=HEADS, det_loss_weight=1.0).train()
    a = make_sample(96, 128, boxes=[[5, 5, 60, 60]], seed=8)  # a VQA-like sample
    a[1].set_metainfo(dict(img_path='x.jpg'))
    img, s = _same_image_other_text(*a, seed=9)
    _, with_gt = make_sample(96, 128, boxes=[[5, 5, 60, 60]], seed=8, gt=True)
    s.gt_instances = with_gt.gt_instances
    losses = model(**batch(model, [a, (img, s)]), mode='loss')
    assert 'det_loss_cls' in losses and torch.isfinite(losses['det_loss_cls'])


def test_given_or_detector_uses_given_boxes_and_skips_detection_where_given():
    model = build_tiny_model(heads=HEADS, box_source='given_or_detector', max_det_boxes=3,
                             det_score_thr=0.0).eval()
    rpn_calls = []
    model.region_encoder.detector.rpn_head.register_forward_hook(
        lambda *a: rpn_calls.append(1))
    given = make_sample(96, 128, boxes=[[5, 5, 40, 40], [50, 20, 120, 90]], seed=10)
    with torch.no_grad():
        out = model(**batch(model, [given], training=False), mode='tensor')
    assert rpn_calls == []  # no detector inference when every sample brings boxes
    torch.testing.assert_close(out.region.boxes[0][1:], given[1].gt_rois.bboxes)
    bare = make_sample(96, 128, seed=11)
    with torch.no_grad():
        out = model(**batch(model, [given, bare], training=False), mode='tensor')
    assert rpn_calls == [1]
    assert len(out.region.boxes[0]) == 3  # image + its two given boxes, no detections
    assert 1 <= len(out.region.boxes[1]) <= 1 + 3  # image + detector boxes


def test_object_tags_reach_the_roi_tokens_and_check_the_class_count():
    names = ['circle', 'square', 'triangle', 'star', 'ring', 'cross', 'arrow', 'heart']
    model = build_tiny_model(heads=HEADS, visual_gain=1.0)
    tagged = build_tiny_model(heads=HEADS, visual_gain=1.0)
    tagged.vl_bert.object_tags = ObjectTagEmbedding(names, tokenizer='pkg://minilm-l6')
    tagged.region_encoder.need_cls_dist = True
    tagged.load_state_dict(model.state_dict())
    sample = make_sample(96, 128, boxes=[[5, 5, 40, 40], [50, 20, 120, 90]], seed=12)
    seen = {}
    orig = tagged.vl_bert._roi_linguistic

    def spy(*args, **kwargs):
        seen['ling'] = orig(*args, **kwargs)  # (B, R, H) the RoIs' linguistic embedding
        return seen['ling']
    tagged.vl_bert._roi_linguistic = spy
    with torch.no_grad():
        a = model.eval()(**batch(model, [sample], training=False), mode='tensor')
        b = tagged.eval()(**batch(tagged, [sample], training=False), mode='tensor')
    img = tagged.vl_bert.object_linguistic_embeddings.weight[0]
    torch.testing.assert_close(seen['ling'][0, 0], img)  # the whole image keeps [IMG]
    assert not torch.allclose(seen['ling'][0, 1], img)
    assert not torch.allclose(a.seq.hidden, b.seq.hidden)
    model.vl_bert.object_tags = ObjectTagEmbedding(names[:3], tokenizer='pkg://minilm-l6')
    with pytest.raises(ValueError, match='8 classes'):
        model._check_object_tags()

"""VLBertE2E: gradients reach the detector, detection equals mmdet, robust boxes."""
import copy

import pytest
import torch

from vlbert_e2e.testing import batch, build_tiny_model, make_sample, tiny_model_cfg

HEADS = dict(mlm=dict(type='MLMHead'))


def _grads_ok(model):
    enc = model.region_encoder.detector
    groups = {
        'backbone.layer2': enc.backbone.layer2, 'backbone.layer3': enc.backbone.layer3,
        'roi_head.shared_head': enc.roi_head.shared_head,
        'visual_embedding': model.visual_embedding,
        'encoder': model.vl_bert.bert.encoder}
    for name, mod in groups.items():
        trainable = [(n, p) for n, p in mod.named_parameters() if p.requires_grad]
        assert len(trainable) > 0, f'{name} has no trainable parameter'
        for pname, p in trainable:  # (frozen BN affine parameters are skipped)
            assert p.grad is not None and p.grad.abs().sum() > 0, f'no grad: {name}.{pname}'
    for name in ('conv1', 'layer1'):
        for pname, p in getattr(enc.backbone, name).named_parameters():
            assert not p.requires_grad and p.grad is None, f'{name}.{pname} got a grad'


def _two_samples():
    return [make_sample(96, 128, boxes=[[5, 5, 40, 40], [50, 20, 120, 90]], seed=1),
            make_sample(128, 96, boxes=[[0, 0, 30, 60]], seed=2)]


def test_loss_backward_reaches_unfrozen_detector_and_not_frozen_stages():
    model = build_tiny_model(heads=HEADS, visual_gain=0.1)
    model.train()
    losses = model(**batch(model, _two_samples()), mode='loss')
    assert set(losses) == {'loss_mlm_vl', 'acc_mlm_vl'}
    losses['loss_mlm_vl'].backward()
    _grads_ok(model)
    # frozen BN stays in eval mode in training
    assert not model.region_encoder.detector.backbone.bn1.training


def test_zero_initial_visual_gain_opens_after_first_step():
    # With the original's gain 0 the visual path is closed at step 0 (its gradient
    # is exactly 0 by construction); the gain gets a gradient, and after one update
    # the VL loss reaches the detector.
    model = build_tiny_model(heads=HEADS, visual_gain=0.0).train()
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    loss = model(**batch(model, _two_samples()), mode='loss')['loss_mlm_vl']
    loss.backward()
    assert model.vl_bert.visual_ln_text.weight.grad.abs().sum() > 0
    assert model.region_encoder.detector.backbone.layer3[0].conv1.weight.grad.abs().sum() == 0
    opt.step()
    opt.zero_grad()
    model(**batch(model, _two_samples()), mode='loss')['loss_mlm_vl'].backward()
    _grads_ok(model)


def test_detection_mode_equals_mmdet_fasterrcnn_predict():
    from mmengine.registry import DefaultScope

    from vlbert_e2e.registry import MODELS
    model = build_tiny_model(heads={}).eval()
    det_cfg = copy.deepcopy(tiny_model_cfg().region_encoder.detector)
    with DefaultScope.overwrite_default_scope('vlbert_e2e'):
        ref = MODELS.build(det_cfg).eval()
    ref.load_state_dict(model.region_encoder.detector.state_dict())
    img, s = make_sample(96, 128, seed=3)
    s.set_metainfo(dict(scale_factor=(0.5, 0.5), ori_shape=(192, 256)))
    data = batch(model, [(img, s)], training=False)
    with torch.no_grad():
        ours = model.detect(data['inputs'], copy.deepcopy(data['data_samples']))
        theirs = ref.predict(data['inputs']['imgs'], copy.deepcopy(data['data_samples']))
    a, b = ours[0].pred_instances, theirs[0].pred_instances
    assert len(a) > 0
    torch.testing.assert_close(a.bboxes, b.bboxes)
    torch.testing.assert_close(a.scores, b.scores)
    assert torch.equal(a.labels, b.labels)


def test_box0_is_whole_image_and_masked_pixels_are_zero_only_inside():
    model = build_tiny_model(heads=HEADS).train()
    seen = {}
    bb = model.region_encoder.detector.backbone
    hook = bb.register_forward_pre_hook(lambda m, a: seen.setdefault('x', a[0].clone()))
    samples = [make_sample(96, 128, boxes=[[10, 20, 30.4, 40], [60, 10, 100, 50]],
                           masked=[True, False], seed=4)]
    data = batch(model, samples)
    clean = data['inputs']['imgs'].clone()
    out = model(**data, mode='tensor')
    hook.remove()
    boxes = out.region.boxes[0]
    assert boxes[0].tolist() == [0, 0, 127, 95]  # [0, 0, W-1, H-1]
    assert out.roi_masked[0].tolist() == [False, True, False]
    x = seen['x']
    inside = torch.zeros_like(x, dtype=torch.bool)
    inside[..., 20:41, 10:32] = True  # floor(x1)..ceil(x2), inclusive
    assert (x[inside] == 0).all()
    assert torch.equal(x[~inside], clean[~inside])


@pytest.mark.parametrize('boxes', [
    [[50, 50, 40, 40]],               # degenerate: x2 <= x1
    [[-30, -10, 500, 60]],            # partly outside the image
    [[float('nan'), 0, 10, 10]],      # garbage
])
def test_bad_boxes_give_finite_results(boxes):
    model = build_tiny_model(heads=HEADS).train()
    losses = model(**batch(model, [make_sample(96, 128, boxes=boxes, seed=5)]), mode='loss')
    assert torch.isfinite(losses['loss_mlm_vl'])
    out = model(**batch(model, [make_sample(96, 128, boxes=boxes, seed=5)]), mode='tensor')
    b = out.region.boxes[0][1]
    assert 0 <= b[0] < b[2] <= 127 and 0 <= b[1] < b[3] <= 95


def test_zero_detected_boxes_gives_image_box_only():
    model = build_tiny_model(heads=HEADS, box_source='detector', det_score_thr=2.0).train()
    out = model(**batch(model, [make_sample(96, 128, seed=6)]), mode='tensor')
    assert len(out.region.boxes[0]) == 1
    losses = model(**batch(model, [make_sample(96, 128, seed=6)]), mode='loss')
    assert torch.isfinite(losses['loss_mlm_vl'])


def test_given_plus_detector_boxes_are_detached_and_capped():
    model = build_tiny_model(heads=HEADS, box_source='given+detector', max_det_boxes=3,
                             det_score_thr=0.0).eval()
    with torch.no_grad():
        out = model(**batch(model, [make_sample(96, 128, boxes=[[1, 1, 20, 20]], seed=7)],
                            training=False), mode='tensor')
    n = len(out.region.boxes[0])
    assert 2 <= n <= 1 + 1 + 3
    assert not out.region.boxes[0].requires_grad


def test_joint_detection_losses_are_prefixed_and_train_rpn():
    model = build_tiny_model(heads=HEADS, det_loss_weight=0.5).train()
    samples = [make_sample(96, 128, boxes=[[5, 5, 60, 60]], seed=8, gt=True)]
    losses = model(**batch(model, samples), mode='loss')
    det_keys = [k for k in losses if k.startswith('det_')]
    assert 'det_loss_rpn_cls' in det_keys and 'det_loss_cls' in det_keys
    total = losses['loss_mlm_vl'] + losses['det_loss_cls'] + sum(losses['det_loss_rpn_cls'])
    total.backward()
    assert model.region_encoder.detector.rpn_head.rpn_conv.weight.grad.abs().sum() > 0


def test_text_only_and_image_samples_in_one_batch():
    model = build_tiny_model(heads=HEADS).train()
    img, s = make_sample(96, 128, boxes=[[5, 5, 40, 40]], seed=9)
    _, t = make_sample(8, 8, seed=10)
    losses = model(**batch(model, [(img, s), (None, t)]), mode='loss')
    assert {'loss_mlm_vl', 'loss_mlm_text'} <= set(losses)
    assert all(torch.isfinite(v) for v in losses.values())


def test_fpn_variant_pools_shared_fc_features():
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from vlbert_e2e.registry import MODELS
    from vlbert_e2e.testing import ROOT
    cfg = Config.fromfile(f'{ROOT}/configs/_base_/models/vlbert-base_faster-rcnn-r50-fpn.py')
    m = cfg.model
    m.region_encoder.detector.backbone.update(depth=18, init_cfg=None)
    m.region_encoder.detector.neck.in_channels = [64, 128, 256, 512]
    m.region_encoder.box_source = 'given'
    m.vl_bert = tiny_model_cfg().vl_bert
    m.heads = HEADS
    with DefaultScope.overwrite_default_scope('vlbert_e2e'):
        model = MODELS.build(m).train()
    assert model.region_encoder.out_channels == 1024
    out = model(**batch(model, [make_sample(64, 96, boxes=[[4, 4, 40, 40]], seed=11)]),
                mode='tensor')
    assert out.region.feats[0].shape == (2, 1024)


def test_all_rois_of_a_batch_go_through_one_roi_align_call():
    model = build_tiny_model(heads=HEADS).train()
    layer = model.region_encoder.roi_head.bbox_roi_extractor.roi_layers[0]
    calls = []
    layer.register_forward_hook(lambda m, a, o: calls.append(a[1].shape[0]))
    model(**batch(model, _two_samples()), mode='loss')
    assert calls == [3 + 2]  # (image + 2 boxes) + (image + 1 box) in a single call


def test_predict_reuses_the_detection_that_chose_the_rois():
    """With detector boxes, ``predict`` reports the same detections as a separate
    ``detect`` call (mmdet's results, rescaled), without running the detector twice."""
    model = build_tiny_model(heads=dict(mlm=dict(type='MLMHead')),
                             box_source='given+detector').eval()
    model.predict_detections = True
    img, s = make_sample(96, 128, seed=3)
    s.set_metainfo(dict(scale_factor=(0.5, 0.5), ori_shape=(192, 256)))
    data = batch(model, [(img, s)], training=False)
    calls = []
    model.region_encoder.detector.rpn_head.register_forward_hook(lambda *a: calls.append(1))
    with torch.no_grad():
        ours = model.predict(data['inputs'], copy.deepcopy(data['data_samples']))
        assert len(calls) == 1
        ref = model.detect(data['inputs'], copy.deepcopy(data['data_samples']))
    a, b = ours[0].pred_instances, ref[0].pred_instances
    assert len(a) > 0
    torch.testing.assert_close(a.bboxes, b.bboxes, atol=1e-3, rtol=1e-4)
    torch.testing.assert_close(a.scores, b.scores)
    assert torch.equal(a.labels, b.labels)


def test_predicted_detections_mark_the_rois_the_model_read():
    """``pred_instances.is_roi`` marks exactly the detections pooled as RoIs: score at
    least ``det_score_thr``, at most ``max_det_boxes``, the best first (what a picture
    of the answer draws green; the rest grey)."""
    model = build_tiny_model(heads=dict(mlm=dict(type='MLMHead')), box_source='detector',
                             max_det_boxes=3).eval()
    model.predict_detections = True
    data = batch(model, [make_sample(96, 128, seed=3)], training=False)
    with torch.no_grad():
        all_dets = model.detect(data['inputs'], copy.deepcopy(data['data_samples']))
    scores = all_dets[0].pred_instances.scores.sort(descending=True).values
    assert len(scores) >= 5  # enough to cut by score and by count
    enc = model.region_encoder
    for thr, expect in ((float(scores[1]), 2), (float(scores[-1]), 3)):
        enc.det_score_thr = thr
        with torch.no_grad():
            out = model(**copy.deepcopy(data), mode='tensor')
            pred = model.predict(data['inputs'], copy.deepcopy(data['data_samples']))
        inst = pred[0].pred_instances
        assert int(inst.is_roi.sum()) == expect == len(out.region.boxes[0]) - 1
        torch.testing.assert_close(inst.scores[inst.is_roi].sort(descending=True).values,
                                   scores[:expect])
        # the RoIs pooled are these detections (image scale 1: same pixels)
        torch.testing.assert_close(out.region.boxes[0][1:].sort(0).values,
                                   inst.bboxes[inst.is_roi].sort(0).values)

"""Fidelity switches of the ``*-original`` configs (issue 16 item 3), each against values
worked out by hand from the original VL-BERT code (jackroos/VL-BERT) and each OFF by
default. docs/model.md, "Fidelity switches", lists them."""
import os

import pytest
import torch
from conftest import ROOT, batch, build_tiny_model, make_sample

from vlbert_e2e.models.region_encoders.box_ops import (
    clip_and_fix_boxes,
    masked_pixel_map,
    whole_image_box,
)

ORIGINAL_MODEL_CFG = os.path.join(
    ROOT, 'configs/_base_/models/vlbert-base-original_faster-rcnn-r101-c4.py')


def _original_model_cfg():
    from mmengine.config import Config
    return Config.fromfile(ORIGINAL_MODEL_CFG).model


# ------------------------------------------------------------------ masked-RoI pixels
def test_masked_pixels_truncate_like_the_original():
    box = torch.tensor([[50.5, 5.25, 120.75, 40.5]])
    imgs = torch.zeros(1, 3, 64, 160)
    # original: columns int(50.5)=50 .. int(120.75)=120 -> 71, rows 5 .. 40 -> 36
    orig = masked_pixel_map(imgs, [box], [torch.tensor([True])], 'truncate')
    assert int((orig == 0).sum()) == 71 * 36 == 2556
    assert (orig[0, 0, 5:41, 50:121] == 0).all()
    assert orig[0, 0, 5:41, 121].eq(1).all() and orig[0, 0, 41, 50:121].eq(1).all()
    # ours (default): floor(x1)=50 .. ceil(x2)=121 -> 72, rows 5 .. ceil(40.5)=41 -> 37
    ours = masked_pixel_map(imgs, [box], [torch.tensor([True])])
    assert int((ours == 0).sum()) == 72 * 37 == 2664
    with pytest.raises(ValueError, match='pixel_rule'):
        masked_pixel_map(imgs, [box], [torch.tensor([True])], 'round')


# ------------------------------------------------------------------ whole-image box
def test_whole_image_box_scaled_from_the_original_image():
    # a 640x480 picture resized x1.25 -> 800x600
    args = ((600, 800), (480, 640), (1.25, 1.25))
    assert whole_image_box(*args) == [0, 0, 799, 599]  # default: on the resized image
    assert whole_image_box(*args, mode='original_scaled') == [0, 0, 798.75, 598.75]
    # flipped as the original flips: x' = W - 1 - x -> [799 - 798.75, 0, 799, 598.75]
    assert whole_image_box(*args, hflip=True, mode='original_scaled') == \
        [0.25, 0, 799, 598.75]
    # 500x333 -> 900x600 (the original's truncated size), scale 1.8 x 1.8018...
    box = whole_image_box((600, 900), (333, 500), (900 / 500, 600 / 333),
                          mode='original_scaled')
    assert box[2] == pytest.approx(499 * 1.8) and box[3] == pytest.approx(332 * 600 / 333)


# ------------------------------------------------------------------ zero-width boxes
def test_zero_width_box_kept_with_min_size_0():
    b = torch.tensor([[10., 20., 10., 30.], [5., 7., 9., 7.], [-3., 2., 40., 90.]])
    ours = clip_and_fix_boxes(b, (60, 40))
    assert ours.tolist() == [[10, 20, 11, 30], [5, 7, 9, 8], [0, 2, 39, 59]]
    orig = clip_and_fix_boxes(b, (60, 40), min_size=0)
    assert orig.tolist() == [[10, 20, 10, 30], [5, 7, 9, 7], [0, 2, 39, 59]]
    # at the right edge: ours moves x1 in to keep 1 pixel, the original keeps x1 = W-1
    edge = torch.tensor([[39., 0., 39., 5.]])
    assert clip_and_fix_boxes(edge, (60, 40)).tolist() == [[38, 0, 39, 5]]
    assert clip_and_fix_boxes(edge, (60, 40), min_size=0).tolist() == [[39, 0, 39, 5]]


# ------------------------------------------------------------------ in the model
def test_region_encoder_switches_reach_the_pixels_and_boxes():
    model = build_tiny_model(heads=dict(mlm=dict(type='MLMHead')), pixel_rule='truncate',
                             min_box_size=0, whole_image_box='original_scaled').train()
    seen = {}
    hook = model.region_encoder.detector.backbone.register_forward_pre_hook(
        lambda m, a: seen.setdefault('x', a[0].clone()))
    img, s = make_sample(96, 128, boxes=[[10.5, 20.25, 30.75, 40.5], [60, 10, 60, 50]],
                         masked=[True, False], seed=4)
    s.set_metainfo(dict(ori_shape=(76, 101), scale_factor=(1.25, 1.25)))
    data = batch(model, [(img, s)])
    clean = data['inputs']['imgs'].clone()
    out = model(**data, mode='tensor')
    hook.remove()
    boxes = out.region.boxes[0]
    assert boxes[0].tolist() == [0, 0, 125, 93.75]  # (101-1, 76-1) x 1.25
    assert boxes[2].tolist() == [60, 10, 60, 50]  # zero width kept
    inside = torch.zeros_like(clean, dtype=torch.bool)
    inside[..., 20:41, 10:31] = True  # int(y1)..int(y2), int(x1)..int(x2), inclusive
    assert (seen['x'][inside] == 0).all()
    assert torch.equal(seen['x'][~inside], clean[~inside])


def test_region_encoder_rejects_unknown_switch_values():
    with pytest.raises(ValueError, match='whole_image_box'):
        build_tiny_model(whole_image_box='scaled')


def test_original_config_switches_on():
    enc = _original_model_cfg().region_encoder
    assert (enc.pixel_rule, enc.min_box_size, enc.whole_image_box) == \
        ('truncate', 0, 'original_scaled')


# ------------------------------------------------------------------ batch padding
def _padded_shape(preprocessor_cfg, hws):
    import vlbert_e2e.models  # noqa: F401 (registers)
    from vlbert_e2e.registry import MODELS
    pre = MODELS.build(preprocessor_cfg)
    samples = [make_sample(h, w, seed=i) for i, (h, w) in enumerate(hws)]
    data = dict(inputs=[x[0] for x in samples], data_samples=[x[1] for x in samples])
    return tuple(pre(data, False)['inputs']['imgs'].shape[-2:])


def test_original_config_pads_only_to_the_largest_image():
    orig = _original_model_cfg().data_preprocessor
    assert _padded_shape(orig, [(100, 150)]) == (100, 150)
    assert _padded_shape(orig, [(100, 150), (90, 160)]) == (100, 160)
    ours = dict(orig, pad_size_divisor=32)  # our default
    assert _padded_shape(ours, [(100, 150)]) == (128, 160)

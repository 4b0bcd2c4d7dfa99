"""Property test: random image sizes, boxes (inside, outside, zero-area, reversed) and
texts go through the real transforms and the tiny model; losses stay finite and every
output has the shape the next stage expects."""
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from mmdet.structures.bbox import HorizontalBoxes
from mmengine.dataset import Compose
from mmengine.registry import DefaultScope

from vlbert_e2e.testing import batch, build_tiny_model

TOK = 'pkg://minilm-l6'
WORDS = st.sampled_from(['a', 'red', 'circle', 'über', 'naïve', '猫', '🙂', 'x' * 40, '.'])
coord = st.floats(-500, 1500, allow_nan=False, allow_infinity=False)


@pytest.fixture(scope='module')
def setup():
    with DefaultScope.overwrite_default_scope('vlbert_e2e'):
        pipeline = Compose([
            dict(type='mmdet.Resize', scale=(128, 96), keep_ratio=True),
            dict(type='Tokenize', tokenizer=TOK, max_length=32),
            dict(type='MaskText', tokenizer=TOK, prob=0.3),
            dict(type='MaskRoIs', prob=0.5, mask_ratio=0.9),
            dict(type='PackVLInputs')])
        model = build_tiny_model(
            heads=dict(mlm=dict(type='MLMHead'), mvrc=dict(type='MVRCHead', num_classes=9)),
            need_cls_dist=True)
    return pipeline, model


@settings(max_examples=6, deadline=None, derandomize=True, phases=[Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(h=st.integers(1, 300), w=st.integers(1, 300),
       boxes=st.lists(st.tuples(coord, coord, coord, coord), min_size=1, max_size=5),
       words=st.lists(WORDS, min_size=1, max_size=2000))
def test_random_boxes_sizes_and_texts_give_finite_losses(setup, h, w, boxes, words):
    pipeline, model = setup
    img = np.random.randint(0, 256, (h, w, 3), dtype=np.uint8)
    results = dict(img=img, img_shape=(h, w), ori_shape=(h, w), img_path='x.jpg',
                   text=' '.join(words), sample_id=0,
                   gt_bboxes=HorizontalBoxes(torch.tensor(boxes, dtype=torch.float32)),
                   gt_bboxes_labels=np.zeros(len(boxes), dtype=np.int64))
    with DefaultScope.overwrite_default_scope('vlbert_e2e'):
        out = pipeline(results)
        sample = out['data_samples']
        assert out['inputs'].shape[0] == 3 and max(out['inputs'].shape[1:]) <= 128
        assert 2 <= len(sample.input_ids) <= 32
        boxes_out = sample.gt_rois.bboxes
        rh, rw = sample.metainfo['img_shape']
        assert boxes_out.shape[1] == 4 and torch.isfinite(boxes_out).all()
        assert (boxes_out[:, 0::2] >= 0).all() and (boxes_out[:, 0::2] <= rw).all()
        assert (boxes_out[:, 1::2] >= 0).all() and (boxes_out[:, 1::2] <= rh).all()
        model.train()
        losses = model(**batch(model, [(out['inputs'], sample)]), mode='loss')
    assert losses  # a batch without targets still gives losses (0, with a warning)
    for k, v in losses.items():
        assert torch.isfinite(torch.as_tensor(v)).all(), (k, v, h, w, boxes)

"""Fidelity switches of the ``*-original`` configs (issue 16 item 3), each against values
worked out by hand from the original VL-BERT code (jackroos/VL-BERT) and each OFF by
default. docs/model.md, "Fidelity switches", lists them."""
import os

import pytest
import torch

from vlbert_e2e.models.region_encoders.box_ops import (
    clip_and_fix_boxes,
    masked_pixel_map,
    whole_image_box,
)
from vlbert_e2e.testing import ROOT, batch, build_tiny_model, make_sample

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


def test_precomputed_region_encoder_keeps_zero_width_boxes():
    from mmengine.config import Config
    from mmengine.structures import InstanceData

    import vlbert_e2e.models  # noqa: F401 (registers)
    from vlbert_e2e.registry import MODELS
    from vlbert_e2e.structures import VLDataSample
    cfg = Config.fromfile(os.path.join(
        ROOT, 'configs/_base_/models/vlbert-base-prec_bua-r101.py')).model.region_encoder
    assert cfg.min_box_size == 0
    s = VLDataSample(metainfo=dict(img_shape=(60, 80)))
    s.gt_rois = InstanceData(bboxes=torch.tensor([[10., 5., 10., 30.]]))
    s.region_feats = torch.ones(1, 8)
    for min_size, x2 in ((0, 10), (1, 11)):
        enc = MODELS.build(dict(cfg, feature_dim=8, min_box_size=min_size))
        assert enc(None, [s]).boxes[0].tolist() == [[0, 0, 79, 59], [10, 5, x2, 30]]


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


# ------------------------------------------------------------------ resize and flip
def _geometry(transform_cfg, w, h, boxes):
    import numpy as np
    from mmdet.structures.bbox import HorizontalBoxes

    import vlbert_e2e.datasets  # noqa: F401 (registers)
    from vlbert_e2e.registry import TRANSFORMS
    results = dict(img=np.zeros((h, w, 3), np.uint8), img_shape=(h, w), ori_shape=(h, w),
                   gt_bboxes=HorizontalBoxes(torch.tensor(boxes, dtype=torch.float32)))
    out = TRANSFORMS.build(transform_cfg)(results)
    return out['img'].shape[:2], out['gt_bboxes'].tensor.tolist(), out.get('scale_factor')


@pytest.mark.parametrize('w, h, original, ours', [
    (500, 333, (900, 600), (901, 600)),    # 600 * 500 / 333 = 900.9
    (1200, 400, (999, 333), (1000, 333)),  # capped: int(1000 * 400 / 1200) = 333
    (333, 500, (600, 900), (600, 901)),    # portrait
    (800, 600, (800, 600), (800, 600)),    # already at size
])
def test_original_resize_truncates_the_size(w, h, original, ours):
    from vlbert_e2e.datasets.transforms import original_resize_size
    assert original_resize_size(w, h) == original
    hw, boxes, sf = _geometry(dict(type='OriginalResize'), w, h, [[10, 20, 50, 60]])
    assert hw == original[::-1]
    assert sf == pytest.approx((original[0] / w, original[1] / h))
    assert boxes[0] == pytest.approx([10 * sf[0], 20 * sf[1], 50 * sf[0], 60 * sf[1]])
    hw, _, _ = _geometry(dict(type='mmdet.Resize', scale=(1000, 600), keep_ratio=True),
                         w, h, [[10, 20, 50, 60]])
    assert hw == ours[::-1]


def test_original_resize_resamples_as_pil_bilinear():
    """The original resizes a PIL image with torchvision (PIL's bilinear resize)."""
    import numpy as np
    from PIL import Image

    import vlbert_e2e.datasets  # noqa: F401 (registers)
    from vlbert_e2e.registry import TRANSFORMS
    img = np.random.RandomState(0).randint(0, 256, (50, 75, 3), dtype=np.uint8)
    out = TRANSFORMS.build(dict(type='OriginalResize', min_size=60, max_size=100))(
        dict(img=img, img_shape=(50, 75), ori_shape=(50, 75)))
    want = np.asarray(Image.fromarray(img).resize((90, 60), Image.BILINEAR))
    assert out['img'].shape == (60, 90, 3) and np.array_equal(out['img'], want)


def test_original_flip_maps_x_to_w_minus_1_minus_x():
    flip = dict(prob=1.0, direction='horizontal')
    _, orig, _ = _geometry(dict(type='OriginalRandomFlip', **flip), 900, 600,
                           [[10, 20, 50, 60], [0, 0, 899, 599]])
    assert orig == [[849, 20, 889, 60], [0, 0, 899, 599]]  # 900 - 1 - x, x1/x2 swapped
    _, ours, _ = _geometry(dict(type='mmdet.RandomFlip', **flip), 900, 600,
                           [[10, 20, 50, 60]])
    assert ours == [[850, 20, 890, 60]]  # 900 - x
    _, vert, _ = _geometry(dict(type='OriginalRandomFlip', prob=1.0, direction='vertical'),
                           900, 600, [[10, 20, 50, 60]])
    assert vert == [[10, 539, 50, 579]]  # 600 - 1 - y


@pytest.mark.parametrize('size', ['base', 'large'])
def test_original_pretrain_configs_resize_and_flip_as_the_original(size):
    from mmengine.config import Config
    cfg = Config.fromfile(os.path.join(
        ROOT, f'configs/vlbert/vlbert-{size}-original_faster-rcnn-r101-c4_16xb16-10e_cc-text.py'))
    cc, text = cfg.train_dataloader.dataset.datasets
    types = [t['type'] for t in cc.pipeline]
    assert 'OriginalResize' in types and 'OriginalRandomFlip' in types
    assert not any(t.startswith('mmdet.Resize') or t == 'mmdet.RandomFlip' for t in types)
    assert cc.type == 'ConceptualCaptionsDataset' and text.type == 'TextCorpusDataset'
    assert text.packing == 'original'
    assert types.index('Tokenize') < types.index('SortAndCapRoIsText') < types.index('MaskText')
    assert [t.get('add_special_tokens') for t in text.pipeline if t['type'] == 'Tokenize'] \
        == [False]
    assert cfg.model.data_preprocessor.pad_size_divisor == 1


# ------------------------------------------------------------------ VQA questions
def test_original_vqa_config_never_truncates_a_question():
    from mmengine.config import Config

    import vlbert_e2e.datasets  # noqa: F401 (registers)
    from vlbert_e2e.registry import TRANSFORMS

    def n_pieces(cfg_file, question):
        cfg = Config.fromfile(os.path.join(ROOT, 'configs/vqa', cfg_file))
        tok = [t for t in cfg.train_dataloader.dataset.pipeline if t['type'] == 'Tokenize']
        t = TRANSFORMS.build(dict(tok[0], tokenizer='pkg://minilm-l6'))
        return len(t(dict(text=question))['input_ids'])
    question = ' '.join(['what'] * 60) + '?'  # 61 word pieces
    # [CLS] 61 pieces [SEP] [MASK] [SEP]
    assert n_pieces('vlbert-base-prec_bua-r101_8xb32-5e_vqa-v2.py', question) == 65
    assert n_pieces('vlbert-base_faster-rcnn-r101-c4_8xb32-5e_vqa-v2.py', question) == 40


# ------------------------------------------------------------------ text-only corpus
CORPUS = 'the cat sat down\nthen it slept.\n\nbirds fly\nfar away\n'
TOK = 'pkg://minilm-l6'


def _corpus(tmp_path, **kw):
    from vlbert_e2e.datasets import TextCorpusDataset
    (tmp_path / 'corpus.txt').write_text(CORPUS)
    ds = TextCorpusDataset(ann_file=str(tmp_path / 'corpus.txt'), tokenizer=TOK,
                           pipeline=[], **kw)
    return [ds[i]['text'] for i in range(len(ds))]


def test_original_corpus_packing_crosses_documents_and_wraps(tmp_path):
    # words: 'the cat sat down' 4, 'then it slept .' 4, 'birds fly' 2, 'far away' 2
    assert _corpus(tmp_path, min_pieces=6, packing='original') == [
        'the cat sat down then it slept.',  # 4 + 4 >= 6
        'then it slept. birds fly',         # 4 + 2, across the blank line
        'birds fly far away the cat sat down',  # 2 + 2 + 4, wrapping to the start
        'far away the cat sat down']        # 2 + 4
    # ours: within a document only, one sample per packed group
    assert _corpus(tmp_path, min_pieces=6) == ['the cat sat down then it slept.',
                                               'birds fly far away']


def test_original_text_samples_are_bare_word_pieces():
    from vlbert_e2e.datasets.transforms import Tokenize, build_tokenizer
    tok = build_tokenizer(TOK)
    text = 'then it slept. birds fly'
    pieces = tok.convert_tokens_to_ids(tok.tokenize(text))  # 6 pieces
    bare = Tokenize(TOK, max_length=4, add_special_tokens=False)(dict(text=text))
    assert bare['input_ids'].tolist() == pieces[:4]
    assert bare['word_ids'].tolist() == [0, 1, 2, 3]
    ours = Tokenize(TOK, max_length=4)(dict(text=text))
    assert ours['input_ids'].tolist() == [tok.cls_token_id, *pieces[:2], tok.sep_token_id]


# ------------------------------------------------------------------ CC sequence cap
@pytest.mark.parametrize('text, rois, kept', [
    (20, 101, (20, 44)),  # boxes dropped down to 64 - 20
    (50, 31, (33, 31)),   # text longer: text cut first, down to 64 - 31
    (40, 40, (32, 32)),   # equal: text, box, text, ... alternately
    (10, 30, (10, 30)),   # fits
])
def test_original_keep_lengths(text, rois, kept):
    from vlbert_e2e.datasets.transforms import original_keep_lengths
    assert original_keep_lengths(text, rois, 64) == kept


def test_sort_and_cap_rois_text():
    import numpy as np
    from mmdet.structures.bbox import HorizontalBoxes

    from vlbert_e2e.datasets.transforms import SortAndCapRoIsText
    boxes = torch.arange(20, dtype=torch.float32).view(5, 4)
    results = dict(gt_bboxes=HorizontalBoxes(boxes), gt_bboxes_labels=np.arange(5),
                   roi_cls_dist=[[.1, .9], [.5, .5], [.2, .7], [.05, .95], [.4, .6]],
                   input_ids=np.array([101, 11, 12, 13, 14, 15, 102]),
                   word_ids=np.array([-1, 0, 1, 2, 3, 4, -1]),
                   token_type_ids=np.zeros(7, np.int64))
    # 7 text + (whole image + 5) RoIs = 13 > 10: text 6 (RoIs 6 not > 7), text 5
    # (6 not > 6), RoIs 5 (6 > 5): 5 + 5 = 10
    out = SortAndCapRoIsText(seq_len=10)(results)
    # max scores .9 .5 .7 .95 .6 -> order 3, 0, 2, 4, 1; 4 given boxes kept
    assert out['gt_bboxes_labels'].tolist() == [3, 0, 2, 4]
    assert out['gt_bboxes'].tensor.tolist() == boxes[[3, 0, 2, 4]].tolist()
    assert [max(d) for d in out['roi_cls_dist']] == [.95, .9, .7, .6]
    assert out['input_ids'].tolist() == [101, 11, 12, 13, 102]  # first 4 + [SEP]
    assert out['word_ids'].tolist() == [-1, 0, 1, 2, -1]
    assert len(out['token_type_ids']) == 5


def test_original_pretrain_pipelines_run_on_the_fixtures():
    """The base-original config's two datasets, on the test fixtures with the packaged
    tokenizer: caption + RoIs fit 64, text samples are 64 bare word pieces."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from vlbert_e2e.datasets.transforms import build_tokenizer
    from vlbert_e2e.registry import DATASETS
    cfg = Config.fromfile(os.path.join(
        ROOT, 'configs/vlbert/vlbert-base-original_faster-rcnn-r101-c4_16xb16-10e_cc-text.py'))
    cc, text = cfg.train_dataloader.dataset.datasets
    text.tokenizer = TOK
    for t in cc.pipeline + text.pipeline:
        t.update({'tokenizer': TOK} if 'tokenizer' in t else {})
    cc.update(data_root=os.path.join(ROOT, 'tests/data/cc/'), ann_file='manifest.jsonl',
              data_prefix=dict(img='images/'))
    text.update(data_root=os.path.join(ROOT, 'tests/data/'), ann_file='corpus.txt')
    tok = build_tokenizer(TOK)
    with DefaultScope.overwrite_default_scope('vlbert_e2e'):
        cc_ds, text_ds = DATASETS.build(cc), DATASETS.build(text)
    s = cc_ds[0]['data_samples']
    assert len(s.input_ids) + len(s.gt_rois) + 1 <= 64
    assert s.input_ids[0] == tok.cls_token_id and s.input_ids[-1] == tok.sep_token_id
    t = text_ds[0]['data_samples']
    assert len(t.input_ids) == 64
    assert tok.cls_token_id not in t.input_ids.tolist()
    assert tok.sep_token_id not in t.input_ids.tolist()

"""Loading released weights: original VL-BERT checkpoints, MMDetection detectors, HF BERTs.

The original's key layout and formulas are written here from its public code
(jackroos/VL-BERT: common/fast_rcnn.py, common/visual_linguistic_bert.py,
common/utils/bbox.py), independently of the converter's table.
"""
import math
import os
import time
from types import SimpleNamespace

import pytest
import torch

from vlbert_e2e.testing import (
    REL_HEAD,
    ROOT,
    TINY_OPTIONS,
    TINY_TRAIN_CFG,
    build_model_from_cfg,
    original_state_dict,
    record_encoder_inputs,
    tiny_original_state_dict,
)
from vlbert_e2e.testing.cli import run_tools_here

BASE_ORIGINAL_CFG = os.path.join(
    ROOT, 'configs/vlbert/vlbert-base-original_faster-rcnn-r101-c4_16xb16-10e_cc-text.py')
TOOL = os.path.join(ROOT, 'tools/model_converters/vlbert_original_to_mmengine.py')
_build = build_model_from_cfg


def _src_value(src, key, mvrc_background='first'):
    v = src['module.' + key]
    if mvrc_background == 'last' and key.startswith('vlbert.mvrc_head.region_cls_pred.'):
        v = torch.cat([v[1:], v[:1]])
    return v


def _assert_landed(model, conv, src, mvrc_background='first'):
    sd = model.state_dict()
    n = 0
    for t, s in conv.placed.items():
        if s.startswith('detector:'):
            continue
        assert torch.equal(sd[t], _src_value(src, s, mvrc_background)), (t, s)
        n += 1
    return n


# ----------------------------------------------------------------------------- tests
def test_base_original_checkpoint_converts_and_loads_strict():
    from vlbert_e2e.models.original_checkpoint import convert_original, find_head_prefixes
    src = original_state_dict()
    t0 = time.time()
    model = _build(BASE_ORIGINAL_CFG)  # no download: BERT from config, init_cfg None
    build_s = time.time() - t0
    assert build_s < 30, f'building the base model took {build_s:.1f} s'
    conv = convert_original(src, model.state_dict(), find_head_prefixes(model))
    model.load_state_dict(conv.state_dict, strict=True)

    n = _assert_landed(model, conv, src)
    stripped = {k[len('module.'):] for k in src}
    dups = {k for k in stripped if k.startswith('image_feature_extractor.head.0.')}
    # every tensor of the checkpoint landed (res5's duplicate is checked equal, used once)
    assert set(conv.placed.values()) | dups == stripped
    assert n == len(conv.placed) == len(stripped) - len(dups)
    assert conv.unplaced == []
    # what stays initialised is exactly what the original lacks: RPN, box head, pooler
    assert {k.rsplit('.', 1)[0] for k in conv.left_at_init} == {
        'region_encoder.detector.rpn_head.rpn_conv', 'region_encoder.detector.rpn_head.rpn_cls',
        'region_encoder.detector.rpn_head.rpn_reg',
        'region_encoder.detector.roi_head.bbox_head.fc_cls',
        'region_encoder.detector.roi_head.bbox_head.fc_reg', 'vl_bert.bert.pooler.dense'}
    sd = model.state_dict()
    # a few landings spelled out (the mapping itself)
    pairs = {
        'region_encoder.detector.backbone.layer3.22.conv3.weight':
            'image_feature_extractor.backbone.layer3.22.conv3.weight',
        'region_encoder.detector.roi_head.shared_head.layer4.0.downsample.1.running_var':
            'image_feature_extractor.roi_head_feature_extractor.0.downsample.1.running_var',
        'visual_embedding.fc.weight': 'image_feature_extractor.obj_downsample.1.weight',
        'vl_bert.bert.embeddings.LayerNorm.bias': 'vlbert.embedding_LayerNorm.bias',
        'vl_bert.bert.encoder.layer.11.output.LayerNorm.weight':
            'vlbert.encoder.layer.11.output.LayerNorm.weight',
        'vl_bert.object_linguistic_embeddings.weight': 'object_linguistic_embeddings.weight',
        'heads.mlm.predictions.decoder.weight': 'vlbert.word_embeddings.weight',
        'heads.mvrc.region_cls_pred.bias': 'vlbert.mvrc_head.region_cls_pred.bias',
    }
    for t, s in pairs.items():
        assert torch.equal(sd[t], src['module.' + s]), t
    print(f'base model build: {build_s:.1f} s')


def test_tool_writes_checkpoint_and_safetensors_that_load_strict(tmp_path):
    """The CLI on the tiny fixture config, with a local mmdet checkpoint for the RPN
    and box head; the written files load with strict=True, also via MMEngine."""
    from mmengine.runner import load_checkpoint
    from safetensors.torch import load_file
    src = tiny_original_state_dict()
    src_path, out = tmp_path / 'vl-bert-tiny-e2e.model', tmp_path / 'out' / 'conv.pth'
    torch.save({'state_dict': src, 'optimizer': {'state': {}, 'param_groups': []}},
               src_path)
    det_model = _tiny_mmdet_detector()
    det_path = tmp_path / 'det.pth'
    torch.save({'meta': {}, 'state_dict': det_model.state_dict()}, det_path)
    r = _run_tool([str(src_path), str(out), '--config', TINY_TRAIN_CFG,
                   '--detector', str(det_path), '--cfg-options',
                   'model.visual_embedding.geometry_dim=2048'])
    assert r.returncode == 0, r.stderr[-3000:]
    assert f'checkpoint keys not placed (1):\n  {REL_HEAD}' in r.stdout
    assert 'model keys left at their initial values (0):' in r.stdout
    ckpt = torch.load(out, map_location='cpu', weights_only=True)
    assert set(ckpt) == {'meta', 'state_dict'}
    st = load_file(str(tmp_path / 'out' / 'conv.safetensors'))
    assert st.keys() == ckpt['state_dict'].keys()
    assert all(torch.equal(st[k], v) for k, v in ckpt['state_dict'].items())

    model = _build(TINY_TRAIN_CFG, TINY_OPTIONS)
    model.load_state_dict(ckpt['state_dict'], strict=True)
    sd = model.state_dict()
    for k, v in det_model.state_dict().items():
        t = 'region_encoder.detector.' + k
        if k.startswith(('rpn_head.', 'roi_head.bbox_head.')):
            assert torch.equal(sd[t], v), k  # from the detector checkpoint
        elif not k.endswith('num_batches_tracked'):
            assert not torch.equal(sd[t], v), k  # the VL-BERT checkpoint wins
    assert torch.equal(sd['vl_bert.bert.encoder.layer.1.intermediate.dense.weight'],
                       src['module.vlbert.encoder.layer.1.intermediate.dense.weight'])
    fresh = _build(TINY_TRAIN_CFG, TINY_OPTIONS)
    load_checkpoint(fresh, str(out), map_location='cpu', strict=True)
    assert all(torch.equal(v, sd[k]) for k, v in fresh.state_dict().items())


def test_tool_errors_are_one_line_naming_the_key(tmp_path):
    src = tiny_original_state_dict()
    del src['module.vlbert.encoder.layer.1.output.dense.bias']
    path = tmp_path / 'broken.model'
    torch.save({'state_dict': src}, path)
    r = _run_tool([str(path), str(tmp_path / 'x.pth'), '--config', TINY_TRAIN_CFG,
                   '--cfg-options', 'model.visual_embedding.geometry_dim=2048'])
    assert r.returncode != 0
    assert r.stderr.strip().splitlines()[-1] == (
        "error: missing key 'vlbert.encoder.layer.1.output.dense.bias' in the checkpoint "
        "(for 'vl_bert.bert.encoder.layer.1.output.dense.bias')")
    assert not (tmp_path / 'x.pth').exists()


@pytest.fixture(scope='module')
def tiny():
    from vlbert_e2e.models.original_checkpoint import find_head_prefixes
    model = _build(TINY_TRAIN_CFG, TINY_OPTIONS)
    return model, model.state_dict(), find_head_prefixes(model)


@pytest.mark.parametrize('edit, message', [
    (lambda s: s.pop('module.image_feature_extractor.backbone.layer2.1.bn2.running_var'),
     "missing key 'image_feature_extractor.backbone.layer2.1.bn2.running_var'"),
    (lambda s: s.pop('module.vlbert.visual_ln_text.weight'),
     "missing key 'vlbert.visual_ln_text.weight'"),
    (lambda s: s.update({'module.vlbert.token_type_embeddings.weight': torch.zeros(2, 64)}),
     "shape mismatch for 'vlbert.token_type_embeddings.weight': checkpoint [2, 64], "
     "model 'vl_bert.bert.embeddings.token_type_embeddings.weight' [3, 64]"),
    (lambda s: s.update({'module.image_feature_extractor.obj_downsample.1.weight':
                         torch.zeros(64, 4096)}),
     "shape mismatch for 'image_feature_extractor.obj_downsample.1.weight'"),
    (lambda s: s.update({'module.vlbert.encoder.layer.2.output.dense.bias': torch.zeros(64)}),
     "'vlbert.encoder.layer.2.output.dense.bias' has no place in the model"),
    (lambda s: s.update({'module.image_feature_extractor.head.0.1.conv2.weight':
                         torch.zeros(512, 512, 3, 3)}),
     "'image_feature_extractor.head.0.1.conv2.weight' differs from"),
    (lambda s: s.update({'module.vlbert.mlm_head.predictions.decoder.weight':
                         torch.zeros(30522, 64)}),
     "'vlbert.mlm_head.predictions.decoder.weight' differs from"),
])
def test_converter_errors_name_the_key(tiny, edit, message):
    from vlbert_e2e.models.original_checkpoint import ConversionError, convert_original
    _, target, heads = tiny
    src = tiny_original_state_dict()
    edit(src)
    with pytest.raises(ConversionError) as e:
        convert_original(src, target, heads)
    assert message in str(e.value) and '\n' not in str(e.value)


def test_prec_checkpoint_mvrc_order_and_missing_heads(tiny):
    """A *-prec checkpoint (no CNN) leaves the detector initialised (or takes it from
    --detector); a model without the pretraining heads reports them unplaced;
    --mvrc-background last moves the background row last."""
    from vlbert_e2e.models.original_checkpoint import convert_original
    model, target, heads = tiny
    src = tiny_original_state_dict(prec=True)
    conv = convert_original(src, target, heads, mvrc_background='last')
    model.load_state_dict(conv.state_dict, strict=True)
    _assert_landed(model, conv, src, 'last')
    w = src['module.vlbert.mvrc_head.region_cls_pred.weight']
    assert torch.equal(model.state_dict()['heads.mvrc.region_cls_pred.weight'][-1], w[0])
    assert {k.split('.')[2] for k in conv.left_at_init} == {'backbone', 'rpn_head', 'roi_head'}
    assert any('backbone: not in the checkpoint' in n for n in conv.notes)

    det = _tiny_mmdet_detector().state_dict()
    conv = convert_original(src, target, heads, detector=det)
    assert conv.left_at_init == []
    conv = convert_original(src, target, {})  # a model without MLM / MVRC heads
    assert {k.split('.')[0 if k.startswith('object') else 1] for k in conv.unplaced} == {
        'mlm_head', 'mvrc_head', 'relationsip_head', 'object_mask_visual_embedding'}


# ------------------------------------------------------------ original formulas, by hand
def original_coordinate_embeddings(boxes, im_wh):
    """common/utils/bbox.py ``coordinate_embeddings(boxes, 256)``, float64: box ->
    (xc, yc, w, h) / (W, H) x 100; wavelengths 1000^(i/256); per coordinate
    [sin x 256, cos x 256]; the 4 coordinates concatenated (4 x 512 = 2048)."""
    out = []
    for (x1, y1, x2, y2), (w_img, h_img) in zip(boxes.tolist(), im_wh.tolist()):
        pos = [(x1 + x2) / 2 / w_img * 100, (y1 + y2) / 2 / h_img * 100,
               (x2 - x1) / w_img * 100, (y2 - y1) / h_img * 100]
        row = []
        for p in pos:
            ph = [p / 1000 ** (i / 256) for i in range(256)]
            row += [math.sin(x) for x in ph] + [math.cos(x) for x in ph]
        out.append(row)
    return torch.tensor(out, dtype=torch.float64)


def test_geometry_embedding_matches_original_formula():
    """obj_downsample = ReLU(Linear([coordinate embedding ; appearance])), geometry first:
    ours in 'center_size' mode with the original's weight, unpermuted."""
    from vlbert_e2e.models.vl_bert import VisualFeatureEmbedding
    g = torch.Generator().manual_seed(1)
    boxes = torch.tensor([[0., 0., 599., 399.], [10.5, 20., 50., 80.], [300., 7., 301., 9.]])
    im_wh = torch.tensor([[600., 400.], [600., 400.], [333., 500.]])
    app = torch.randn(3, 2048, generator=g)
    w, b = torch.randn(16, 4096, generator=g) * 0.02, torch.randn(16, generator=g)

    geo = original_coordinate_embeddings(boxes, im_wh)
    expect = torch.relu(torch.cat([geo, app.double()], 1) @ w.double().T + b.double())

    ours = VisualFeatureEmbedding(2048, 16, geometry='center_size').eval()
    with torch.no_grad():
        ours.fc.weight.copy_(w)
        ours.fc.bias.copy_(b)
        got = ours(app, boxes, im_wh)
    torch.testing.assert_close(got.double(), expect, atol=2e-4, rtol=1e-4)


def test_sequence_layout_matches_original_embedding():
    """VisualLinguisticBert.embedding of the original, by hand: text = word + LN_text(
    visual of box 0, or the auxiliary embedding without image); RoI = [IMG] (or the
    masked-RoI word embedding) + LN_obj(feature); [END] after the RoIs, also on a
    text-only sample; positions 0..L-1, every RoI L, [END] L+1; segments: text's,
    then 2; LayerNorm(tokens + position + segment); attention on the L + n + 1 tokens."""
    from vlbert_e2e.models.vl_bert import VLBert
    torch.manual_seed(3)
    h = 32
    vl = VLBert(config=dict(vocab_size=300, hidden_size=h, num_hidden_layers=1,
                            num_attention_heads=2, intermediate_size=64),
                end_token_for_text_only=True).eval()
    with torch.no_grad():
        for p in vl.parameters():
            p.normal_()
    seen = record_encoder_inputs(vl)
    ids = torch.tensor([[101, 11, 12, 13, 102, 0, 0], [101, 21, 102, 31, 32, 33, 102],
                        [101, 41, 42, 102, 0, 0, 0]])
    tt = torch.tensor([[0] * 7, [0, 0, 0, 1, 1, 1, 1], [0] * 7])
    mask = (ids != 0).long()
    feats = torch.randn(3, 3, h)
    valid = torch.tensor([[True, True, True], [True, True, False], [False] * 3])
    masked = torch.tensor([[False, False, True], [False, True, False], [False] * 3])
    with torch.no_grad():  # text_box_index None: every token's visual clue is box 0
        vl(ids, mask, tt, None, feats, valid, masked)
        emb = vl.bert.embeddings
        ours = emb(inputs_embeds=seen['inputs_embeds'], token_type_ids=seen['token_type_ids'],
                   position_ids=seen['position_ids'])

        for i in range(3):
            n_text, n_obj = int(mask[i].sum()), int(valid[i].sum())
            has_img = n_obj > 0
            vis = feats[i, 0] if has_img else vl.aux_text_visual_embedding.weight[0]
            tokens = [emb.word_embeddings.weight[ids[i, j]] + vl.visual_ln_text(vis)
                      for j in range(n_text)]
            for j in range(n_obj):
                ling = (vl.object_mask_word_embedding if masked[i, j]
                        else vl.object_linguistic_embeddings).weight[0]
                tokens.append(ling + vl.visual_ln_object(feats[i, j]))
            tokens.append(vl.end_embedding.weight[0])
            pos = list(range(n_text)) + [n_text] * n_obj + [n_text + 1]
            seg = tt[i, :n_text].tolist() + [2] * (n_obj + 1)
            expect = emb.LayerNorm(torch.stack(tokens)
                                   + emb.position_embeddings.weight[pos]
                                   + emb.token_type_embeddings.weight[seg])
            n = len(tokens)
            torch.testing.assert_close(ours[i, :n], expect, atol=1e-5, rtol=1e-5)
            assert seen['attention_mask'][i].tolist() == [1] * n + [0] * (
                seen['attention_mask'].shape[1] - n)


# ----------------------------------------------------------- MMDetection and HF weights
def _tiny_mmdet_detector():
    """A plain mmdet FasterRCNN from the tiny fixture detector config (random)."""
    import mmdet.models  # noqa: F401
    from mmdet.registry import MODELS as MMDET_MODELS
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    cfg = Config.fromfile(os.path.join(
        ROOT, 'configs/_base_/models/detectors/faster-rcnn_r18-c4_tiny.py'))
    torch.manual_seed(123)
    with DefaultScope.overwrite_default_scope('mmdet'):
        det = MMDET_MODELS.build(cfg.detector)
    det.init_weights()
    with torch.no_grad():
        for p in det.parameters():
            p.add_(torch.randn_like(p))
    return det


def test_mmdet_checkpoint_lands_in_the_detector_via_init_cfg(tmp_path):
    """A model-zoo detector as the configs take it: `detector.init_cfg = Pretrained`
    (a URL works the same; here a local file), applied by init_weights (the Runner
    calls it); the language model is left untouched by that call."""
    from vlbert_e2e.testing import build_tiny_model
    det = _tiny_mmdet_detector()
    path = tmp_path / 'faster_rcnn_tiny.pth'
    torch.save({'meta': {'mmdet_version': '3.3.0'}, 'state_dict': det.state_dict()}, path)
    model = build_tiny_model(detector=dict(
        _tiny_detector_cfg(), init_cfg=dict(type='Pretrained', checkpoint=str(path))))
    before = {k: v.clone() for k, v in model.vl_bert.state_dict().items()}
    model.init_weights()
    sd = model.region_encoder.detector.state_dict()
    for k, v in det.state_dict().items():
        assert torch.equal(sd[k], v), k
    for k, v in model.vl_bert.state_dict().items():
        assert torch.equal(v, before[k]), k


def _tiny_detector_cfg():
    from mmengine.config import Config
    cfg = Config.fromfile(os.path.join(
        ROOT, 'configs/_base_/models/detectors/faster-rcnn_r18-c4_tiny.py'))
    return cfg.detector.to_dict()


def test_hf_bert_keeps_its_segment_rows_through_init_weights(tmp_path):
    """A local HF folder: VLBert's grown 3-row segment table (rows 0, 1 = BERT's, row 2
    = a copy of row 0) survives MMEngine's init_weights, which reaches HF's own."""
    from transformers import BertConfig, BertModel

    from vlbert_e2e.models.vl_bert import VLBert
    bert = BertModel(BertConfig(vocab_size=500, hidden_size=32, num_hidden_layers=1,
                                num_attention_heads=2, intermediate_size=64))
    bert.save_pretrained(tmp_path)
    vl = VLBert(pretrained=str(tmp_path))
    vl.init_weights()
    table = vl.bert.embeddings.token_type_embeddings.weight
    old = bert.embeddings.token_type_embeddings.weight
    assert torch.equal(table[:2], old) and torch.equal(table[2], old[0])
    assert torch.equal(vl.bert.encoder.layer[0].output.dense.weight,
                       bert.encoder.layer[0].output.dense.weight)


def _run_tool(args):
    """The converter as ``__main__`` in this process (no second start-up of torch)."""
    r = run_tools_here({'x': [TOOL] + args})['x']
    return SimpleNamespace(returncode=r['code'], stdout=r['stdout'], stderr=r['stderr'])

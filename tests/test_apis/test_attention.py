"""Attention over regions: same answers with and without it, the SDPA kernel restored,
a hand-made attention map ranked and drawn, rollout by hand, demo.py --show-attention."""
import os

import numpy as np
import pytest
import torch

from vlbert_e2e.apis import VLBertInferencer
from vlbert_e2e.apis.attention import draw_attention, summarize_attention
from vlbert_e2e.models.vl_bert.vl_bert import eager_attention
from vlbert_e2e.structures import VLDataSample
from vlbert_e2e.testing import (
    ROOT,
    batch,
    build_tiny_model,
    make_sample,
    overfit,
    run_tools_here,
)
from vlbert_e2e.visualization import MODES, attention_rollout, display_scale, region_heat

IMG = os.path.join(ROOT, 'tests/data/cc/images/000001.jpg')
ASKS = (('vqa', 'what colour is the circle?', ['[MASK]']),
        ('ground', 'the red circle', ['the', 'red', 'circle']),
        ('fill', 'a [MASK] circle on a grey background', ['[MASK]']))


def _same(a, b):
    """Two results agree: the same answer and detections, scores to rounding."""
    for k in ('answer', 'words', 'detections'):
        assert a.get(k) == b.get(k), k
    for k in ('score', 'box', 'scores'):
        if k in a:
            assert np.allclose(a[k], b[k], atol=2e-4), (k, a[k], b[k])


def test_attention_leaves_answers_and_sdpa_unchanged(tiny_vl_checkpoint):
    inf = VLBertInferencer(*tiny_vl_checkpoint, score_thr=0.0)
    bert = inf.model.vl_bert.bert
    assert bert.config._attn_implementation == 'sdpa'
    for task, text, query in ASKS:
        (plain, ) = inf([IMG], task, text)
        (seen, ) = inf([IMG], task, text, return_attention=True)
        assert bert.config._attn_implementation == 'sdpa'
        att = seen.pop('attention')
        _same(plain, seen)
        assert 'attention' not in plain
        assert att['query_tokens'] == query
        n_roi = len(att['regions'])
        per = torch.tensor(att['per_layer_head'])
        assert per.shape == (2, bert.config.num_attention_heads, n_roi)
        w = torch.tensor([r['weight'] for r in att['regions']])
        assert torch.allclose(w, per.mean((0, 1)), atol=1e-3)
        assert (w >= 0).all() and w.sum() <= 1 + 1e-3
        assert att['regions'][0]['label'] == 'whole image'
        assert att['regions'][att['top_regions'][0]]['weight'] == max(
            r['weight'] for r in att['regions'])
        assert len(att['text_matrix']) == len(att['text_tokens'])
    (det, ) = inf([IMG], 'detect', return_attention=True)  # the detector alone: none
    assert 'attention' not in det


def test_model_attentions_match_the_sdpa_pass_and_restore_on_error():
    model = build_tiny_model().eval()
    data = batch(model, [make_sample(64, 96, boxes=[[4, 4, 40, 40], [50, 10, 90, 60]]),
                         make_sample(64, 80, n_tokens=6, seed=1)], training=False)
    with torch.no_grad():
        plain = model.encode(data['inputs'], data['data_samples'])
        seen = model.encode(data['inputs'], data['data_samples'], output_attentions=True)
    assert plain.seq.attentions is None
    assert torch.allclose(plain.seq.hidden, seen.seq.hidden, atol=1e-5)
    att = torch.stack(seen.seq.attentions, 1)  # (B, L, heads, T, T)
    mask = seen.seq.attention_mask.bool()
    assert torch.allclose(att.sum(-1)[mask[:, None, None].expand_as(att[..., 0])],
                          torch.tensor(1.0), atol=1e-5)
    assert (att[~mask[:, None, None, None, :].expand_as(att)] == 0).all()  # no padded keys
    bert = model.vl_bert.bert
    with pytest.raises(RuntimeError, match='boom'):
        with eager_attention(bert):
            assert bert.config._attn_implementation == 'eager'
            raise RuntimeError('boom')
    assert bert.config._attn_implementation == 'sdpa'


def test_vcr_rows_keep_their_choices_and_the_predicted_one_is_summarised():
    runner, _ = overfit(os.path.join(
        ROOT, 'configs/vcr/vlbert-tiny_faster-rcnn-r18-c4_1xb2-2e_vcr-q2a-fixture.py'),
        'loss_vcr', steps=0, batch_size=2)
    model = runner.model.eval()
    data = model.data_preprocessor(next(iter(runner.train_dataloader)), False)
    with torch.no_grad():
        out = model.predict(data['inputs'], data['data_samples'], output_attentions=True)
    for s in out:
        c = len(s.pred_choice_scores)
        assert s.attentions.shape[:3] == (c, 2, 2) and s.seq_roi_positions.shape[0] == c
        pick = s.pred_choice
        n = s.seq_text_length[pick]
        tokens = [str(i) for i in s.input_ids[pick][:n].tolist()]
        att = summarize_attention(s, 'vcr', tokens, [0])
        pos = s.seq_roi_positions[pick]
        want = s.attentions[pick][:, :, 0, pos].mean((0, 1))
        assert np.allclose([r['weight'] for r in att['regions']], want, atol=1e-4)
        assert pos[0] == n  # RoIs start right after this choice's text


def _hand_made_sample():
    """[CLS] what colour [SEP] [MASK] [SEP] RoI0..RoI3 [END]; 2 layers x 2 heads, every
    row uniform except [MASK]'s, which attends only to RoI 2."""
    text_len, n_roi, mask_pos = 6, 4, 4
    t = text_len + n_roi + 1
    roi_pos = torch.arange(text_len, text_len + n_roi)
    att = torch.full((2, 2, t, t), 1 / t)
    att[:, :, mask_pos] = 0
    att[:, :, mask_pos, roi_pos[2]] = 1
    s = VLDataSample()
    s.attentions, s.seq_roi_positions, s.seq_text_length = att, roi_pos, text_len
    s.seq_roi_boxes = torch.tensor([[0, 0, 127, 95], [4, 4, 36, 36], [70, 40, 120, 90],
                                    [40, 4, 60, 24]], dtype=torch.float32)
    return s, ['[CLS]', 'what', 'colour', '[SEP]', '[MASK]', '[SEP]'], [mask_pos]


def test_mask_attending_only_roi2_is_listed_first_and_drawn_hot():
    s, tokens, query = _hand_made_sample()
    for mode in MODES:
        att = summarize_attention(s, 'vqa', tokens, query, mode)
        assert att['top_regions'][0] == 2, mode
        assert att['query_tokens'] == ['[MASK]']
    att = summarize_attention(s, 'vqa', tokens, query, 'mean')
    assert [r['weight'] for r in att['regions']] == [0.0, 0.0, 1.0, 0.0]
    assert att['per_layer_head'] == [[[0.0, 0.0, 1.0, 0.0]] * 2] * 2
    assert att['regions'][2]['label'] == 'RoI 2'

    heat = region_heat((96, 128), s.seq_roi_boxes.numpy(), np.array([0, 0, 1, 0]))
    assert heat[40:90, 70:120].min() == 1 and heat.sum() == 50 * 50
    grey = np.full((96, 128, 3), 128, np.uint8)
    region_pic, text_pic = draw_attention(att, grey)
    k = display_scale(96, 128)
    assert region_pic.shape[1] == 128 * k and region_pic.shape[0] > 96 * k  # + legend
    r, g, b = region_pic[int(65 * k), int(95 * k)].astype(int)  # centre of RoI 2: hot
    assert r - b > 60 and r - g > 60
    assert (region_pic[int(20 * k), int(20 * k)] == 128).all()  # RoI 1: untouched
    assert text_pic.ndim == 3 and text_pic.shape[2] == 3 and text_pic.std() > 0


def test_rollout_by_hand():
    a1 = torch.tensor([[1.0, 0.0], [1.0, 0.0]])  # + identity, renormalised: [[1, 0], [.5, .5]]
    a2 = torch.tensor([[0.0, 1.0], [0.0, 1.0]])  # -> [[.5, .5], [0, 1]]
    flow = attention_rollout(torch.stack([a1, a2])[:, None])
    assert torch.allclose(flow, torch.tensor([[0.75, 0.25], [0.5, 0.5]]))


def test_demo_show_attention_writes_pictures(tiny_vl_checkpoint, tmp_path):
    cfg, ckpt = tiny_vl_checkpoint
    # tools/demo.py as __main__ in this process (its real start-up: test_inferencer.py)
    r = run_tools_here({'demo': [
        'tools/demo.py', IMG, '--config', cfg, '--checkpoint', ckpt, '--task', 'vqa',
        '--text', 'is there a circle?', '--out-dir', str(tmp_path), '--show-attention',
        '--attention-mode', 'rollout']})['demo']
    assert r['code'] == 0, r['stderr'][-2000:]
    assert "attention of '[MASK]': whole image" in r['stdout'] or \
        "attention of '[MASK]': RoI" in r['stdout'], r['stdout']
    for name in ('000001.jpg', '000001_attention.jpg', '000001_text_attention.png'):
        assert (tmp_path / name).stat().st_size > 0

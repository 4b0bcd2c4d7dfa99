"""VLBert equals transformers' BertModel without vision; geometry embedding values."""
import math

import pytest
import torch
from transformers import BertConfig, BertModel

from vlbert_e2e.models.vl_bert import VLBert, box_geometry_embedding
from vlbert_e2e.testing import record_encoder_inputs


def _text_only_forward(vl, ids, mask, tt):
    b, n = ids.shape
    h = vl.hidden_size
    return vl(ids, mask, tt, None, torch.zeros(b, 1, h),
              torch.zeros(b, 1, dtype=torch.bool), torch.zeros(b, 1, dtype=torch.bool))


def _compare_with_bert(path):
    ref = BertModel.from_pretrained(path, attn_implementation='sdpa').eval()
    vl = VLBert(pretrained=path).eval()
    ids = torch.tensor([[101, 2023, 2003, 1037, 3231, 102], [101, 7592, 102, 0, 0, 0]])
    mask = (ids != 0).long()
    tt = torch.tensor([[0, 0, 0, 0, 1, 1], [0, 0, 0, 0, 0, 0]])
    with torch.no_grad():
        ours = _text_only_forward(vl, ids, mask, tt)
        theirs = ref(input_ids=ids, attention_mask=mask, token_type_ids=tt)
    real = mask.bool()
    torch.testing.assert_close(ours.hidden[real], theirs.last_hidden_state[real],
                               atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ours.pooled, theirs.pooler_output, atol=1e-5, rtol=1e-5)
    return vl


def test_text_only_equals_bertmodel_random_weights(tmp_path):
    cfg = BertConfig(vocab_size=8000, hidden_size=64, num_hidden_layers=2,
                     num_attention_heads=4, intermediate_size=128)
    BertModel(cfg).save_pretrained(tmp_path)
    vl = _compare_with_bert(str(tmp_path))
    # HF names are kept: the BERT part's state dict loads into BertModel unchanged
    sd = {k[len('bert.'):]: v for k, v in vl.state_dict().items() if k.startswith('bert.')}
    missing, unexpected = BertModel(cfg).load_state_dict(
        {k: v for k, v in sd.items() if 'token_type' not in k}, strict=False)
    assert unexpected == [] and missing == ['embeddings.token_type_embeddings.weight']
    assert vl.bert.embeddings.token_type_embeddings.num_embeddings == 3


def test_text_only_equals_bertmodel_real_minilm():
    from vlbert_e2e.utils import resolve_model_path
    _compare_with_bert(resolve_model_path('pkg://minilm-l6'))


def test_sequence_layout_segments_and_positions():
    cfg = dict(vocab_size=200, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
               intermediate_size=64)
    vl = VLBert(config=cfg).eval()
    seen = record_encoder_inputs(vl)
    ids = torch.tensor([[101, 5, 6, 102], [101, 7, 102, 0]])
    mask = (ids != 0).long()
    roi_valid = torch.tensor([[True, True, False], [True, True, True]])
    with torch.no_grad():
        out = vl(ids, mask, None, None, torch.randn(2, 3, 32), roi_valid,
                 torch.zeros(2, 3, dtype=torch.bool))
    # sample 0: 4 text + 2 RoIs + [END] = 7; sample 1: 3 text + 3 RoIs + [END] = 7
    assert seen['token_type_ids'].tolist() == [[0, 0, 0, 0, 2, 2, 2], [0, 0, 0, 2, 2, 2, 2]]
    assert seen['position_ids'].tolist() == [[0, 1, 2, 3, 4, 4, 5], [0, 1, 2, 3, 3, 3, 4]]
    assert seen['attention_mask'].tolist() == [[1] * 7, [1] * 7]
    assert out.roi_pos.tolist() == [[4, 5, -1], [3, 4, 5]]
    end = vl.end_embedding.weight[0]
    assert torch.equal(seen['inputs_embeds'][0, 6], end)


def test_geometry_embedding_hand_computed():
    box = torch.tensor([[10., 20., 50., 80.]])
    wh = torch.tensor([[100., 200.]])
    emb = box_geometry_embedding(box, wh, 'corner', dim=16, wavelength=1000., scale=100.)
    # k = 2 frequencies per coordinate: 1000**(0/2) = 1, 1000**(1/2) = 31.6227...
    coords = [0.1 * 100, 0.1 * 100, 0.5 * 100, 0.4 * 100]
    expect = []
    for c in coords:
        ph = [c / 1.0, c / math.sqrt(1000.)]
        expect += [math.sin(p) for p in ph] + [math.cos(p) for p in ph]
    torch.testing.assert_close(emb[0], torch.tensor(expect), atol=1e-5, rtol=1e-5)
    # original code's variant: centre/size
    emb2 = box_geometry_embedding(box, wh, 'center_size', dim=16)
    c0 = (10 + 50) / 2 / 100 * 100
    assert emb2[0, 0].item() == pytest.approx(math.sin(c0), abs=1e-5)
    assert emb2[0, 2].item() == pytest.approx(math.cos(c0), abs=1e-5)


def test_text_only_equals_robertamodel(tmp_path):
    from transformers import RobertaConfig, RobertaModel
    cfg = RobertaConfig(vocab_size=500, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64,
                        max_position_embeddings=40)
    RobertaModel(cfg).save_pretrained(tmp_path)
    ref = RobertaModel.from_pretrained(tmp_path).eval()
    vl = VLBert(pretrained=str(tmp_path)).eval()
    ids = torch.tensor([[0, 17, 43, 99, 2], [0, 23, 2, 1, 1]])  # 1 = RoBERTa's pad
    mask = (ids != 1).long()
    with torch.no_grad():
        ours = _text_only_forward(vl, ids, mask, torch.zeros_like(ids))
        theirs = ref(input_ids=ids, attention_mask=mask)
    real = mask.bool()
    torch.testing.assert_close(ours.hidden[real], theirs.last_hidden_state[real],
                               atol=1e-5, rtol=1e-5)


def test_visual_gain_pair_sets_text_and_object_layernorms_apart():
    """A text gain of 0 leaves the text tokens exactly the language model's while the
    RoI tokens already carry their features."""
    cfg = dict(model_type='bert', vocab_size=100, hidden_size=32, num_hidden_layers=1,
               num_attention_heads=2, intermediate_size=64)
    vl = VLBert(config=cfg, visual_ln_init_gain=(0.0, 0.5)).eval()
    assert vl.visual_ln_text.weight.eq(0).all() and vl.visual_ln_object.weight.eq(0.5).all()
    ids, mask = torch.tensor([[1, 5, 6, 2]]), torch.ones(1, 4, dtype=torch.long)
    valid, masked = torch.ones(1, 2, dtype=torch.bool), torch.zeros(1, 2, dtype=torch.bool)
    roi = torch.randn(1, 2, 32)
    clue_1 = torch.ones(1, 4, dtype=torch.long)  # every token's visual clue: RoI 1
    with torch.no_grad():
        a = vl(ids, mask, None, None, roi, valid, masked)  # clue: RoI 0
        b = vl(ids, mask, None, clue_1, roi, valid, masked)
        c = vl(ids, mask, None, None, torch.randn(1, 2, 32), valid, masked)
    torch.testing.assert_close(a.hidden, b.hidden)  # the text's visual clue is silent
    assert not torch.allclose(a.hidden, c.hidden)  # the RoIs are not


def test_object_tags_mix_class_name_embeddings_by_detector_probability():
    """A RoI's linguistic embedding is the detector's class distribution over the
    word embeddings of the class names (background: [IMG]); box 0 keeps [IMG]."""
    from vlbert_e2e.models.vl_bert.object_tags import ObjectTagEmbedding
    tags = ObjectTagEmbedding(['circle', 'traffic light'], tokenizer='pkg://minilm-l6')
    words = torch.nn.Embedding(30522, 8)
    img = torch.randn(8)
    ids = tags.ids.tolist()
    circle = words.weight[ids[0][0]]
    light = words.weight[[i for i in ids[1] if i]].mean(0)  # two word pieces: their mean
    prob = torch.tensor([[1., 0., 0.], [0.5, 0.25, 0.25], [0.2, 0.3, 0.5]])
    out = tags(prob, words, img, torch.tensor([False, False, True]))
    torch.testing.assert_close(out[0], circle)
    torch.testing.assert_close(out[1], 0.5 * circle + 0.25 * light + 0.25 * img)
    torch.testing.assert_close(out[2], img)


def test_object_tag_dropout_replaces_tags_by_img_in_training_only():
    """drop_prob: in training about that share of RoIs get [IMG] instead of their tag;
    in eval every RoI keeps its tag; a probability outside [0, 1) is refused."""
    from vlbert_e2e.models.vl_bert.object_tags import ObjectTagEmbedding
    tags = ObjectTagEmbedding(['circle', 'square'], tokenizer='pkg://minilm-l6', drop_prob=0.5)
    words = torch.nn.Embedding(30522, 8)
    img = torch.randn(8)
    prob = torch.tensor([[1., 0., 0.]]).repeat(2000, 1)  # every RoI: surely a circle
    circle = words.weight[tags.ids[0, 0]]
    torch.manual_seed(0)
    out = tags.train()(prob, words, img)
    is_img = torch.isclose(out, img.expand_as(out)).all(1)
    assert 0.45 < is_img.float().mean() < 0.55
    torch.testing.assert_close(out[~is_img], circle.expand(int((~is_img).sum()), -1))
    assert torch.equal(tags.eval()(prob, words, img), circle.expand(2000, -1))
    with pytest.raises(ValueError, match='drop_prob'):
        ObjectTagEmbedding(['circle'], tokenizer='pkg://minilm-l6', drop_prob=1.0)

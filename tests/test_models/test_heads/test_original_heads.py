"""Fine-tuned original checkpoints keep their task heads: VQA's "mlm" classifier, VCR's
"1fc", RefCOCO+'s MVRC-transform classifier; fp16 (apex O2) tensors become float32.

The original's layouts are built by ``vlbert_e2e.testing.original_checkpoint`` from its public
code (jackroos/VL-BERT: vqa/, vcr/, refcoco/modules/resnet_vlbert_for_*.py)."""
import math
import os

import pytest
import torch

from vlbert_e2e.models.original_checkpoint import (
    ConversionError,
    convert_original,
    find_head_prefixes,
)
from vlbert_e2e.testing import (
    REL_HEAD,
    ROOT,
    TINY_OPTIONS,
    run_tools_here,
    tiny_original_state_dict,
)
from vlbert_e2e.testing import build_model_from_cfg as _build

CONFIGS = os.path.join(ROOT, 'configs')
PREC_VQA = os.path.join(CONFIGS, 'vqa/vlbert-tiny-prec_region-features_1xb2-2e_vqa-fixture.py')
TINY_VCR = os.path.join(CONFIGS, 'vcr/vlbert-tiny_faster-rcnn-r18-c4_1xb2-2e_vcr-q2a-fixture.py')
CONVERTER = os.path.join(ROOT, 'tools/model_converters/vlbert_original_to_mmengine.py')
TINY_REF = os.path.join(CONFIGS,
                        'refcoco/vlbert-tiny_faster-rcnn-r18-c4_1xb4-2e_refcoco-fixture.py')


def finetuned_vqa(**kw):
    """A fine-tuned ``-prec`` VQA checkpoint (cfgs/vqa: IMAGE_FEAT_PRECOMPUTED, "mlm"
    classifier, ``with_pooler: false``) at the tiny fixture size, 4 answers."""
    return tiny_original_state_dict(prec=True, feature_dim=2048, task_head='vqa_mlm',
                                     num_answers=4, with_pooler=False, with_rel_head=False,
                                     **kw)


def _convert(src, model):
    conv = convert_original(src, model.state_dict(), find_head_prefixes(model))
    result = model.load_state_dict(conv.state_dict, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    return conv


def _gelu_erf(x):
    return x * 0.5 * (1 + torch.erf(x / math.sqrt(2)))


def _prec_vqa_batch(model):
    """Three questions of the VQA fixture through the config's own .npz pipeline
    (image 3 has 0 boxes)."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    import vlbert_e2e.datasets  # noqa: F401
    from vlbert_e2e.registry import DATASETS
    cfg = Config.fromfile(PREC_VQA)
    with DefaultScope.overwrite_default_scope('vlbert_e2e'):
        ds = DATASETS.build(cfg.val_dataloader.dataset)
    data = [ds[i] for i in (0, 3, 5)]
    return model.data_preprocessor(dict(inputs=[d['inputs'] for d in data],
                                        data_samples=[d['data_samples'] for d in data]))


def test_finetuned_vqa_mlm_head_loads_strict_and_gives_the_hand_computed_logits():
    src = finetuned_vqa()
    model = _build(PREC_VQA).eval()
    conv = _convert(src, model)
    assert conv.unplaced == []
    assert set(conv.left_at_init) == {  # what a fine-tuned VQA model does not have
        'vl_bert.bert.pooler.dense.weight', 'vl_bert.bert.pooler.dense.bias',
        'vl_bert.aux_text_visual_embedding.weight', 'vl_bert.object_mask_word_embedding.weight',
        'region_encoder.object_mask_visual_embedding.weight'}
    batch = _prec_vqa_batch(model)
    samples = batch['data_samples']
    with torch.no_grad():
        out = model.encode(batch['inputs'], samples)
        logits = model.heads['vqa']._logits(out, samples, [0, 1, 2])
        pos = [int(s.answer_position) for s in samples]
        h = out.seq.hidden[torch.arange(3), pos].double()

        def w(k):
            return src[f'module.final_mlp.{k}'].double()
        # BertPredictionHeadTransform (dense, GELU, BertLayerNorm eps 1e-12) -> Linear
        x = _gelu_erf(h @ w('0.dense.weight').T + w('0.dense.bias'))
        mu, var = x.mean(-1, keepdim=True), x.var(-1, unbiased=False, keepdim=True)
        x = (x - mu) / torch.sqrt(var + 1e-12) * w('0.LayerNorm.weight') + w('0.LayerNorm.bias')
        expect = x @ w('2.weight').T + w('2.bias')
        torch.testing.assert_close(logits.double(), expect, rtol=1e-5, atol=1e-4)
        model.predict(batch['inputs'], samples)
    assert [s.pred_answer_index for s in samples] == expect.argmax(-1).tolist()


def test_fp16_checkpoint_becomes_float32_and_loads(tmp_path):
    """apex O2 saves fp16 weights: the converter writes them as float32 (values equal),
    through the tool too."""
    src = {k: v.half() if v.is_floating_point() else v for k, v in finetuned_vqa().items()}
    model = _build(PREC_VQA)
    conv = _convert(src, model)
    assert any('float16 tensors converted to float32' in n for n in conv.notes)
    for t, s in conv.placed.items():
        assert conv.state_dict[t].dtype == torch.float32, t
        assert torch.equal(conv.state_dict[t], src['module.' + s].float()), t

    path, out = tmp_path / 'vqa-fp16.model', tmp_path / 'vqa.pth'
    torch.save({'state_dict': src}, path)
    # the converter CLI in this process (its real start-up: test_vlbert_original.py)
    r = run_tools_here({'convert': [CONVERTER, str(path), str(out), '--config', PREC_VQA]})
    r = r['convert']
    assert r['code'] == 0, r['stderr'][-3000:]
    assert 'checkpoint keys not placed (0):' in r['stdout']
    sd = torch.load(out, map_location='cpu', weights_only=True)['state_dict']
    assert all(v.dtype == torch.float32 for v in sd.values() if v.is_floating_point())
    _build(PREC_VQA).load_state_dict(sd, strict=True)


def test_pretraining_prec_checkpoint_initialises_the_mlm_classifier():
    """vl-bert-*-prec.model into the -prec VQA config: the MLM transform goes to the
    classifier (the original's PARTIAL_PRETRAIN_PREFIX_CHANGES), the masked-RoI feature
    embedding to the region encoder."""
    src = tiny_original_state_dict(prec=True, feature_dim=2048)
    model = _build(PREC_VQA)
    conv = _convert(src, model)
    sd = model.state_dict()
    for ours, theirs in (('heads.vqa.final_mlp.0.dense.weight',
                          'vlbert.mlm_head.predictions.transform.dense.weight'),
                         ('heads.vqa.final_mlp.0.LayerNorm.bias',
                          'vlbert.mlm_head.predictions.transform.LayerNorm.bias'),
                         ('region_encoder.object_mask_visual_embedding.weight',
                          'object_mask_visual_embedding.weight')):
        assert torch.equal(sd[ours], src['module.' + theirs]), ours
    assert set(conv.left_at_init) == {'heads.vqa.final_mlp.2.weight',
                                      'heads.vqa.final_mlp.2.bias'}
    assert {k.rsplit('.', 1)[0] for k in conv.unplaced} == {
        'vlbert.mlm_head.predictions', 'vlbert.mlm_head.predictions.decoder',
        'vlbert.mvrc_head.transform.dense', 'vlbert.mvrc_head.region_cls_pred',
        REL_HEAD.rsplit('.', 1)[0]}


def test_classifier_type_mismatch_is_one_line_naming_the_key():
    model = _build(PREC_VQA, {'model.heads.vqa.classifier_type': '2fc'})
    with pytest.raises(ConversionError, match=(
            r"^'final_mlp\.0\.dense\.weight' has no place in the model: no key "
            r"'heads\.vqa\.final_mlp\.0\.dense\.weight' \(the head's classifier_type "
            r"differs from the original's\?\)$")):
        convert_original(finetuned_vqa(), model.state_dict(), find_head_prefixes(model))


def test_finetuned_vcr_checkpoint_loads_strict():
    """VCR: vlbert wrapped in TimeDistributed (``vlbert._module.``), the pooled [CLS]
    classifier "1fc" ``final_mlp.1``; its CNN_LOSS_TOP regulariser has no place here."""
    src = tiny_original_state_dict(task_head='vcr', with_rel_head=False)
    model = _build(TINY_VCR, TINY_OPTIONS)
    conv = _convert(src, model)
    assert sorted(conv.unplaced) == sorted(k[len('module.'):] for k in src
                                           if k.startswith('module.cnn_loss_reg.'))
    sd = model.state_dict()
    assert torch.equal(sd['heads.vcr.final_mlp.1.weight'], src['module.final_mlp.1.weight'])
    assert torch.equal(sd['vl_bert.bert.encoder.layer.1.output.dense.weight'],
                       src['module.vlbert._module.encoder.layer.1.output.dense.weight'])
    assert torch.equal(sd['vl_bert.bert.pooler.dense.bias'],
                       src['module.vlbert._module.pooler.dense.bias'])


def test_finetuned_refcoco_checkpoint_loads_strict_and_scores_by_hand():
    """RefCOCO+: final_mlp = (MVRC transform: dense + GELU, Dropout, Linear(H, 1)),
    ``GroundingHead(classifier_type='mvrc')``."""
    src = tiny_original_state_dict(task_head='refcoco', with_rel_head=False, with_pooler=False)
    model = _build(TINY_REF, dict(TINY_OPTIONS, **{'model.heads.ground.classifier_type': 'mvrc'}))
    conv = _convert(src, model)
    assert conv.unplaced == []
    x = torch.randn(5, 64, dtype=torch.float64)

    def w(k):
        return src[f'module.final_mlp.{k}'].double()
    expect = _gelu_erf(x @ w('0.dense.weight').T + w('0.dense.bias')) @ w('2.weight').T \
        + w('2.bias')
    with torch.no_grad():
        got = model.heads['ground'].final_mlp.eval().double()(x)
    torch.testing.assert_close(got, expect)


def test_vqa_mlm_head_initialises_from_a_hf_bert_mlm_transform(tmp_path):
    """``VQAHead(classifier_type='mlm', pretrained=...)``: BERT's cls.predictions.transform,
    as the original's CLASSIFIER_PRETRAINED."""
    from transformers import BertConfig, BertForPreTraining

    from vlbert_e2e.models.heads import VQAHead
    from vlbert_e2e.models.vl_bert import VLBert
    bert_cfg = dict(vocab_size=300, hidden_size=32, num_hidden_layers=1,
                    num_attention_heads=2, intermediate_size=64)
    bert = BertForPreTraining(BertConfig(**bert_cfg))
    bert.save_pretrained(tmp_path)
    vl = VLBert(config=bert_cfg).bert.config
    head = VQAHead(num_answers=7, classifier_type='mlm', pretrained=str(tmp_path),
                   hidden_size=vl.hidden_size, hidden_act=vl.hidden_act,
                   layer_norm_eps=vl.layer_norm_eps)
    t = bert.cls.predictions.transform
    assert torch.equal(head.final_mlp[0].dense.weight, t.dense.weight)
    assert torch.equal(head.final_mlp[0].LayerNorm.bias, t.LayerNorm.bias)
    assert head.final_mlp[2].out_features == 7
    with pytest.raises(ValueError, match="needs classifier_type='mlm'"):
        VQAHead(num_answers=7, pretrained=str(tmp_path))

"""Checkpoints in the original VL-BERT's key layout (random values), for converter tests.

The original's key layout and formulas are written here from its public code
(jackroos/VL-BERT: common/fast_rcnn.py, common/visual_linguistic_bert.py,
common/utils/bbox.py), independently of the converter's table.
"""
import torch

REL_HEAD = 'vlbert.relationsip_head.caption_image_relationship.weight'  # sic, original

def _bn(sd, name, c, g):
    sd[f'{name}.weight'] = torch.randn(c, generator=g)
    sd[f'{name}.bias'] = torch.randn(c, generator=g)
    sd[f'{name}.running_mean'] = torch.randn(c, generator=g)
    sd[f'{name}.running_var'] = torch.rand(c, generator=g) + 0.5
    sd[f'{name}.num_batches_tracked'] = torch.randint(1, 1000, (), generator=g)


def _res_layer(sd, prefix, inplanes, planes, blocks, stride, bottleneck, g):
    """torchvision's ``_make_layer`` names (Bottleneck: conv1..3; BasicBlock: conv1..2)."""
    exp = 4 if bottleneck else 1
    for j in range(blocks):
        p = f'{prefix}.{j}'
        cin = inplanes if j == 0 else planes * exp
        if bottleneck:
            convs = [(cin, planes, 1), (planes, planes, 3), (planes, planes * 4, 1)]
        else:
            convs = [(cin, planes, 3), (planes, planes, 3)]
        for i, (ci, co, k) in enumerate(convs, 1):
            sd[f'{p}.conv{i}.weight'] = torch.randn(co, ci, k, k, generator=g)
            _bn(sd, f'{p}.bn{i}', co, g)
        if j == 0 and (stride != 1 or cin != planes * exp):
            sd[f'{p}.downsample.0.weight'] = torch.randn(planes * exp, cin, 1, 1, generator=g)
            _bn(sd, f'{p}.downsample.1', planes * exp, g)
    return planes * exp


def _resnet_c4(sd, fe, blocks, bottleneck, g) -> None:
    """The original's ResNet: stem, res2-res4 as ``backbone``, and the dilated res5
    stored twice (``roi_head_feature_extractor`` and ``head.0``, one module)."""
    sd[f'{fe}.backbone.conv1.weight'] = torch.randn(64, 3, 7, 7, generator=g)
    _bn(sd, f'{fe}.backbone.bn1', 64, g)
    c = 64
    for i, (planes, stride) in enumerate(((64, 1), (128, 2), (256, 2))):
        c = _res_layer(sd, f'{fe}.backbone.layer{i + 1}', c, planes, blocks[i], stride,
                       bottleneck, g)
    res5 = {}
    _res_layer(res5, 'x', c, 512, blocks[3], 1, bottleneck, g)  # dilated: stride 1
    for k, v in res5.items():  # the same module twice: res5 and head.0
        sd[f'{fe}.roi_head_feature_extractor{k[1:]}'] = v
        sd[f'{fe}.head.0{k[1:]}'] = v


def _bert_layer(p, lin, ln, hidden, inter) -> None:
    """One BERT encoder layer's keys under prefix ``p``."""
    for x in ('query', 'key', 'value'):
        lin(f'{p}.attention.self.{x}', hidden, hidden)
    lin(f'{p}.attention.output.dense', hidden, hidden)
    ln(f'{p}.attention.output.LayerNorm')
    lin(f'{p}.intermediate.dense', inter, hidden)
    lin(f'{p}.output.dense', hidden, inter)
    ln(f'{p}.output.LayerNorm')


def original_state_dict(hidden=768, layers=12, vocab=30522, inter=3072, max_pos=512,
                        blocks=(3, 4, 23, 3), bottleneck=True, mvrc_classes=1601,
                        prec=False, with_pooler=False, with_rel_head=False, seed=0,
                        feature_dim=None, task_head=None, num_answers=3129):
    """A state dict with the original's key layout and shapes (random values), as
    ``torch.save``d by the original: DDP's ``module.`` prefix on every key. Defaults:
    the released pretraining checkpoints (cfgs/pretrain/*.yaml: ``with_pooler: false``,
    ``WITH_REL_LOSS: false``, MLM + MVRC heads, text-only corpus); ``prec``: features
    were precomputed, so no CNN but a masked-RoI feature embedding (of ``feature_dim``).
    ``task_head``: a fine-tuned model instead (``'vqa_mlm'``, ``'vcr'``, ``'refcoco'``,
    see :func:`_task_head`): its head, no pretraining heads."""
    g = torch.Generator().manual_seed(seed)
    sd = {}
    fe = 'image_feature_extractor'
    pretrain = task_head is None
    if not prec:
        _resnet_c4(sd, fe, blocks, bottleneck, g)
    app = feature_dim or (2048 if bottleneck else 512)
    if prec and pretrain:
        sd['object_mask_visual_embedding.weight'] = torch.randn(1, app, generator=g)
    sd[f'{fe}.obj_downsample.1.weight'] = torch.randn(hidden, 2048 + app, generator=g)
    sd[f'{fe}.obj_downsample.1.bias'] = torch.randn(hidden, generator=g)
    for k in ('object_linguistic_embeddings', 'object_mask_word_embedding',
              'aux_text_visual_embedding')[:3 if pretrain else 1]:
        sd[f'{k}.weight'] = torch.randn(1, hidden, generator=g)
    v = 'vlbert._module' if task_head == 'vcr' else 'vlbert'  # VCR's TimeDistributed
    sd[f'{v}.word_embeddings.weight'] = torch.randn(vocab, hidden, generator=g)
    sd[f'{v}.end_embedding.weight'] = torch.randn(1, hidden, generator=g)
    sd[f'{v}.position_embeddings.weight'] = torch.randn(max_pos, hidden, generator=g)
    sd[f'{v}.token_type_embeddings.weight'] = torch.randn(3, hidden, generator=g)

    def lin(name, o, i):
        sd[f'{name}.weight'] = torch.randn(o, i, generator=g)
        sd[f'{name}.bias'] = torch.randn(o, generator=g)

    def ln(name):
        sd[f'{name}.weight'] = torch.randn(hidden, generator=g)
        sd[f'{name}.bias'] = torch.randn(hidden, generator=g)

    for name in ('embedding_LayerNorm', 'visual_ln_text', 'visual_ln_object'):
        ln(f'{v}.{name}')
    for n in range(layers):
        _bert_layer(f'{v}.encoder.layer.{n}', lin, ln, hidden, inter)
    if with_pooler:
        lin(f'{v}.pooler.dense', hidden, hidden)
    if pretrain:
        lin(f'{v}.mlm_head.predictions.transform.dense', hidden, hidden)
        ln(f'{v}.mlm_head.predictions.transform.LayerNorm')
        sd[f'{v}.mlm_head.predictions.decoder.weight'] = sd[f'{v}.word_embeddings.weight']
        sd[f'{v}.mlm_head.predictions.bias'] = torch.randn(vocab, generator=g)
        lin(f'{v}.mvrc_head.transform.dense', hidden, hidden)
        lin(f'{v}.mvrc_head.region_cls_pred', mvrc_classes, hidden)
    else:
        _task_head(task_head, lin, ln, hidden, num_answers)
    if with_rel_head:  # a head ours does not have
        sd[REL_HEAD] = torch.randn(2, hidden, generator=g)
    return {f'module.{k}': t for k, t in sd.items()}


def _task_head(kind, lin, ln, hidden, num_answers):
    """The ``final_mlp`` of vqa/, vcr/ and refcoco/modules/resnet_vlbert_for_*.py:
    VQA "mlm" = Sequential(BertPredictionHeadTransform(dense, LayerNorm), Dropout,
    Linear(H, answers)); VCR "1fc" = Sequential(Dropout, Linear(H, 1)) plus its
    CNN_LOSS_TOP regulariser ``cnn_loss_reg`` (MVRC transform, Dropout, Linear(H, 81));
    RefCOCO+ = Sequential(MVRC transform (dense), Dropout, Linear(H, 1))."""
    if kind == 'vqa_mlm':
        lin('final_mlp.0.dense', hidden, hidden)
        ln('final_mlp.0.LayerNorm')
        lin('final_mlp.2', num_answers, hidden)
    elif kind == 'vcr':
        lin('final_mlp.1', 1, hidden)
        lin('cnn_loss_reg.0.dense', hidden, hidden)
        lin('cnn_loss_reg.2', 81, hidden)
    elif kind == 'refcoco':
        lin('final_mlp.0.dense', hidden, hidden)
        lin('final_mlp.2', 1, hidden)
    else:
        raise ValueError(kind)


def tiny_original_state_dict(**kw):
    """The original layout at the size of the tiny fixture config (R18 C4, BERT 64x2)."""
    kw = dict(dict(with_pooler=True, with_rel_head=True), **kw)
    return original_state_dict(hidden=64, layers=2, inter=128, max_pos=128,
                               blocks=(2, 2, 2, 2), bottleneck=False, mvrc_classes=9, **kw)


# the tiny fixture config embeds geometry in 256 values; the original always in 2048
TINY_OPTIONS = {'model.visual_embedding.geometry_dim': 2048}

"""Map a checkpoint of the original VL-BERT (jackroos/VL-BERT) onto this project's model.

It lives with the models because it knows their parameter names and head classes
(``utils/`` never imports ``models/``, docs/architecture.md).

The original saves ``{'state_dict': ..., 'optimizer': ...}`` with DistributedDataParallel's
``module.`` prefix. Every one of its parameters maps onto ours by a *prefix rename*
(:data:`RULES`); nothing is transposed or reordered:

- the ResNet (torchvision names, Caffe style, stride in the 1x1 conv) is mmdet's
  ``ResNet(style='caffe')``, whose parameter names are torchvision's;
- res5 (``roi_head_feature_extractor``, the same module again under ``head.0``) is the
  mmdet ``ResLayer`` shared head of the C4 detector (``layer4``);
- ``obj_downsample.1`` is our :class:`VisualFeatureEmbedding` ``fc``: both take
  ``[geometry 2048 ; appearance 2048]``, geometry first, coordinate-major
  ``[sin(256), cos(256)]`` per coordinate, so the weight columns line up as they are;
- the BERT under ``vlbert.`` uses the names of Hugging Face's ``BertModel``.

Only the MVRC classifier may be reordered on request (``mvrc_background='last'``): the
original's 1601 classes are the Visual Genome detector's, background first, while an
mmdet detector (our ``need_cls_dist`` targets) puts background last.

Fine-tuned checkpoints keep their task head ``final_mlp`` (VQA, VCR, RefCOCO+): it lands
in the model's one task head, whose ``classifier_type`` must be the original's
(``VQAHead(classifier_type='mlm')`` for the released VQA models,
``GroundingHead(classifier_type='mvrc')`` for RefCOCO+, ``VCRHead`` for VCR's "1fc").
A pretraining checkpoint converted into such a model initialises that head's transform
from the pretraining MLM / MVRC transform, as the original's
``PARTIAL_PRETRAIN_PREFIX_CHANGES`` do. VCR's ``TimeDistributed`` wrapper
(``vlbert._module.``) is read as ``vlbert.``; fp16 tensors (apex O2) become float32.
"""
import re
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional

import torch
from torch import Tensor

from vlbert_e2e.utils.safe_load import load_checkpoint_file

from .heads import GroundingHead, MLMHead, MVRCHead, VCRHead, VQAHead


class ConversionError(ValueError):
    """A key the conversion needs is missing, or a tensor does not fit (one line)."""


@dataclass(frozen=True)
class Rule:
    """``source`` prefix (original, after ``module.``) -> ``target`` prefix (ours).

    ``{tag}`` in ``target`` stands for the prefix (``heads.<name>.``) of the model's head
    of that kind (:func:`find_head_prefixes`); a model without one has no such part.
    ``required``: a checkpoint without any key of this part is refused. A part present
    in the checkpoint must be complete (every target key under ``target`` gets a
    tensor) or the conversion fails. ``fallback_of``: the rule applies only to a
    checkpoint without any key under that prefix.
    """
    part: str
    source: str
    target: str
    required: bool
    fallback_of: Optional[str] = None


RULES = (
    # visual part (absent from *-prec checkpoints, which read precomputed features)
    Rule('backbone', 'image_feature_extractor.backbone.',
         'region_encoder.detector.backbone.', False),
    Rule('res5', 'image_feature_extractor.roi_head_feature_extractor.',
         'region_encoder.detector.roi_head.shared_head.layer4.', False),
    Rule('obj_downsample', 'image_feature_extractor.obj_downsample.1.',
         'visual_embedding.fc.', True),
    # the [IMG] embedding, the masked-RoI word embedding (MVRC), the text-only visual
    Rule('object_linguistic_embeddings', 'object_linguistic_embeddings.',
         'vl_bert.object_linguistic_embeddings.', True),
    Rule('object_mask_word_embedding', 'object_mask_word_embedding.',
         'vl_bert.object_mask_word_embedding.', False),
    Rule('aux_text_visual_embedding', 'aux_text_visual_embedding.',
         'vl_bert.aux_text_visual_embedding.', False),
    # the BERT
    Rule('word_embeddings', 'vlbert.word_embeddings.',
         'vl_bert.bert.embeddings.word_embeddings.', True),
    Rule('position_embeddings', 'vlbert.position_embeddings.',
         'vl_bert.bert.embeddings.position_embeddings.', True),
    Rule('token_type_embeddings', 'vlbert.token_type_embeddings.',
         'vl_bert.bert.embeddings.token_type_embeddings.', True),
    Rule('embedding_LayerNorm', 'vlbert.embedding_LayerNorm.',
         'vl_bert.bert.embeddings.LayerNorm.', True),
    Rule('end_embedding', 'vlbert.end_embedding.', 'vl_bert.end_embedding.', True),
    Rule('visual_ln_text', 'vlbert.visual_ln_text.', 'vl_bert.visual_ln_text.', True),
    Rule('visual_ln_object', 'vlbert.visual_ln_object.', 'vl_bert.visual_ln_object.', True),
    Rule('encoder', 'vlbert.encoder.', 'vl_bert.bert.encoder.', True),
    Rule('pooler', 'vlbert.pooler.', 'vl_bert.bert.pooler.', False),
    # pretraining heads
    Rule('mlm_head', 'vlbert.mlm_head.predictions.', '{mlm}predictions.', False),
    Rule('mvrc_head', 'vlbert.mvrc_head.', '{mvrc}', False),
    # *-prec: the feature of a masked RoI (MVRC)
    Rule('object_mask_visual_embedding', 'object_mask_visual_embedding.',
         'region_encoder.object_mask_visual_embedding.', False),
    # fine-tuned task heads (vqa/, vcr/, refcoco/modules/resnet_vlbert_for_*.py)
    Rule('task_head', 'final_mlp.', '{task}final_mlp.', False),
    # a pretraining checkpoint into a fine-tuning model (cfgs/vqa, cfgs/refcoco:
    # PARTIAL_PRETRAIN_PREFIX_CHANGES "vlbert.{mlm,mvrc}_head...transform->final_mlp.0")
    Rule('vqa_head_from_mlm_transform', 'vlbert.mlm_head.predictions.transform.',
         '{vqa_mlm}final_mlp.0.', False, fallback_of='final_mlp.'),
    Rule('grounding_head_from_mvrc_transform', 'vlbert.mvrc_head.transform.',
         '{ground_mvrc}final_mlp.0.', False, fallback_of='final_mlp.'),
)
TAG = re.compile(r'\{(\w+)\}')

# res5 is registered twice in the original (``head = Sequential(res5, AvgPool, Flatten)``).
DUPLICATE_PREFIXES = {'image_feature_extractor.head.0.':
                      'image_feature_extractor.roi_head_feature_extractor.'}
# the MLM decoder is tied to the word embeddings, in the original and in ours
TIED = {'vlbert.mlm_head.predictions.decoder.weight': 'vlbert.word_embeddings.weight'}
# keys a checkpoint may lack without harm (BatchNorm's counter; the tied decoder)
OPTIONAL_KEY = re.compile(r'(\.num_batches_tracked|predictions\.decoder\.weight)$')
MVRC_CLASSIFIER = 'vlbert.mvrc_head.region_cls_pred.'
DETECTOR_PREFIX = 'region_encoder.detector.'


@dataclass
class Conversion:
    """Result of :func:`convert_original`."""
    state_dict: Dict[str, Tensor]          # every key of the target model
    placed: Dict[str, str]                 # target key -> source key ('detector:' + key)
    unplaced: List[str] = field(default_factory=list)      # source keys with no place
    left_at_init: List[str] = field(default_factory=list)  # target keys not converted
    notes: List[str] = field(default_factory=list)


def strip_module_prefix(sd: Mapping[str, Tensor]) -> Dict[str, Tensor]:
    """``sd`` with DDP's leading ``module.`` removed from every key that has it."""
    return {k[len('module.'):] if k.startswith('module.') else k: v for k, v in sd.items()}


# top-level names of this project's state dict (a converted or trained checkpoint)
OUR_PREFIXES = ('vl_bert.', 'region_encoder.', 'visual_embedding.')


def normalize_original_keys(sd: Mapping[str, Tensor]) -> Dict[str, Tensor]:
    """DDP's ``module.`` removed; VCR's ``TimeDistributed`` ``vlbert._module.`` read as
    ``vlbert.``."""
    wrapped = 'vlbert._module.'
    return {('vlbert.' + k[len(wrapped):]) if k.startswith(wrapped) else k: v
            for k, v in strip_module_prefix(sd).items()}


def load_original_checkpoint(path: str) -> Dict[str, Tensor]:
    """The ``state_dict`` of an original checkpoint (read by
    :func:`~vlbert_e2e.utils.load_checkpoint_file`, which raises ``CheckpointError``),
    keys normalised (:func:`normalize_original_keys`). A bare state dict is accepted.

    Raises:
        ConversionError: no state dict of tensors; a checkpoint already in this
            project's layout (``vl_bert.*``, ``region_encoder.*``: nothing to convert);
            no ``vlbert.*`` key (not an original VL-BERT checkpoint).
    """
    ckpt = load_checkpoint_file(path)
    sd = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(sd, dict) or not all(torch.is_tensor(v) for v in sd.values()):
        raise ConversionError(f'{path} holds no state dict of tensors')
    sd = normalize_original_keys(sd)
    if any(k.startswith(OUR_PREFIXES) for k in sd):
        raise ConversionError(
            f'{path} is already in vlbert_e2e\'s layout (vl_bert.*, region_encoder.*): '
            'nothing to convert; load it directly (load_from / --checkpoint)')
    if not any(k.startswith('vlbert.') for k in sd):
        raise ConversionError(f'{path} has no vlbert.* key: not an original VL-BERT '
                              f'checkpoint (first keys: {", ".join(list(sd)[:3])})')
    return sd


def find_head_prefixes(model) -> Dict[str, str]:
    """``{kind: 'heads.<name>.'}`` for the heads the model has: ``mlm``, ``mvrc``, and its
    task head ``task`` (a :class:`VQAHead`, :class:`VCRHead` or :class:`GroundingHead`),
    also as ``vqa_mlm`` / ``ground_mvrc`` when it has the original's classifier type.

    Raises:
        ConversionError: two heads of one kind (the checkpoint's head is ambiguous).
    """
    kinds = (('mlm', MLMHead), ('mvrc', MVRCHead), ('task', (VQAHead, VCRHead, GroundingHead)))
    out = {}
    for name, head in getattr(model, 'heads', {}).items():
        for kind, cls in kinds:
            if isinstance(head, cls):
                if kind in out:
                    raise ConversionError(f'the model has two {kind} heads '
                                          f'({out[kind]!r} and heads.{name}.)')
                out[kind] = f'heads.{name}.'
        ctype = getattr(head, 'classifier_type', None)
        if (isinstance(head, VQAHead) and ctype == 'mlm') or (
                isinstance(head, GroundingHead) and ctype == 'mvrc'):
            out['vqa_mlm' if ctype == 'mlm' else 'ground_mvrc'] = f'heads.{name}.'
    return out


def _shape(t: Tensor) -> str:
    return str(list(t.shape))


def _dedupe_res5(src: Dict[str, Tensor], notes: List[str]) -> Dict[str, Tensor]:
    src = dict(src)
    for dup, canon in DUPLICATE_PREFIXES.items():
        keys = [k for k in src if k.startswith(dup)]
        if not keys:
            continue
        for k in keys:
            c = canon + k[len(dup):]
            v = src.pop(k)
            if c not in src:
                src[c] = v  # only the duplicate was saved: use it
            elif src[c].shape != v.shape or not torch.equal(src[c], v):
                raise ConversionError(f"'{k}' differs from '{c}' (the same res5 module "
                                      'in the original): the checkpoint is inconsistent')
        notes.append(f'{dup}* ({len(keys)} tensors) equal {canon}*; used once')
    return src


def _resolve(rule: Rule, heads: Mapping[str, str]) -> Optional[str]:
    """The target prefix of ``rule``, ``None`` when the model has no such head."""
    m = TAG.search(rule.target)
    if m is None:
        return rule.target
    return rule.target.replace(m.group(0), heads[m.group(1)]) if m.group(1) in heads else None


def _as_float32(src: Dict[str, Tensor], notes: List[str]) -> Dict[str, Tensor]:
    """The model is float32: fp16 / bf16 / fp64 tensors (apex O2 saves fp16) converted."""
    other = [k for k, v in src.items() if v.is_floating_point() and v.dtype != torch.float32]
    if other:
        kinds = sorted({str(src[k].dtype).replace('torch.', '') for k in other})
        notes.append(f'{len(other)} {"/".join(kinds)} tensors converted to float32')
    return {k: v.float() if k in other else v for k, v in src.items()} if other else src


def _place(rule: Rule, src: Mapping[str, Tensor], target: Mapping[str, Tensor],
           tprefix: str, mvrc_background: str, out: Dict[str, Tensor],
           placed: Dict[str, str]) -> None:
    """Put the tensors of ``rule``'s part into ``out``; the part must be complete."""
    keys = [k for k in src if k.startswith(rule.source)]
    for k in keys:  # every source tensor has a place of the right shape
        t = tprefix + k[len(rule.source):]
        if t not in target:
            hint = (' (the head\'s classifier_type differs from the original\'s?)'
                    if rule.part == 'task_head' else ' (wrong config, e.g. base vs large?)')
            raise ConversionError(f"'{k}' has no place in the model: no key '{t}'{hint}")
        v = src[k]
        if k.startswith(MVRC_CLASSIFIER) and mvrc_background == 'last':
            v = torch.cat([v[1:], v[:1]])  # background row 0 -> last
        if v.shape != target[t].shape:
            raise ConversionError(f"shape mismatch for '{k}': checkpoint {_shape(v)}, "
                                  f"model '{t}' {_shape(target[t])}")
        out[t], placed[t] = v, k
    for t in (t for t in target if t.startswith(tprefix)):  # and the part is complete
        if t in placed:
            continue
        k = rule.source + t[len(tprefix):]
        if k in TIED and TIED[k] in src:
            out[t], placed[t] = src[TIED[k]], TIED[k]
        elif not OPTIONAL_KEY.search(t):
            raise ConversionError(f"missing key '{k}' in the checkpoint (for '{t}')")


def _apply_rules(src, target, heads, mvrc_background, out, placed, notes) -> None:
    for rule in RULES:
        keys = [k for k in src if k.startswith(rule.source)]
        if rule.fallback_of and any(k.startswith(rule.fallback_of) for k in src):
            continue
        tprefix = _resolve(rule, heads)
        if tprefix is None or not any(k.startswith(tprefix) for k in target):
            if rule.required:
                raise ConversionError(f"the model has no '{rule.target}*' for "
                                      f"'{rule.source}*' (wrong config?)")
            if keys and not rule.fallback_of:
                notes.append(f'{rule.part}: the model has no such part')
            continue
        if not keys:
            if rule.required:
                raise ConversionError(f"missing key '{rule.source}*' ({rule.part}) in the "
                                      'checkpoint')
            notes.append(f'{rule.part}: not in the checkpoint; {tprefix}* keeps its '
                         'initial values')
            continue
        _place(rule, src, target, tprefix, mvrc_background, out, placed)
        if rule.fallback_of:
            notes.append(f'{rule.part}: {tprefix}* initialised from {rule.source}*')


def _place_detector(detector, target, out, placed, unplaced, notes) -> None:
    n_det, n_skip = 0, 0
    for k, v in strip_module_prefix(detector).items():
        t = DETECTOR_PREFIX + k
        if t not in target:
            unplaced.append(f'detector:{k}')
            continue
        if t in placed:
            n_skip += 1
            continue
        if v.shape != target[t].shape:
            raise ConversionError(f"shape mismatch for detector key '{k}': checkpoint "
                                  f"{_shape(v)}, model '{t}' {_shape(target[t])}")
        out[t], placed[t] = v, f'detector:{k}'
        n_det += 1
    notes.append(f'detector checkpoint: {n_det} tensors used, {n_skip} left to the '
                 'VL-BERT checkpoint')


def convert_original(src: Mapping[str, Tensor], target: Mapping[str, Tensor],
                     heads: Optional[Mapping[str, str]] = None,
                     detector: Optional[Mapping[str, Tensor]] = None,
                     mvrc_background: str = 'first') -> Conversion:
    """Convert an original VL-BERT state dict into ``target``'s keys.

    Args:
        src: the original state dict (``module.`` prefix, VCR's ``vlbert._module.``,
            fp16 tensors allowed).
        target: the state dict of the model built from the matching config; its
            tensors are the values of the keys the checkpoint does not provide.
        heads: :func:`find_head_prefixes` of that model.
        detector: an MMDetection detector state dict (``backbone.``, ``rpn_head.``,
            ``roi_head.`` keys): fills the detector keys the original lacks (RPN, box
            head; the whole CNN for ``*-prec`` checkpoints). The original's tensors win.
        mvrc_background: ``'first'`` keeps the original's class order (Visual Genome,
            background = class 0); ``'last'`` moves the background row last (mmdet order).

    Raises:
        ConversionError: a required key is missing or a tensor has the wrong shape.
    """
    if mvrc_background not in ('first', 'last'):
        raise ConversionError(f"mvrc_background must be 'first' or 'last', got "
                              f'{mvrc_background!r}')
    heads = dict(heads or {})
    notes: List[str] = []
    src = _dedupe_res5(_as_float32(normalize_original_keys(src), notes), notes)
    out = dict(target)
    placed: Dict[str, str] = {}
    _apply_rules(src, target, heads, mvrc_background, out, placed, notes)
    for k, tied_to in TIED.items():  # tied tensors must agree
        if k in src and tied_to in src and not torch.equal(src[k], src[tied_to]):
            raise ConversionError(f"'{k}' differs from '{tied_to}', to which it is tied")
    used = set(placed.values())
    unplaced = [k for k in src if k not in used]
    if detector is not None:
        _place_detector(detector, target, out, placed, unplaced, notes)
    if 'mvrc' in heads and any(k.startswith(MVRC_CLASSIFIER) for k in src):
        notes.append(f'MVRC classes: background {mvrc_background}')
    left = [t for t in target if t not in placed]
    return Conversion(out, placed, unplaced, left, notes)


def bert_config_from_original(src: Mapping[str, Tensor]) -> dict:
    """``transformers`` BERT config of an original checkpoint, read off its shapes
    (attention heads: ``hidden / 64``, as BERT base and large)."""
    src = normalize_original_keys(src)
    need = ('vlbert.word_embeddings.weight', 'vlbert.position_embeddings.weight',
            'vlbert.encoder.layer.0.intermediate.dense.weight')
    for k in need:
        if k not in src:
            raise ConversionError(f"missing key '{k}' in the checkpoint")
    vocab, hidden = src[need[0]].shape
    layers = 1 + max(int(m.group(1)) for k in src
                     if (m := re.match(r'vlbert\.encoder\.layer\.(\d+)\.', k)))
    return dict(model_type='bert', vocab_size=vocab, hidden_size=hidden,
                num_hidden_layers=layers, num_attention_heads=max(1, hidden // 64),
                intermediate_size=src[need[2]].shape[0],
                max_position_embeddings=src[need[1]].shape[0])

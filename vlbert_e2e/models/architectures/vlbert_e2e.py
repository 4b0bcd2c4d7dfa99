"""VLBertE2E: detector -> visual embedding -> VL-BERT -> task heads, one graph."""
import copy
import os
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple, Union

import torch
from mmdet.structures.bbox import scale_boxes
from mmengine.logging import MMLogger
from mmengine.model import BaseModel
from mmengine.structures import InstanceData
from torch import Tensor
from torch.nn.utils.rnn import pad_sequence

from vlbert_e2e.registry import MODELS

from ..region_encoders import RegionOutput
from ..vl_bert.object_tags import ObjectTagEmbedding
from ..vl_bert.vl_bert import VLSequence


@dataclass
class VLModelOutput:
    """Everything a head may need, batch-aligned (B = all samples of the batch)."""
    seq: VLSequence
    inputs: dict                    # the preprocessor's padded text tensors
    has_image: Tensor               # [B] bool
    roi_valid: Tensor               # [B, R] bool
    roi_masked: Tensor              # [B, R] bool
    roi_boxes: Tensor               # [B, R, 4] resized-image boxes (0 where padded)
    roi_cls_dist: Optional[Tensor]  # [B, R, C+1] detector class distribution
    region: Optional[RegionOutput]
    num_choices: int = 1            # > 1: rows are (sample, choice), sample-major


def _rescaled(r: InstanceData, sample) -> InstanceData:
    """Detections in resized-image coordinates -> original image, as mmdet's bbox head
    rescales (``scale_boxes`` by ``1 / scale_factor``)."""
    r = r.clone()
    r.bboxes = scale_boxes(r.bboxes, [1 / f for f in sample.metainfo.get(
        'scale_factor', (1.0, 1.0))])
    return r


def _same_pixels(imgs: Optional[Tensor], samples: List, a: int, b: int) -> bool:
    """Rows ``a`` and ``b`` hold the same pixels (without pixels: the same precomputed
    region features)."""
    if imgs is not None:
        return torch.equal(imgs[a], imgs[b])
    fa, fb = samples[a].get('region_feats'), samples[b].get('region_feats')
    return fa is not None and fb is not None and torch.equal(fa, fb)


def _distinct_images(imgs: Optional[Tensor], samples: List
                     ) -> Tuple[List[int], List[int]]:
    """Rows showing the same picture with the same given RoIs and RoI masks (e.g. several
    questions about one image, see ``ImageGroupedSampler``): ``(rows to encode, for
    every row the position of its encoded row)``. Rows with detector ground truth are
    preferred as representatives, so the detector losses still see it. ``imgs`` is
    ``None`` for samples with precomputed region features."""
    def field(s, k):
        return s.get(k).cpu().numpy().tobytes() if k in s else None
    order = sorted(range(len(samples)), key=lambda k: 'gt_instances' not in samples[k])
    keep, where, by_key = [], [0] * len(samples), {}
    for k in order:
        s = samples[k]
        path = s.metainfo.get('img_path')
        path = os.path.normpath(path) if isinstance(path, str) else path
        key = (path, tuple(s.metainfo.get('img_shape') or ()),
               field(s, 'gt_boxes'), field(s, 'roi_masked'))
        for u in by_key.get(key, ()):
            if _same_pixels(imgs, samples, keep[u], k):
                where[k] = u
                break
        else:
            by_key.setdefault(key, []).append(len(keep))
            where[k] = len(keep)
            keep.append(k)
    return keep, where


def _repeat_rows(t: Optional[Tensor], n: int) -> Optional[Tensor]:
    return None if t is None else t.repeat_interleave(n, 0)


def _attach_attentions(out: VLModelOutput, data_samples: List) -> None:
    """Write to each sample, cut to its own sequence (``T`` = its longest row):

    - ``attentions`` (Tensor[L, heads, T, T]): layer ``l``'s attention probabilities,
      query position -> key position (rows sum to 1 over the real tokens);
    - ``seq_roi_positions`` (LongTensor[R]): sequence position of each of its RoIs;
    - ``seq_text_length`` (int): number of text tokens (``[CLS] ... [SEP]``);
    - ``seq_roi_boxes`` (Tensor[R, 4]): the RoIs in original-image coordinates (box 0
      is the whole image).

    With C choices per sample (VCR) the first three gain a leading ``C`` dimension."""
    att = torch.stack(out.seq.attentions, 1).detach()  # [B*C, L, heads, T, T]
    c = out.num_choices
    for i, s in enumerate(data_samples):
        rows = slice(i * c, (i + 1) * c)
        valid = out.roi_valid[i * c]
        t = int(out.seq.attention_mask[rows].sum(1).max())
        a, pos = att[rows, ..., :t, :t], out.seq.roi_pos[rows][:, valid]
        text_len = out.seq.text_len[rows]
        sx, sy = s.metainfo.get('scale_factor', (1.0, 1.0))
        s.seq_roi_boxes = out.roi_boxes[i * c][valid] / out.roi_boxes.new_tensor(
            [sx, sy, sx, sy])
        if c == 1:
            a, pos, text_len = a[0], pos[0], text_len[0]
        s.attentions, s.seq_roi_positions = a, pos
        s.seq_text_length = text_len.tolist()


@MODELS.register_module()
class VLBertE2E(BaseModel):
    """End-to-end VL-BERT: a registered mmdet detector pools RoI features from pixels.

    Args:
        region_encoder: config of :class:`DetectorRegionEncoder` (holds the detector)
            or :class:`PrecomputedRegionEncoder` (features read by the pipeline).
        vl_bert: config of :class:`VLBert`.
        visual_embedding: config of :class:`VisualFeatureEmbedding`; ``appearance_dim``
            and ``out_dim`` default to the detector's feature size and the hidden size.
        heads: ``{name: head config}``; each head adds its losses / predictions.
        data_preprocessor: config of :class:`VLDataPreprocessor`.
        predict_detections: in ``predict``, also write the detector's detections
            (``pred_instances``, original image coordinates) from the same backbone pass.
        object_tags: ``dict(names=CLASS_NAMES, tokenizer=None)``: each RoI's linguistic
            embedding is the detector's class distribution over the word embeddings of
            the class names (Oscar-style tags, see :class:`ObjectTagEmbedding`) instead
            of the shared ``[IMG]`` embedding; ``tokenizer`` defaults to the language
            model's ``pretrained``. ``None`` (default): VL-BERT's ``[IMG]``.
    """

    def __init__(self, region_encoder: dict, vl_bert: dict,
                 visual_embedding: Optional[dict] = None,
                 heads: Optional[Dict[str, dict]] = None,
                 data_preprocessor: Optional[dict] = None,
                 predict_detections: bool = False, object_tags: Optional[dict] = None,
                 init_cfg=None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.predict_detections = predict_detections
        if object_tags is not None:
            region_encoder = dict(region_encoder, need_cls_dist=True)
        self.region_encoder = MODELS.build(region_encoder)
        self.vl_bert = MODELS.build(vl_bert)
        self.object_tags = None
        if object_tags is not None:
            self.object_tags = self._build_object_tags(object_tags, vl_bert)
        ve = copy.deepcopy(visual_embedding or {})
        ve.setdefault('type', 'VisualFeatureEmbedding')
        ve.setdefault('appearance_dim', self.region_encoder.out_channels)
        ve.setdefault('out_dim', self.vl_bert.hidden_size)
        self.visual_embedding = MODELS.build(ve)
        self.heads = torch.nn.ModuleDict()
        for name, cfg in (heads or {}).items():
            cfg = copy.deepcopy(cfg)
            self.heads[name] = MODELS.build(cfg)
            if hasattr(self.heads[name], 'bind'):
                self.heads[name].bind(self.vl_bert)
        summary = ', '.join(f'{k} {v / 1e6:.2f}M' for k, v in self.param_summary().items())
        MMLogger.get_current_instance().info(f'VLBertE2E parameters: {summary}')

    def _build_object_tags(self, cfg: dict, vl_bert: dict) -> ObjectTagEmbedding:
        cfg = dict(cfg)
        tokenizer = cfg.pop('tokenizer', None) or vl_bert.get('pretrained')
        if tokenizer is None:
            raise ValueError('object_tags needs a tokenizer (the language model has no '
                             '`pretrained` to take it from)')
        tags = ObjectTagEmbedding(tokenizer=tokenizer, **cfg)
        n_det = getattr(self.region_encoder.roi_head.bbox_head, 'num_classes', None)
        if n_det != tags.num_classes:
            raise ValueError(f'object_tags has {tags.num_classes} names {tags.names} but '
                             f'the detector predicts {n_det} classes')
        return tags

    def param_summary(self) -> Dict[str, int]:
        """Parameter count per part (shared tensors, e.g. the tied MLM decoder, are
        counted once, in the part that owns them first)."""
        seen, out = set(), {}
        parts = [('detector', self.region_encoder), ('visual_embedding', self.visual_embedding),
                 ('vl_bert', self.vl_bert)] + [(f'head.{k}', h) for k, h in self.heads.items()]
        for name, mod in parts:
            n = 0
            for p in mod.parameters():
                if id(p) not in seen:
                    seen.add(id(p))
                    n += p.numel()
            out[name] = n
        out['total'] = sum(out.values())
        return out

    # ------------------------------------------------------------------ encoding
    def encode(self, inputs: dict, data_samples: List,
               output_attentions: bool = False) -> VLModelOutput:
        """Run detector, visual embedding and VL-BERT on a preprocessed batch.

        The detector runs once per distinct image of the batch (samples that show the
        same picture with the same given RoIs share its RoIs and gradients). With
        ``[B, C, L]`` text (C choices per sample), the RoIs of a sample are shared by
        its C sequences. ``output_attentions``: fill ``seq.attentions`` (see
        :meth:`VLBert.forward`)."""
        num_choices = 1
        if inputs['input_ids'].dim() == 3:
            num_choices = inputs['input_ids'].shape[1]
            inputs = {k: (v.flatten(0, 1) if torch.is_tensor(v) and v.dim() == 3 else v)
                      for k, v in inputs.items()}
        ids = inputs['input_ids']
        b, dev = ids.shape[0] // num_choices, ids.device
        has_image = inputs['has_image']
        h = self.vl_bert.hidden_size
        img_rows = has_image.nonzero().flatten()
        region = None
        if len(img_rows):
            img_samples = [data_samples[i] for i in img_rows.tolist()]
            imgs = inputs['imgs']
            keep, where = _distinct_images(imgs, img_samples)
            region = self.region_encoder(None if imgs is None else imgs[keep],
                                         [img_samples[k] for k in keep]).take(where)
            counts = [len(x) for x in region.boxes]
            wh = torch.cat([w.expand(n, 2) for w, n in zip(region.img_wh, counts)])
            vis = self.visual_embedding(torch.cat(region.feats), torch.cat(region.boxes), wh)
            vis_p = pad_sequence(list(vis.split(counts)), batch_first=True)
            r = vis_p.shape[1]
        else:
            r = 1
        roi_feats = torch.zeros((b, r, h), device=dev)
        roi_valid = torch.zeros((b, r), dtype=torch.bool, device=dev)
        roi_masked = torch.zeros_like(roi_valid)
        roi_boxes = torch.zeros((b, r, 4), device=dev)
        roi_dist = None
        if region is not None:
            roi_feats = roi_feats.to(vis_p.dtype).index_copy(0, img_rows, vis_p)
            lens = torch.tensor(counts, device=dev)
            valid = torch.arange(r, device=dev)[None] < lens[:, None]
            roi_valid = roi_valid.index_copy(0, img_rows, valid)
            roi_masked = roi_masked.index_copy(
                0, img_rows, pad_sequence(region.masked, batch_first=True))
            roi_boxes = roi_boxes.index_copy(
                0, img_rows, pad_sequence(region.boxes, batch_first=True).float())
            if region.cls_dist is not None:
                d = pad_sequence(region.cls_dist, batch_first=True)
                roi_dist = d.new_zeros((b, r, d.shape[-1])).index_copy(0, img_rows, d)
        if num_choices > 1:
            roi_feats, roi_valid, roi_masked, roi_boxes, roi_dist, has_image = (
                _repeat_rows(t, num_choices) for t in (
                    roi_feats, roi_valid, roi_masked, roi_boxes, roi_dist, has_image))
        box_idx = inputs.get('text_box_index')
        if box_idx is None:
            text_visual = roi_feats[:, :1].expand(-1, ids.shape[1], -1)
        else:
            box_idx = box_idx.clamp(0, r - 1)
            text_visual = torch.gather(roi_feats, 1, box_idx[..., None].expand(-1, -1, h))
        roi_ling = None
        if self.object_tags is not None and roi_dist is not None:
            image_box = torch.zeros_like(roi_valid)
            image_box[:, 0] = True
            roi_ling = self.object_tags(
                roi_dist.flatten(0, 1), self.vl_bert.word_embeddings,
                self.vl_bert.object_linguistic_embeddings.weight[0], image_box.flatten()
            ).view(*roi_valid.shape, h)
        seq = self.vl_bert(ids, inputs['attention_mask'], inputs.get('token_type_ids'),
                           text_visual, roi_feats, roi_valid, roi_masked, roi_ling,
                           output_attentions=output_attentions)
        return VLModelOutput(seq, inputs, has_image, roi_valid, roi_masked, roi_boxes,
                             roi_dist, region, num_choices)

    # ------------------------------------------------------------------ modes
    def forward(self, inputs: dict, data_samples: Optional[List] = None,
                mode: str = 'tensor') -> Union[dict, list, VLModelOutput]:
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self._forward(inputs, data_samples)
        raise RuntimeError(f"Invalid mode {mode!r}; use 'loss', 'predict' or 'tensor'")

    def _forward(self, inputs: dict, data_samples: Optional[List] = None) -> VLModelOutput:
        return self.encode(inputs, data_samples or [])

    def loss(self, inputs: dict, data_samples: List) -> Dict[str, Tensor]:
        out = self.encode(inputs, data_samples)
        losses = {}
        for name, head in self.heads.items():
            for k, v in head.loss(out, data_samples).items():
                if k in losses:
                    raise KeyError(f'head {name!r} returns {k!r}, already set by another head')
                losses[k] = v
        if out.region is not None:
            losses.update(out.region.det_losses)
        if not any(k.startswith('loss') for k in losses):
            # e.g. no word happened to be masked in this batch: a zero loss keeps the
            # graph (and DDP) intact instead of crashing a long run.
            MMLogger.get_current_instance().warning(
                'no head produced a loss for this batch (no targets); loss set to 0')
            losses['loss_empty'] = out.seq.hidden.sum() * 0
        return losses

    def predict(self, inputs: dict, data_samples: List,
                output_attentions: bool = False) -> List:
        """Fill each sample's ``pred_*`` fields (and ``pred_instances`` with
        ``predict_detections``). ``output_attentions``: also attach the encoder's
        attention maps to each sample (see :func:`_attach_attentions`); the
        predictions are the same as without."""
        out = self.encode(inputs, data_samples, output_attentions=output_attentions)
        for head in self.heads.values():
            head.predict(out, data_samples)
        if output_attentions:
            _attach_attentions(out, data_samples)
        if self.predict_detections and out.region is not None:
            img_samples = [s for s, h in zip(data_samples, inputs['has_image'].tolist()) if h]
            results = out.region.detections
            if results is None:
                results = self.region_encoder.detect(out.region.row_feature_maps(), img_samples,
                                                     rescale=True)
            else:  # the pass that chose the RoIs already detected: rescale, as mmdet does
                results = [_rescaled(r, s) for r, s in zip(results, img_samples)]
            for s, r in zip(img_samples, results):
                s.pred_instances = r
        return data_samples

    def detect(self, inputs: dict, data_samples: List, rescale: bool = True) -> List:
        """Detector-only prediction (``pred_instances``), as ``FasterRCNN.predict``
        (the separate proposer's, when the boxes come from one)."""
        enc = self.region_encoder
        if 'proposer' in enc.box_source:
            results = enc.proposer.propose(data_samples, inputs['imgs'].device, rescale)
        else:
            results = enc.detect(enc.extract_feat(inputs['imgs']), data_samples,
                                 rescale=rescale)
        for s, r in zip(data_samples, results):
            s.pred_instances = r
        return data_samples

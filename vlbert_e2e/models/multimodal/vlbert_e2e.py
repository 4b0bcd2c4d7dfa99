"""VLBertE2E: detector -> visual embedding -> VL-BERT -> task heads, one graph."""
import copy
from typing import Dict, List, Optional, Tuple, Union

import torch
from mmdet.structures.bbox import scale_boxes
from mmengine.logging import MMLogger
from mmengine.model import BaseModel
from mmengine.structures import InstanceData
from torch import Tensor

from vlbert_e2e.registry import MODELS
from vlbert_e2e.structures import RegionFeatures, VLEncoding

from .batch_layout import distinct_images, flatten_choices, scatter_to_rows


def _rescaled(r: InstanceData, sample) -> InstanceData:
    """Detections in resized-image coordinates -> original image, as mmdet's bbox head
    rescales (``scale_boxes`` by ``1 / scale_factor``)."""
    r = r.clone()
    r.bboxes = scale_boxes(r.bboxes, [1 / f for f in sample.metainfo.get(
        'scale_factor', (1.0, 1.0))])
    return r


def _attach_attentions(out: VLEncoding, data_samples: List) -> None:
    """Write to each sample, cut to its own sequence (``T`` = its longest row):

    - ``attentions`` (Tensor (L, heads, T, T)): layer ``l``'s attention probabilities,
      query position -> key position (rows sum to 1 over the real tokens);
    - ``seq_roi_positions`` (LongTensor (R,)): sequence position of each of its RoIs;
    - ``seq_text_length`` (int): number of text tokens (``[CLS] ... [SEP]``);
    - ``seq_roi_boxes`` (Tensor (R, 4)): the RoIs in original-image coordinates (box 0
      is the whole image).

    With C choices per sample (VCR) the first three gain a leading ``C`` dimension."""
    att = torch.stack(out.seq.attentions, 1).detach()  # (B*C, L, heads, T, T)
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
        heads: ``{name: head config}``; each head adds its losses / predictions. The
            encoder's sizes (``hidden_size``, ``hidden_act``, ``layer_norm_eps``,
            ``vocab_size``) are injected into every head config before it is built.
        data_preprocessor: config of :class:`VLDataPreprocessor`.
        predict_detections: in ``predict``, also write the detector's detections
            (``pred_instances``, original image coordinates) from the same backbone pass.
        object_tags: ``dict(names=CLASS_NAMES, tokenizer=None)``: each RoI's linguistic
            embedding is the detector's class distribution over the word embeddings of
            the class names (Oscar-style tags, see :class:`ObjectTagEmbedding`) instead
            of the shared ``[IMG]`` embedding; ``tokenizer`` defaults to the language
            model's ``pretrained``; with ``attribute_names=ATTRIBUTE_NAMES`` the tag
            also carries the attribute head's distribution (``'green triangle'``).
            ``None`` (default): VL-BERT's ``[IMG]``.

    Raises:
        ValueError: ``object_tags`` names as many classes as the detector does not, or
            as many attributes as ``region_encoder.attribute_head`` does not, or has no
            tokenizer.
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
            vl_bert = dict(vl_bert, object_tags=object_tags)
        self.region_encoder = MODELS.build(region_encoder)
        self.vl_bert = MODELS.build(vl_bert)
        self._check_object_tags()
        ve = copy.deepcopy(visual_embedding or {})
        ve.setdefault('type', 'VisualFeatureEmbedding')
        ve.setdefault('appearance_dim', self.region_encoder.out_channels)
        ve.setdefault('out_dim', self.vl_bert.hidden_size)
        self.visual_embedding = MODELS.build(ve)
        self.heads = torch.nn.ModuleDict(
            {name: self._build_head(cfg) for name, cfg in (heads or {}).items()})
        summary = ', '.join(f'{k} {v / 1e6:.2f}M' for k, v in self.param_summary().items())
        MMLogger.get_current_instance().info(f'VLBertE2E parameters: {summary}')

    def _build_head(self, cfg: dict) -> torch.nn.Module:
        """Build one head with the encoder's sizes injected (as mmdet injects
        ``train_cfg``); the MLM head then ties its decoder to the word embeddings."""
        cfg, bert_cfg = copy.deepcopy(cfg), self.vl_bert.bert.config
        for key, value in (('hidden_size', self.vl_bert.hidden_size),
                           ('hidden_act', bert_cfg.hidden_act),
                           ('layer_norm_eps', bert_cfg.layer_norm_eps),
                           ('vocab_size', self.vl_bert.word_embeddings.num_embeddings)):
            cfg.setdefault(key, value)
        head = MODELS.build(cfg)
        if hasattr(head, 'tie_weights'):
            head.tie_weights(self.vl_bert.word_embeddings)
        return head

    def _check_object_tags(self) -> None:
        """Raise ``ValueError`` unless the object tags name the detector's classes."""
        tags = self.vl_bert.object_tags
        if tags is None:
            return
        n_det = getattr(self.region_encoder.roi_head.bbox_head, 'num_classes', None)
        if n_det != tags.num_classes:
            raise ValueError(f'object_tags has {tags.num_classes} names {tags.names} but '
                             f'the detector predicts {n_det} classes')
        head = getattr(self.region_encoder, 'attribute_head', None)
        n_attr = None if head is None else head.num_attributes
        if tags.attribute_names and n_attr != len(tags.attribute_names):
            raise ValueError(f'object_tags names the attributes {tags.attribute_names} but '
                             f'the region encoder predicts {n_attr or "no"} attributes '
                             '(region_encoder.attribute_head)')

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
               output_attentions: bool = False) -> VLEncoding:
        """Regions -> visual embedding -> single-stream sequence -> encoder.

        The region encoder runs once per distinct image of the batch (samples showing
        the same picture with the same given RoIs share its RoIs and gradients, see
        :func:`distinct_images`); with (B, C, L) text (C choices per sample) a sample's
        RoIs serve its C sequences.

        Args:
            inputs: the preprocessor's dict: ``imgs`` (N, 3, H, W) or ``None``,
                ``has_image`` (B,), ``input_ids``/``attention_mask``/... (B, L) or
                (B, C, L).
            data_samples: the B samples.
            output_attentions: fill ``seq.attentions`` (see :meth:`VLBert.forward`).

        Returns:
            :class:`VLEncoding` with B (or B * C) rows.
        """
        inputs, num_choices = flatten_choices(inputs)
        ids, has_image = inputs['input_ids'], inputs['has_image']
        img_rows = has_image.nonzero().flatten()
        region, vis = self._encode_regions(inputs['imgs'], data_samples, img_rows)
        rois = scatter_to_rows(region, vis, img_rows, ids.shape[0] // num_choices,
                               self.vl_bert.hidden_size).repeat(num_choices)
        has_image = has_image.repeat_interleave(num_choices, 0)
        seq = self.vl_bert(ids, inputs['attention_mask'], inputs.get('token_type_ids'),
                           inputs.get('text_box_index'), rois.feats, rois.valid,
                           rois.masked, rois.cls_dist, output_attentions=output_attentions,
                           roi_attr_dist=rois.attr_dist)
        return VLEncoding(seq, ids, inputs.get('mlm_labels'), has_image, rois.valid,
                          rois.masked, rois.boxes, rois.cls_dist, region, num_choices)

    def _encode_regions(self, imgs: Optional[Tensor], data_samples: List, img_rows: Tensor
                        ) -> Tuple[Optional[RegionFeatures], Optional[Tensor]]:
        """Region features of the image rows (one entry per row, each distinct image
        encoded once) and their visual embeddings (sum K_i, H); ``(None, None)``
        without image rows."""
        if not len(img_rows):
            return None, None
        img_samples = [data_samples[i] for i in img_rows.tolist()]
        keep, where = distinct_images(imgs, img_samples)
        region = self.region_encoder(None if imgs is None else imgs[keep],
                                     [img_samples[k] for k in keep]).take(where)
        counts = [len(x) for x in region.boxes]
        wh = torch.cat([w.expand(n, 2) for w, n in zip(region.img_wh, counts)])
        vis = self.visual_embedding(torch.cat(region.feats), torch.cat(region.boxes), wh)
        return region, vis

    # ------------------------------------------------------------------ modes
    def forward(self, inputs: dict, data_samples: Optional[List] = None,
                mode: str = 'tensor') -> Union[Dict[str, Tensor], list, VLEncoding]:
        """The entry of MMEngine's runner and of ``test_step``/``train_step``.

        Args:
            inputs: the preprocessor's ``inputs`` dict (see :meth:`encode`).
            data_samples: the batch's :class:`VLDataSample` s.
            mode: ``'loss'`` -> :meth:`loss`, a dict of ``loss_*`` tensors and logged
                values; ``'predict'`` -> :meth:`predict`, the samples with ``pred_*``
                fields; ``'tensor'`` -> :meth:`_forward`, the :class:`VLEncoding`.

        Raises:
            RuntimeError: another ``mode``.
        """
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self._forward(inputs, data_samples)
        raise RuntimeError(f"Invalid mode {mode!r}; use 'loss', 'predict' or 'tensor'")

    def _forward(self, inputs: dict, data_samples: Optional[List] = None) -> VLEncoding:
        """The encoding without heads (``mode='tensor'``), see :meth:`encode`."""
        return self.encode(inputs, data_samples or [])

    def loss(self, inputs: dict, data_samples: List) -> Dict[str, Tensor]:
        """Losses of every head plus the detector's own (``det_*``).

        Returns:
            ``{name: value}``: ``loss_*`` scalars (summed by the optimiser wrapper) and
            logged ``acc_*`` values; ``loss_empty`` (0, keeps the graph) when no head
            found a target in the batch.

        Raises:
            KeyError: two heads return the same key.
        """
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
        """Fill each sample's ``pred_*`` fields (the heads'), and ``pred_instances``
        (original-image coordinates) with ``predict_detections``.

        Args:
            inputs, data_samples: as :meth:`encode`.
            output_attentions: also attach the encoder's attention maps to each sample
                (see :func:`_attach_attentions`); the predictions are the same.

        Returns:
            ``data_samples``, filled in place.
        """
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
        """Detector-only prediction (``pred_instances``: ``bboxes`` (n, 4), ``scores``,
        ``labels``), as ``FasterRCNN.predict`` (the separate proposer's, when the boxes
        come from one).

        Args:
            inputs: the preprocessor's dict (``imgs`` (N, 3, H, W)).
            data_samples: the N samples.
            rescale: boxes in original-image coordinates (else the resized image's).

        Returns:
            ``data_samples``, filled in place.
        """
        enc = self.region_encoder
        if 'proposer' in enc.box_source:
            results = enc.proposer.propose(data_samples, inputs['imgs'].device, rescale)
        else:
            results = enc.detect(enc.extract_feat(inputs['imgs']), data_samples,
                                 rescale=rescale)
        for s, r in zip(data_samples, results):
            s.pred_instances = r
        return data_samples

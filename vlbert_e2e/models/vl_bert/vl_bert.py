"""VLBert: VL-BERT's embeddings around a Hugging Face BERT/RoBERTa model.

The transformer (embeddings' position/segment tables and LayerNorm, encoder, pooler) is
``transformers.AutoModel`` itself, fed with ``inputs_embeds``: HF adds segment and
position embeddings, normalises, and runs the encoder with SDPA attention. What we add
by hand (nothing in transformers does it) is the single-stream sequence assembly and
VL-BERT's learned visual embeddings. Parameter names under ``bert.`` are HF's, so
``bert-base-uncased`` or any local HF folder loads without a remapping table.
"""
from contextlib import contextmanager, nullcontext
from typing import Iterator, NamedTuple, Optional, Tuple, Union

import torch
from mmengine.logging import MMLogger
from mmengine.model import BaseModule
from torch import Tensor, nn
from transformers import AutoConfig, AutoModel

from vlbert_e2e.registry import MODELS
from vlbert_e2e.structures import VLSequence
from vlbert_e2e.utils.offline_models import quiet_transformers, resolve_model_path

from .object_tags import ObjectTagEmbedding


def _few(keys, n: int = 4) -> str:
    """'none', or the count and the first ``n`` keys (e.g. the 48 weights of the layers
    a ``num_hidden_layers`` override drops)."""
    keys = sorted(keys)
    if not keys:
        return 'none'
    return f'{len(keys)} ({", ".join(keys[:n])}{", ..." if len(keys) > n else ""})'


@contextmanager
def eager_attention(model: nn.Module) -> Iterator[None]:
    """Run a Hugging Face model with its ``'eager'`` attention inside the block, and
    restore its own implementation (e.g. ``'sdpa'``) after, even on error.

    SDPA (and flash) kernels return no attention weights, so a call that asks for them
    (``output_attentions=True``) must go through the eager path; every other call keeps
    the faster kernel. Uses transformers' ``set_attn_implementation``.
    """
    before = model.config._attn_implementation
    if before == 'eager':
        yield
        return
    model.set_attn_implementation('eager')
    try:
        yield
    finally:
        model.set_attn_implementation(before)


def _load_language_model(pretrained: Optional[str], config: Optional[dict],
                         add_pooling_layer: bool) -> nn.Module:
    """``AutoModel.from_pretrained(pretrained)`` (logging missing/unexpected keys), or
    ``AutoModel.from_config`` of ``config`` (``model_type`` default ``'bert'``) when
    ``pretrained`` is ``None``; SDPA attention unless ``config`` says otherwise."""
    overrides = dict(config or {})
    attn = overrides.pop('attn_implementation', 'sdpa')
    if pretrained is not None:
        with quiet_transformers():  # the one line below instead of HF's load table
            bert, info = AutoModel.from_pretrained(
                resolve_model_path(pretrained), add_pooling_layer=add_pooling_layer,
                attn_implementation=attn, output_loading_info=True, **overrides)
        MMLogger.get_current_instance().info(
            f'VLBert: loaded {pretrained}; missing keys: {_few(info["missing_keys"])}; '
            f'unexpected keys: {_few(info["unexpected_keys"])}')
        return bert
    model_type = overrides.pop('model_type', 'bert')
    cfg = AutoConfig.for_model(model_type, **overrides)
    cfg._attn_implementation = attn
    return AutoModel.from_config(cfg, add_pooling_layer=add_pooling_layer)


def _object_tags(cfg: dict, pretrained: Optional[str]) -> ObjectTagEmbedding:
    """:class:`ObjectTagEmbedding` of ``cfg`` (``names``, ``tokenizer`` defaulting to
    the language model's ``pretrained``).

    Raises:
        ValueError: no tokenizer to split the class names with.
    """
    cfg = dict(cfg)
    tokenizer = cfg.pop('tokenizer', None) or pretrained
    if tokenizer is None:
        raise ValueError('object_tags needs a tokenizer (the language model has no '
                         '`pretrained` to take it from)')
    return ObjectTagEmbedding(tokenizer=tokenizer, **cfg)


class VLEmbedded(NamedTuple):
    """The single-stream sequence, ready for the transformer (T: longest sequence).

    Attributes:
        embeds: (B, T, H) token + visual + linguistic embeddings (HF adds segment and
            position embeddings and the LayerNorm).
        attention_mask: (B, T) long, 1 on real tokens.
        token_type_ids: (B, T) segment ids: the text's, then 2 (RoIs, ``[END]``).
        position_ids: (B, T) positions: text 0..L-1, every RoI L, ``[END]`` L + 1
            (plus RoBERTa's offset).
        roi_pos: (B, R) sequence position of each RoI (-1 where padded).
        text_len: (B,) number of text tokens.
    """
    embeds: Tensor
    attention_mask: Tensor
    token_type_ids: Tensor
    position_ids: Tensor
    roi_pos: Tensor
    text_len: Tensor


@MODELS.register_module()
class VLBert(BaseModule):
    """Single-stream VL-BERT: ``[CLS] A [SEP] (B [SEP]) RoI_0 .. RoI_n [END]``.

    Args:
        pretrained: local HF folder, hub id, or ``'pkg://minilm-l6'`` (a BERT shipped
            in a pip package), loaded with ``AutoModel.from_pretrained``.
            ``None``: random weights from ``config``.
        config: ``transformers`` config overrides (e.g. ``num_hidden_layers=2``); with
            ``pretrained=None`` a ``model_type`` key picks the architecture (``bert``).
        visual_ln_init_gain: initial gain of the LayerNorms applied to visual features
            (the original starts at 0 so the language model is undisturbed at step 0);
            a pair ``(text, object)`` sets the two apart: the text tokens' visual clue
            is added to word embeddings (norm ~1 in BERTs) while a LayerNorm output has
            norm ~sqrt(hidden), so a text gain of 0 keeps the question readable while
            the RoI tokens start visible.
        add_pooling_layer: keep the HF pooler (needed by VCR-style heads).
        end_token_for_text_only: give text-only samples an [END] token too (segment 2,
            position ``len(text) + 1``), as the original code does for its text corpus;
            default ``False``: a text-only sequence is exactly the language model's.
        gradient_checkpointing: recompute each encoder layer in the backward pass
            (HF's activation checkpointing): less activation memory, more time.
        object_tags: ``dict(names=CLASS_NAMES, tokenizer=None)``: each RoI's linguistic
            embedding is the detector's class distribution over the word embeddings of
            the class names (:class:`ObjectTagEmbedding`) instead of ``[IMG]``;
            ``tokenizer`` defaults to ``pretrained``. Set by :class:`VLBertE2E` from its
            own ``object_tags``.

    Raises:
        ValueError: ``object_tags`` without a tokenizer.
    """

    def __init__(self, pretrained: Optional[str] = None, config: Optional[dict] = None,
                 visual_ln_init_gain: Union[float, Tuple[float, float]] = 0.0,
                 add_pooling_layer: bool = True,
                 end_token_for_text_only: bool = False, gradient_checkpointing: bool = False,
                 object_tags: Optional[dict] = None, init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.end_token_for_text_only = end_token_for_text_only
        self.bert = _load_language_model(pretrained, config, add_pooling_layer)
        if gradient_checkpointing:
            self.bert.activation_checkpointing_enable(
                activation_checkpointing_kwargs=dict(use_reentrant=False))
        cfg = self.bert.config
        self.hidden_size = cfg.hidden_size
        self.pad_token_id = cfg.pad_token_id if cfg.pad_token_id is not None else 0
        # RoBERTa numbers positions from padding_idx + 1.
        self.position_offset = self.pad_token_id + 1 if cfg.model_type == 'roberta' else 0
        self._extend_token_types(3)
        h = cfg.hidden_size
        self.object_linguistic_embeddings = nn.Embedding(1, h)   # [IMG]
        self.object_mask_word_embedding = nn.Embedding(1, h)     # masked RoI
        self.aux_text_visual_embedding = nn.Embedding(1, h)      # text-only samples
        self.end_embedding = nn.Embedding(1, h)                  # [END]
        self.visual_ln_text = nn.LayerNorm(h, eps=cfg.layer_norm_eps)
        self.visual_ln_object = nn.LayerNorm(h, eps=cfg.layer_norm_eps)
        for emb in (self.object_linguistic_embeddings, self.object_mask_word_embedding,
                    self.aux_text_visual_embedding, self.end_embedding):
            nn.init.normal_(emb.weight, std=cfg.initializer_range)
        gains = visual_ln_init_gain if isinstance(visual_ln_init_gain, (tuple, list)) \
            else (visual_ln_init_gain, visual_ln_init_gain)
        for ln, gain in zip((self.visual_ln_text, self.visual_ln_object), gains):
            nn.init.constant_(ln.weight, gain)
        # Oscar-style object tags: no parameters (not in the state dict)
        self.object_tags = None if object_tags is None else _object_tags(object_tags,
                                                                          pretrained)

    def _extend_token_types(self, n: int) -> None:
        """Grow the segment table to ``n`` rows (A, B, visual); new rows copy row 0."""
        old = self.bert.embeddings.token_type_embeddings
        if old.num_embeddings >= n:
            return
        new = nn.Embedding(n, old.embedding_dim).to(old.weight.device, old.weight.dtype)
        with torch.no_grad():
            new.weight[:old.num_embeddings] = old.weight
            new.weight[old.num_embeddings:] = old.weight[0]
        # HF's init_weights (which MMEngine's init_weights reaches through `self.bert`)
        # re-initialises modules without this flag: the pretrained rows would be lost.
        new._is_hf_initialized = True
        new.weight._is_hf_initialized = True
        self.bert.embeddings.token_type_embeddings = new
        self.bert.config.type_vocab_size = n
        buf = getattr(self.bert.embeddings, 'token_type_ids', None)
        if buf is not None:
            buf.zero_()

    @property
    def word_embeddings(self) -> nn.Embedding:
        """The language model's word-embedding table (vocab, H)."""
        return self.bert.embeddings.word_embeddings

    def embed(self, input_ids: Tensor, attention_mask: Tensor,
              token_type_ids: Optional[Tensor], text_box_index: Optional[Tensor],
              roi_feats: Tensor, roi_valid: Tensor, roi_masked: Tensor,
              roi_cls_dist: Optional[Tensor] = None,
              roi_attr_dist: Optional[Tensor] = None) -> VLEmbedded:
        """Build the single-stream sequence ``[CLS] A [SEP] (B [SEP]) RoI_0 .. RoI_n
        [END]`` (no Python loop over samples), as the original's ``embedding()`` and
        HF's ``VisualBertEmbeddings``.

        Text token = word + LN_text(visual clue); RoI token = linguistic embedding
        (``[IMG]``, object tags, or the masked-RoI embedding) + LN_object(feature);
        ``[END]`` after the RoIs.

        Args:
            input_ids: (B, L) word-piece ids, right-padded.
            attention_mask: (B, L) 1 on the text tokens.
            token_type_ids: (B, L) segment ids (``None``: all 0).
            text_box_index: (B, L) per token, the RoI whose feature is its visual clue
                (``None``: RoI 0, the whole image). Rows of text-only samples use the
                auxiliary visual embedding instead.
            roi_feats: (B, R, H) visual embeddings of the RoIs (box 0 = the image).
            roi_valid: (B, R) bool, real RoIs. A row with none is text-only: no [END]
                token (unless ``end_token_for_text_only``).
            roi_masked: (B, R) bool, RoIs that get the masked-RoI word embedding.
            roi_cls_dist: (B, R, C + 1) detector class distribution; read only with
                ``object_tags`` (the RoIs' linguistic embedding, whole image excepted).
            roi_attr_dist: (B, R, A) attribute distribution; read only with
                ``object_tags`` that name attributes.

        Returns:
            :class:`VLEmbedded`.
        """
        text_visual = self._text_visual(roi_feats, text_box_index, input_ids.shape[1])
        roi_ling = self._roi_linguistic(roi_cls_dist, roi_valid, roi_attr_dist)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        has_vis = roi_valid.sum(1) > 0
        aux = self.aux_text_visual_embedding.weight[0].expand_as(text_visual)
        text_visual = torch.where(has_vis[:, None, None], text_visual, aux)
        text_emb = self.word_embeddings(input_ids) + self.visual_ln_text(text_visual)
        text_emb = text_emb * attention_mask[..., None].to(text_emb.dtype)
        ling = self.object_linguistic_embeddings.weight[0] if roi_ling is None else roi_ling
        ling = torch.where(roi_masked[..., None], self.object_mask_word_embedding.weight[0],
                           ling)
        roi_emb = ling + self.visual_ln_object(roi_feats)
        return self._assemble(text_emb, roi_emb, attention_mask, token_type_ids, roi_valid)

    def _text_visual(self, roi_feats: Tensor, text_box_index: Optional[Tensor],
                     n_text: int) -> Tensor:
        """(B, L, H) each token's visual clue: the feature of its RoI (index clamped
        to the batch's RoIs), RoI 0 by default."""
        if text_box_index is None:
            return roi_feats[:, :1].expand(-1, n_text, -1)
        idx = text_box_index.clamp(0, roi_feats.shape[1] - 1)
        return torch.gather(roi_feats, 1, idx[..., None].expand(-1, -1, roi_feats.shape[-1]))

    def _roi_linguistic(self, roi_cls_dist: Optional[Tensor], roi_valid: Tensor,
                        roi_attr_dist: Optional[Tensor] = None) -> Optional[Tensor]:
        """(B, R, H) object-tag embeddings (box 0 keeps ``[IMG]``), or ``None``
        (``[IMG]`` for every RoI) without ``object_tags`` or a class distribution."""
        if self.object_tags is None or roi_cls_dist is None:
            return None
        image_box = torch.zeros_like(roi_valid)
        image_box[:, 0] = True
        attr = None if roi_attr_dist is None else roi_attr_dist.flatten(0, 1)
        return self.object_tags(
            roi_cls_dist.flatten(0, 1), self.word_embeddings,
            self.object_linguistic_embeddings.weight[0], image_box.flatten(), attr
        ).view(*roi_valid.shape, self.hidden_size)

    def _assemble(self, text_emb: Tensor, roi_emb: Tensor, attention_mask: Tensor,
                  token_type_ids: Tensor, roi_valid: Tensor) -> VLEmbedded:
        """Place text (B, L, H), RoI (B, R, H) and ``[END]`` embeddings in one
        sequence per row, with its segment and position ids and attention mask."""
        (b, n_text), r, dev = token_type_ids.shape, roi_valid.shape[1], text_emb.device
        text_len, n_roi = attention_mask.sum(1), roi_valid.sum(1)
        has_end = (n_roi > 0) | self.end_token_for_text_only
        seq_len = text_len + n_roi + has_end.long()
        t = int(seq_len.max())
        embeds = text_emb.new_zeros((b, t, text_emb.shape[-1]))
        keep_l = min(n_text, t)
        embeds[:, :keep_l] = text_emb[:, :keep_l]
        roi_pos = torch.where(roi_valid, text_len[:, None] + torch.arange(r, device=dev)[None],
                              -1)
        bi = torch.arange(b, device=dev)[:, None].expand(b, r)
        embeds = embeds.index_put((bi[roi_valid], roi_pos[roi_valid]), roi_emb[roi_valid])
        end_pos = text_len + n_roi
        embeds = embeds.index_put(
            (torch.arange(b, device=dev)[has_end], end_pos[has_end]),
            self.end_embedding.weight[0].expand(int(has_end.sum()), -1))
        ar_t = torch.arange(t, device=dev)[None]
        is_text = ar_t < text_len[:, None]
        tt_text = torch.zeros((b, t), dtype=torch.long, device=dev)
        tt_text[:, :keep_l] = token_type_ids[:, :keep_l]
        full_mask = (ar_t < seq_len[:, None]).long()
        segment = torch.where(is_text, tt_text, 2) * full_mask
        position = torch.where(is_text, ar_t, torch.where(
            ar_t < end_pos[:, None], text_len[:, None], text_len[:, None] + 1))
        position = position * full_mask + self.position_offset
        return VLEmbedded(embeds, full_mask, segment, position, roi_pos, text_len)

    def forward(self, input_ids: Tensor, attention_mask: Tensor,
                token_type_ids: Optional[Tensor], text_box_index: Optional[Tensor],
                roi_feats: Tensor, roi_valid: Tensor, roi_masked: Tensor,
                roi_cls_dist: Optional[Tensor] = None,
                output_attentions: bool = False,
                roi_attr_dist: Optional[Tensor] = None) -> VLSequence:
        """Build the sequence (:meth:`embed`, same arguments) and run the transformer.

        Args:
            output_attentions: also return each layer's attention probabilities
                (``VLSequence.attentions``); this call alone runs the eager attention
                (see :func:`eager_attention`), the same numbers up to rounding.

        Returns:
            :class:`VLSequence`: hidden states (B, T, H), pooled (B, H), the sequence
            mask (B, T), RoI positions (B, R), text lengths (B,).
        """
        e = self.embed(input_ids, attention_mask, token_type_ids, text_box_index,
                       roi_feats, roi_valid, roi_masked, roi_cls_dist, roi_attr_dist)
        with eager_attention(self.bert) if output_attentions else nullcontext():
            out = self.bert(inputs_embeds=e.embeds, attention_mask=e.attention_mask,
                            token_type_ids=e.token_type_ids, position_ids=e.position_ids,
                            output_attentions=output_attentions)
        return VLSequence(out.last_hidden_state, getattr(out, 'pooler_output', None),
                          e.attention_mask, e.roi_pos, e.text_len,
                          out.attentions if output_attentions else None)

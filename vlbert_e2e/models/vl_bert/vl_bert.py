"""VLBert: VL-BERT's embeddings around a Hugging Face BERT/RoBERTa model.

The transformer (embeddings' position/segment tables and LayerNorm, encoder, pooler) is
``transformers.AutoModel`` itself, fed with ``inputs_embeds``: HF adds segment and
position embeddings, normalises, and runs the encoder with SDPA attention. What we add
by hand (nothing in transformers does it) is the single-stream sequence assembly and
VL-BERT's learned visual embeddings. Parameter names under ``bert.`` are HF's, so
``bert-base-uncased`` or any local HF folder loads without a remapping table.
"""
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Iterator, Optional, Tuple, Union

import torch
from mmengine.logging import MMLogger
from mmengine.model import BaseModule
from torch import Tensor, nn
from transformers import AutoConfig, AutoModel

from vlbert_e2e.registry import MODELS
from vlbert_e2e.utils.offline_models import quiet_transformers, resolve_model_path


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


@dataclass
class VLSequence:
    """Encoder output and where each input token ended up in the sequence."""
    hidden: Tensor       # [B, T, H] last hidden states
    pooled: Optional[Tensor]  # [B, H] pooler output of [CLS]
    attention_mask: Tensor  # [B, T] 1 on real tokens
    roi_pos: Tensor      # [B, R] sequence position of each RoI (-1 where padded)
    text_len: Tensor     # [B] number of text tokens
    # per encoder layer, [B, heads, T, T] attention probabilities (query -> key); only
    # when the forward was asked for them (``output_attentions=True``)
    attentions: Optional[Tuple[Tensor, ...]] = None

    def roi_hidden(self) -> Tensor:
        """``[B, R, H]`` output of each RoI token (rows of padded RoIs are arbitrary)."""
        idx = self.roi_pos.clamp(min=0)[..., None].expand(-1, -1, self.hidden.shape[-1])
        return self.hidden.gather(1, idx)


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
    """

    def __init__(self, pretrained: Optional[str] = None, config: Optional[dict] = None,
                 visual_ln_init_gain: Union[float, Tuple[float, float]] = 0.0,
                 add_pooling_layer: bool = True,
                 end_token_for_text_only: bool = False, gradient_checkpointing: bool = False,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.end_token_for_text_only = end_token_for_text_only
        overrides = dict(config or {})
        overrides.setdefault('attn_implementation', 'sdpa')
        if pretrained is not None:
            attn = overrides.pop('attn_implementation')
            with quiet_transformers():  # the one line below instead of HF's table
                self.bert, info = AutoModel.from_pretrained(
                    resolve_model_path(pretrained), add_pooling_layer=add_pooling_layer,
                    attn_implementation=attn, output_loading_info=True, **overrides)
            MMLogger.get_current_instance().info(
                f'VLBert: loaded {pretrained}; missing keys: {_few(info["missing_keys"])}; '
                f'unexpected keys: {_few(info["unexpected_keys"])}')
        else:
            model_type = overrides.pop('model_type', 'bert')
            attn = overrides.pop('attn_implementation')
            cfg = AutoConfig.for_model(model_type, **overrides)
            cfg._attn_implementation = attn
            self.bert = AutoModel.from_config(cfg, add_pooling_layer=add_pooling_layer)
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
        return self.bert.embeddings.word_embeddings

    def forward(self, input_ids: Tensor, attention_mask: Tensor,
                token_type_ids: Optional[Tensor], text_visual: Tensor,
                roi_feats: Tensor, roi_valid: Tensor, roi_masked: Tensor,
                roi_ling: Optional[Tensor] = None,
                output_attentions: bool = False) -> VLSequence:
        """Assemble the sequence and run the encoder (no Python loop over samples).

        Args:
            input_ids, attention_mask, token_type_ids: ``[B, L]`` text (right-padded).
            text_visual: ``[B, L, H]`` visual clue of each token (before LayerNorm);
                rows of text-only samples are ignored and use the auxiliary embedding.
            roi_feats: ``[B, R, H]`` visual features of the RoIs (box 0 = image).
            roi_valid: ``[B, R]`` bool, real RoIs. A sample with none is text-only: its
                text uses the auxiliary visual embedding and it gets no [END] token
                (unless ``end_token_for_text_only``).
            roi_masked: ``[B, R]`` bool, RoIs replaced by the mask word embedding.
            roi_ling: ``[B, R, H]`` linguistic embedding of each RoI (object tags);
                ``None``: the learned ``[IMG]`` embedding, as the original.
            output_attentions: also return each layer's attention probabilities
                (``VLSequence.attentions``); this call alone runs the eager attention
                (see :func:`eager_attention`), the same numbers up to rounding.
        """
        b, n_text = input_ids.shape
        r = roi_feats.shape[1]
        dev = input_ids.device
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        text_len = attention_mask.sum(1)
        n_roi = roi_valid.sum(1)
        has_vis = n_roi > 0
        has_end = has_vis | self.end_token_for_text_only
        seq_len = text_len + n_roi + has_end.long()
        t = int(seq_len.max())

        aux = self.aux_text_visual_embedding.weight[0].expand_as(text_visual)
        text_visual = torch.where(has_vis[:, None, None], text_visual, aux)
        text_emb = self.word_embeddings(input_ids) + self.visual_ln_text(text_visual)
        text_emb = text_emb * attention_mask[..., None].to(text_emb.dtype)

        ling = self.object_linguistic_embeddings.weight[0] if roi_ling is None else roi_ling
        ling = torch.where(roi_masked[..., None], self.object_mask_word_embedding.weight[0],
                           ling)
        roi_emb = ling + self.visual_ln_object(roi_feats)

        embeds = text_emb.new_zeros((b, t, text_emb.shape[-1]))
        keep_l = min(n_text, t)
        embeds[:, :keep_l] = text_emb[:, :keep_l]
        ar_r = torch.arange(r, device=dev)
        roi_pos = torch.where(roi_valid, text_len[:, None] + ar_r[None], -1)
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
        segment = torch.where(is_text, tt_text, 2)
        position = torch.where(is_text, ar_t, torch.where(
            ar_t < end_pos[:, None], text_len[:, None], text_len[:, None] + 1))
        full_mask = (ar_t < seq_len[:, None]).long()
        segment = segment * full_mask
        position = position * full_mask + self.position_offset

        with eager_attention(self.bert) if output_attentions else nullcontext():
            out = self.bert(inputs_embeds=embeds, attention_mask=full_mask,
                            token_type_ids=segment, position_ids=position,
                            output_attentions=output_attentions)
        return VLSequence(out.last_hidden_state, getattr(out, 'pooler_output', None),
                          full_mask, roi_pos, text_len,
                          out.attentions if output_attentions else None)

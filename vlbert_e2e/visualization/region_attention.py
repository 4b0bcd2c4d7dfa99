"""How much a token looks at each region: VL-BERT's attention maps reduced to RoIs.

Hand-written: neither transformers nor MMEngine reduces attention maps to image regions.
Attention rollout follows Abnar & Zuidema, "Quantifying Attention Flow in
Transformers" (ACL 2020): average the heads, add the residual (identity) and
renormalise each layer's map, then multiply the maps from the first layer up.
"""
from typing import List, Optional, Sequence, Tuple

import torch
from torch import Tensor

MODES = ('mean', 'rollout')


def attention_rollout(attentions: Tensor) -> Tensor:
    """Attention flow through all layers.

    Args:
        attentions: ``(L, heads, T, T)`` attention probabilities, query -> key.

    Returns:
        ``(T, T)``: row ``q`` says how much the last layer's output at ``q`` draws on
        each input token, residual paths included (each row sums to 1).
    """
    t = attentions.shape[-1]
    eye = torch.eye(t, dtype=attentions.dtype, device=attentions.device)
    flow = eye
    for layer in attentions.float().mean(1):  # heads averaged, first layer first
        step = 0.5 * layer + 0.5 * eye
        flow = (step / step.sum(-1, keepdim=True)) @ flow
    return flow


def query_to_regions(attentions: Tensor, query_pos: Sequence[int], roi_pos: Tensor
                     ) -> Tensor:
    """Attention from the query tokens to each RoI, per layer and head.

    Args:
        attentions: ``(L, heads, T, T)`` attention probabilities.
        query_pos: sequence positions of the answering tokens (averaged over them).
        roi_pos: ``(R,)`` sequence position of each RoI.

    Returns:
        ``(L, heads, R)``: share of each query's attention that goes to each RoI.
    """
    if len(query_pos) == 0:
        raise ValueError('no query token to take the attention from')
    rows = attentions[:, :, list(query_pos)].float().mean(2)  # (L, heads, T)
    return rows[..., roi_pos.long()]


def region_weights(attentions: Tensor, query_pos: Sequence[int], roi_pos: Tensor,
                   mode: str = 'mean', layer: Optional[int] = None,
                   head: Optional[int] = None) -> Tensor:
    """One weight per RoI for the query tokens.

    Args:
        attentions: ``(L, heads, T, T)`` attention probabilities.
        query_pos: sequence positions of the answering tokens.
        roi_pos: ``(R,)`` sequence positions of the RoIs.
        mode: ``'mean'``: the attention averaged over layers and heads (or only the
            chosen ``layer`` / ``head``); ``'rollout'``: attention rollout through all
            layers (``layer`` and ``head`` must be ``None``).
        layer, head: keep only this layer / head (``'mean'`` mode).

    Returns:
        ``(R,)`` weights in [0, 1] (shares of the query's attention, not renormalised
        over the RoIs: the rest went to text tokens).

    Raises:
        ValueError: unknown mode, or layer/head given with rollout.
    """
    if mode not in MODES:
        raise ValueError(f'unknown attention mode {mode!r}; choose from {", ".join(MODES)}')
    if mode == 'rollout':
        if layer is not None or head is not None:
            raise ValueError('attention rollout spans all layers and heads')
        flow = attention_rollout(attentions)
        return flow[list(query_pos)].mean(0)[roi_pos.long()]
    per = query_to_regions(attentions, query_pos, roi_pos)
    if layer is not None:
        per = per[layer:layer + 1]
    if head is not None:
        per = per[:, head:head + 1]
    return per.mean((0, 1))


def rank_regions(weights: Tensor, top_k: Optional[int] = None) -> List[Tuple[int, float]]:
    """``[(RoI index, weight)]`` by decreasing weight (ties: lower index first)."""
    order = sorted(range(len(weights)), key=lambda i: (-float(weights[i]), i))
    return [(i, float(weights[i])) for i in order[:top_k]]


def text_attention(attentions: Tensor, text_len: int, layer: Optional[int] = None
                   ) -> Tensor:
    """``(text_len, text_len)`` text-to-text attention, heads averaged (and layers,
    unless ``layer`` is given); rows are queries."""
    a = attentions[:, :, :text_len, :text_len].float()
    a = a[layer:layer + 1] if layer is not None else a
    return a.mean((0, 1))

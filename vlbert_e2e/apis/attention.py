"""Attention of a prediction, as the inferencer reports and draws it.

The model attaches each sample's attention maps (``VLBertE2E.predict(...,
output_attentions=True)``); this module picks the answering tokens of the task,
reduces the maps to one weight per region (``vlbert_e2e.visualization``) and turns
them into JSON-ready numbers and pictures.
"""
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmdet.structures.bbox import bbox_overlaps

from vlbert_e2e.visualization import (
    draw_region_attention,
    draw_text_attention,
    query_to_regions,
    rank_regions,
    region_weights,
    text_attention,
)


def query_positions(task: str, input_ids: torch.Tensor, text_len: int,
                    answer_position: Optional[int] = None,
                    mask_token_id: Optional[int] = None) -> List[int]:
    """Sequence positions of the tokens that answer ``task``: VQA's answer
    ``[MASK]``, the ``[MASK]`` words to fill, every expression token of a grounding
    query (``[CLS]`` and ``[SEP]`` excluded), VCR's ``[CLS]``.

    Raises:
        ValueError: the task has no answering token (``detect``) or it is missing.
    """
    if task == 'vqa' and answer_position is not None:
        return [int(answer_position)]
    if task == 'fill' and mask_token_id is not None:
        return (input_ids[:text_len] == mask_token_id).nonzero().flatten().tolist()
    if task == 'ground':
        return list(range(1, text_len - 1))
    if task == 'vcr':
        return [0]
    raise ValueError(f'task {task!r} has no answering token to take attention from')


def _region_labels(boxes: torch.Tensor, sample, classes: Optional[Sequence]) -> List[str]:
    """'whole image', or the detected class of the detection the RoI is (IoU >= 0.9)."""
    names = ['whole image'] + [f'RoI {i}' for i in range(1, len(boxes))]
    inst = sample.get('pred_instances')
    if inst is None or len(inst) == 0 or len(boxes) < 2:
        return names
    iou = bbox_overlaps(boxes[1:].float(), inst.bboxes.float().to(boxes.device))
    best, idx = iou.max(1)
    for i, (b, j) in enumerate(zip(best.tolist(), idx.tolist()), start=1):
        if b >= 0.9:
            lab = int(inst.labels[j])
            names[i] += f' ({classes[lab] if classes else lab})'
    return names


def summarize_attention(sample, task: str, tokens: Sequence[str], query: Sequence[int],
                        mode: str = 'mean', top_k: int = 5,
                        classes: Optional[Sequence] = None) -> Dict:
    """JSON-ready attention of one predicted sample.

    Args:
        sample: a data sample with ``attentions`` ``(L, heads, T, T)``,
            ``seq_roi_positions`` ``(R,)``, ``seq_roi_boxes`` ``(R, 4)`` and
            ``seq_text_length`` (see ``VLBertE2E.predict``); with a leading choice
            dimension (VCR) the predicted choice's row is used.
        task: the task, for the record.
        tokens: the word pieces of the text (``seq_text_length`` of them).
        query: positions of the answering tokens (:func:`query_positions`).
        mode: ``'mean'`` over layers and heads or ``'rollout'``.
        top_k: how many regions ``top_regions`` lists.
        classes: detector class names, to name the RoIs that are detections.

    Returns:
        dict with ``mode``, ``query_tokens``, ``regions`` (index, box in original
        pixels, label, weight), ``top_regions`` (indices by weight), ``per_layer_head``
        (``L x heads x R`` weights), ``per_token`` (each query token's top region),
        ``text_tokens`` and ``text_matrix`` (``n x n``, heads and layers averaged).
    """
    att, pos, n = sample.attentions, sample.seq_roi_positions, sample.seq_text_length
    if att.dim() == 5:  # choices: take the predicted one
        c = int(sample.get('pred_choice', 0))
        att, pos, n = att[c], pos[c], n[c]
    boxes = sample.seq_roi_boxes
    weights = region_weights(att, query, pos, mode)
    labels = _region_labels(boxes, sample, classes)
    per_token = [dict(token=tokens[q], region=i, weight=round(w, 4))
                 for q in query for i, w in rank_regions(region_weights(att, [q], pos, mode), 1)]
    return dict(
        task=task, mode=mode, num_layers=att.shape[0], num_heads=att.shape[1],
        query_tokens=[tokens[q] for q in query], query_positions=list(query),
        regions=[dict(index=i, box=[round(float(v), 1) for v in b], label=labels[i],
                      weight=round(float(w), 4))
                 for i, (b, w) in enumerate(zip(boxes, weights))],
        top_regions=[i for i, _ in rank_regions(weights, top_k)],
        per_layer_head=query_to_regions(att, query, pos).round(decimals=4).tolist(),
        per_token=per_token, text_tokens=list(tokens),
        text_matrix=text_attention(att, n).round(decimals=4).tolist())


def draw_attention(attention: Dict, image: np.ndarray, top_k: int = 5):
    """``(region picture, text matrix picture)``, RGB uint8, of a
    :func:`summarize_attention` record over ``image`` (RGB, original size)."""
    regions = attention['regions']
    query = ' '.join(attention['query_tokens'])
    if len(query) > 40:
        query = query[:37] + '...'
    how = 'rollout' if attention['mode'] == 'rollout' else 'mean'
    title = (f'attention of "{query}"\n({how} of {attention["num_layers"]} layers x '
             f'{attention["num_heads"]} heads)')
    region_pic = draw_region_attention(
        image, [r['box'] for r in regions], [r['weight'] for r in regions],
        [r['label'] for r in regions], top_k=top_k, title=title)
    text_pic = draw_text_attention(attention['text_matrix'], attention['text_tokens'],
                                   title='text-to-text attention (layers and heads averaged)')
    return region_pic, text_pic

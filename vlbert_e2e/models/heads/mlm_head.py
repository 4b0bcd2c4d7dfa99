"""Masked language modelling head, with and without visual clues."""
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from mmengine.logging import MMLogger
from torch import Tensor, nn
from transformers.activations import ACT2FN

from vlbert_e2e.registry import MODELS
from vlbert_e2e.structures import VLEncoding
from vlbert_e2e.utils.hf_weights import load_hf_state_dict

from .base_vl_head import BaseVLHead


class MLMPredictionHeadTransform(nn.Module):
    """dense -> activation -> LayerNorm (HF's ``BertPredictionHeadTransform`` names)."""

    def __init__(self, hidden: int, act: str, eps: float) -> None:
        super().__init__()
        self.dense = nn.Linear(hidden, hidden)
        self.transform_act_fn = ACT2FN[act]
        self.LayerNorm = nn.LayerNorm(hidden, eps=eps)

    def forward(self, x: Tensor) -> Tensor:
        """(..., H) -> (..., H)."""
        return self.LayerNorm(self.transform_act_fn(self.dense(x)))


def load_mlm_transform(transform: nn.Module, path: str, who: str) -> None:
    """Load BERT's MLM transform (``cls.predictions.transform.*`` of the HF checkpoint
    ``path``; old checkpoints' LayerNorm ``gamma`` / ``beta`` too) into ``transform``,
    as the original initialises its "mlm" classifiers.

    Raises:
        ValueError: ``path`` has no such weights.
    """
    prefix = 'cls.predictions.transform.'
    sub = {k[len(prefix):].replace('LayerNorm.gamma', 'LayerNorm.weight')
           .replace('LayerNorm.beta', 'LayerNorm.bias'): v
           for k, v in load_hf_state_dict(path).items() if k.startswith(prefix)}
    if not sub:
        raise ValueError(f'{who}: {path} has no {prefix}* weights to initialise from')
    transform.load_state_dict(sub, strict=True)
    MMLogger.get_current_instance().info(f'{who}: MLM transform loaded from {path}')


class MLMPredictions(nn.Module):
    """Transform + decoder (HF's ``BertLMPredictionHead`` names); the decoder's weight
    becomes the word-embedding matrix with :meth:`MLMHead.tie_weights`."""

    def __init__(self, hidden: int, vocab: int, act: str, eps: float) -> None:
        super().__init__()
        self.transform = MLMPredictionHeadTransform(hidden, act, eps)
        self.decoder = nn.Linear(hidden, vocab, bias=False)
        self.bias = nn.Parameter(torch.zeros(vocab))

    def forward(self, x: Tensor) -> Tensor:
        """(..., H) hidden states -> (..., vocab) word logits."""
        return self.decoder(self.transform(x)) + self.bias


@MODELS.register_module()
class MLMHead(BaseVLHead):
    """MLM on the text tokens. Samples with an image give ``loss_mlm_vl`` (masked
    language modelling with visual clues); text-only samples give ``loss_mlm_text``.

    Args:
        pretrained: HF folder/hub id whose ``cls.predictions.*`` weights (BERT's
            pretraining head) initialise this head when present; ``None`` skips.
        loss_weight: weight of both losses.
        mask_token_id: in ``predict``, fill the positions holding this id (the
            tokenizer's ``[MASK]``); ``None``: the positions with ``mlm_labels``.
        **kwargs: the encoder sizes (``vocab_size`` too) and ``init_cfg``
            (:class:`BaseVLHead`).
    """

    def __init__(self, pretrained: Optional[str] = None, loss_weight: float = 1.0,
                 mask_token_id: Optional[int] = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.pretrained = pretrained
        self.mask_token_id = mask_token_id
        self.loss_weight = loss_weight
        self.predictions = MLMPredictions(self._required('hidden_size'),
                                          self._required('vocab_size'), self.hidden_act,
                                          self.layer_norm_eps)
        if self.pretrained is not None:
            self._load_cls_predictions(self.pretrained)

    def tie_weights(self, word_embeddings: nn.Embedding) -> None:
        """Share the decoder's weight with ``word_embeddings`` (vocab, H), as HF's
        ``BertForMaskedLM.tie_weights``; the only head that ties.

        Raises:
            ValueError: the table's shape is not the decoder's.
        """
        if word_embeddings.weight.shape != self.predictions.decoder.weight.shape:
            raise ValueError(f'MLMHead: word embeddings {tuple(word_embeddings.weight.shape)}'
                             f' vs decoder {tuple(self.predictions.decoder.weight.shape)}')
        self.predictions.decoder.weight = word_embeddings.weight

    def _load_cls_predictions(self, path: str) -> None:
        sd = load_hf_state_dict(path)
        prefix = 'cls.predictions.'
        sub = {k[len(prefix):]: v for k, v in sd.items()
               if k.startswith(prefix) and not k.startswith(prefix + 'decoder.weight')}
        sub.pop('decoder.bias', None)
        logger = MMLogger.get_current_instance()
        if not sub:
            logger.info(f'MLMHead: {path} has no cls.predictions weights; head starts random')
            return
        missing, unexpected = self.predictions.load_state_dict(sub, strict=False)
        missing = [k for k in missing if k != 'decoder.weight']
        logger.info(f'MLMHead: loaded cls.predictions from {path}; missing {missing}, '
                    f'unexpected {unexpected}')

    def loss(self, out: VLEncoding, data_samples: List) -> Dict[str, Tensor]:
        """``loss_mlm_vl`` / ``acc_mlm_vl`` over the masked words of rows with an
        image, ``loss_mlm_text`` / ``acc_mlm_text`` over those of text-only rows."""
        labels = out.mlm_labels
        if labels is None:
            return {}
        hidden = out.text_hidden
        losses = {}
        for name, rows in (('vl', out.has_image), ('text', ~out.has_image)):
            sel = (labels != -100) & rows[:, None]
            if not sel.any():
                continue
            logits = self.predictions(hidden[sel])
            target = labels[sel]
            losses[f'loss_mlm_{name}'] = self.loss_weight * F.cross_entropy(logits, target)
            losses[f'acc_mlm_{name}'] = (logits.argmax(-1) == target).float().mean().detach()
        return losses

    def predict(self, out: VLEncoding, data_samples: List) -> None:
        """Top-1 word piece and its probability at each ``[MASK]`` position
        (``pred_mlm_ids`` (M,), ``pred_mlm_scores`` (M,), ``pred_mlm_positions`` (M,))."""
        hidden = out.text_hidden
        ids = out.input_ids
        mask_id = self.mask_token_id
        for i, s in enumerate(data_samples):
            if mask_id is not None:
                pos = (ids[i] == mask_id).nonzero().flatten()
            elif 'mlm_labels' in s:
                pos = (torch.as_tensor(s.mlm_labels, device=ids.device) != -100).nonzero().flatten()
            else:
                pos = ids.new_zeros(0)
            prob = self.predictions(hidden[i, pos]).softmax(-1)
            score, top = prob.max(-1)
            s.pred_mlm_positions, s.pred_mlm_ids, s.pred_mlm_scores = pos, top, score

"""VCR: score each of the C choices from its pooled [CLS] output, CE over choices."""
from typing import Dict, List

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vlbert_e2e.registry import MODELS
from vlbert_e2e.structures import VLEncoding

from .base_vl_head import BaseVLHead


@MODELS.register_module()
class VCRHead(BaseVLHead):
    """``pooled[CLS]`` of each (sample, choice) -> Dropout -> Linear -> 1 logit; the
    ``C`` logits of a sample go through a softmax cross-entropy against its ``label``.
    Predict writes ``pred_choice`` and ``pred_choice_scores`` (softmax over choices).

    Args:
        dropout: dropout before the linear layer.
        loss_weight: weight of ``loss_vcr``.
        **kwargs: the encoder sizes and ``init_cfg`` (:class:`BaseVLHead`).
    """

    def __init__(self, dropout: float = 0.1, loss_weight: float = 1.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.dropout, self.loss_weight = dropout, loss_weight
        self.final_mlp = nn.Sequential(nn.Dropout(dropout),
                                       nn.Linear(self._required('hidden_size'), 1))

    def _logits(self, out: VLEncoding) -> Tensor:
        """(B, C) one logit per (sample, choice).

        Raises:
            ValueError: the encoder has no pooler.
        """
        if out.seq.pooled is None:
            raise ValueError('VCRHead needs the pooler: VLBert(add_pooling_layer=True)')
        return self.final_mlp(out.seq.pooled).view(-1, out.num_choices)

    def loss(self, out: VLEncoding, data_samples: List) -> Dict[str, Tensor]:
        """``loss_vcr`` (cross-entropy over choices) and ``acc_vcr``, when every sample
        has its ``label``."""
        if not all('label' in s for s in data_samples):
            return {}
        logits = self._logits(out)
        label = torch.as_tensor([int(s.label) for s in data_samples], device=logits.device)
        acc = (logits.argmax(-1) == label).float().mean()
        return dict(loss_vcr=self.loss_weight * F.cross_entropy(logits, label),
                    acc_vcr=acc.detach())

    def predict(self, out: VLEncoding, data_samples: List) -> None:
        """``pred_choice`` (int) and ``pred_choice_scores`` (C,) of every sample."""
        prob = self._logits(out).softmax(-1)
        for s, p in zip(data_samples, prob):
            s.pred_choice, s.pred_choice_scores = int(p.argmax()), p

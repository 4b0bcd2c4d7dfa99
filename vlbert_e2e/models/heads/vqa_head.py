"""VQA: classify the output at the answer [MASK] over the answer vocabulary."""
from typing import Dict, List

import torch
import torch.nn.functional as F
from torch import Tensor

from vlbert_e2e.registry import MODELS

from .base_vl_head import BaseVLHead, classifier_mlp


@MODELS.register_module()
class VQAHead(BaseVLHead):
    """``[CLS] question [SEP] [MASK] [SEP] RoIs`` -> MLP at ``[MASK]`` -> answer logits.

    Loss: binary cross-entropy against the soft scores (``answer_indices`` /
    ``answer_weights`` of the sample), summed over answers and averaged over the
    samples, as the original. Only samples with an answer slot take part, so VQA can
    share a multi-task batch. Predict writes ``pred_answer_index``, ``pred_answer_score`` and,
    when ``answers`` (the vocabulary, e.g. the dataset's ``metainfo``) is set,
    ``pred_answer``.

    Args:
        num_answers: size of the answer vocabulary (VQA v2: 3129).
        classifier_hidden: hidden size of the MLP (original: 2048 for base).
        dropout: dropout in the MLP.
    """

    def __init__(self, num_answers: int, classifier_hidden: int = 2048,
                 dropout: float = 0.1, loss_weight: float = 1.0, init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.num_answers = num_answers
        self.classifier_hidden = classifier_hidden
        self.dropout = dropout
        self.loss_weight = loss_weight
        self.answers = None
        self.final_mlp = None

    def bind(self, vl_bert) -> None:
        h = vl_bert.hidden_size
        self.final_mlp = classifier_mlp(h, self.classifier_hidden, self.num_answers,
                                        self.dropout)

    def _logits(self, out, data_samples: List, rows: List[int]) -> Tensor:
        if any('answer_position' not in data_samples[i] for i in rows):
            raise KeyError('VQAHead needs answer_position: use Tokenize(mask_as_text_b=True)')
        dev = out.seq.hidden.device
        pos = torch.as_tensor([int(data_samples[i].answer_position) for i in rows], device=dev)
        return self.final_mlp(out.seq.hidden[torch.as_tensor(rows, device=dev), pos])

    def targets(self, data_samples: List, device) -> Tensor:
        t = torch.zeros((len(data_samples), self.num_answers), device=device)
        for i, s in enumerate(data_samples):
            idx = torch.as_tensor(s.answer_indices, dtype=torch.long, device=device)
            t[i, idx] = torch.as_tensor(s.answer_weights, dtype=t.dtype, device=device)
        return t

    def loss(self, out, data_samples: List) -> Dict[str, Tensor]:
        rows = [i for i, s in enumerate(data_samples) if 'answer_indices' in s]
        if not rows:  # other samples of a multi-task batch are not VQA questions
            return {}
        logits = self._logits(out, data_samples, rows)
        tgt = self.targets([data_samples[i] for i in rows], logits.device)
        loss = F.binary_cross_entropy_with_logits(logits, tgt) * self.num_answers
        acc = tgt.gather(1, logits.argmax(-1, keepdim=True)).mean()
        return dict(loss_vqa=self.loss_weight * loss, acc_vqa=acc.detach())

    def predict(self, out, data_samples: List) -> None:
        rows = [i for i, s in enumerate(data_samples) if 'answer_position' in s]
        if not rows:
            return
        score, idx = self._logits(out, data_samples, rows).sigmoid().max(-1)
        for s, i, sc in zip([data_samples[r] for r in rows], idx.tolist(), score.tolist()):
            s.pred_answer_index, s.pred_answer_score = i, sc
            if self.answers is not None:
                s.pred_answer = self.answers[i]

"""VQA: classify the output at the answer [MASK] over the answer vocabulary."""
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vlbert_e2e.registry import MODELS
from vlbert_e2e.structures import VLEncoding

from .base_vl_head import BaseVLHead, classifier_mlp, task_rows
from .mlm_head import MLMPredictionHeadTransform, load_mlm_transform


@MODELS.register_module()
class VQAHead(BaseVLHead):
    """``[CLS] question [SEP] [MASK] [SEP] RoIs`` -> classifier at ``[MASK]`` -> answer
    logits.

    Loss: binary cross-entropy against the soft scores (``answer_indices`` /
    ``answer_weights`` of the sample), summed over answers and averaged over the
    samples, as the original. Only samples with an answer slot take part, so VQA can
    share a multi-task batch. Predict writes ``pred_answer_index``, ``pred_answer_score`` and,
    when ``answers`` (the vocabulary, e.g. the dataset's ``metainfo``) is set,
    ``pred_answer``.

    Args:
        num_answers: size of the answer vocabulary (VQA v2: 3129).
        classifier_hidden: hidden size of ``'2fc'`` (the original's default
            ``CLASSIFIER_HIDDEN_SIZE`` is 1024, vqa/function/config.py; the configs here
            use 2048).
        dropout: the classifier's dropout.
        loss_weight: weight of ``loss_vqa``.
        classifier_type: the original's ``CLASSIFIER_TYPE`` (vqa/modules/
            resnet_vlbert_for_vqa.py), with its parameter names under ``final_mlp``:
            ``'2fc'`` ``Dropout -> Linear(H, classifier_hidden) -> ReLU -> Dropout ->
            Linear(classifier_hidden, num_answers)``; ``'1fc'`` ``Dropout ->
            Linear(H, num_answers)``; ``'mlm'`` (the released VQA configs)
            ``dense H->H -> activation -> LayerNorm`` (BERT's MLM transform) ``->
            Dropout -> Linear(H, num_answers)``.
        pretrained: ``'mlm'`` only: HF folder / hub id whose ``cls.predictions.transform``
            (BERT's MLM transform) initialises ``final_mlp.0``, as the original's
            ``CLASSIFIER_PRETRAINED``; ``None``: random (a converted VL-BERT
            pretraining checkpoint places its MLM transform there instead).
        **kwargs: the encoder sizes and ``init_cfg`` (:class:`BaseVLHead`).
    """

    CLASSIFIER_TYPES = ('2fc', '1fc', 'mlm')

    def __init__(self, num_answers: int, classifier_hidden: int = 2048,
                 dropout: float = 0.1, loss_weight: float = 1.0,
                 classifier_type: str = '2fc', pretrained: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if classifier_type not in self.CLASSIFIER_TYPES:
            raise ValueError(f'classifier_type must be one of {self.CLASSIFIER_TYPES}, '
                             f'got {classifier_type!r}')
        if pretrained is not None and classifier_type != 'mlm':
            raise ValueError("VQAHead(pretrained=...) needs classifier_type='mlm'")
        self.num_answers = num_answers
        self.classifier_type = classifier_type
        self.classifier_hidden = classifier_hidden
        self.dropout = dropout
        self.loss_weight = loss_weight
        self.pretrained = pretrained
        self.answers = None
        self.final_mlp = self._classifier(self._required('hidden_size'))
        if self.pretrained is not None:
            load_mlm_transform(self.final_mlp[0], self.pretrained, 'VQAHead')

    def _classifier(self, h: int) -> nn.Sequential:
        """The ``final_mlp`` of ``classifier_type`` on hidden size ``h``."""
        if self.classifier_type == '2fc':
            return classifier_mlp(h, self.classifier_hidden, self.num_answers, self.dropout)
        if self.classifier_type == '1fc':
            return nn.Sequential(nn.Dropout(self.dropout), nn.Linear(h, self.num_answers))
        return nn.Sequential(MLMPredictionHeadTransform(h, self.hidden_act, self.layer_norm_eps),
                             nn.Dropout(self.dropout), nn.Linear(h, self.num_answers))

    def _logits(self, out: VLEncoding, data_samples: List, rows: List[int]) -> Tensor:
        """(len(rows), num_answers) logits at each row's answer ``[MASK]``.

        Raises:
            KeyError: a row without ``answer_position``.
        """
        if any('answer_position' not in data_samples[i] for i in rows):
            raise KeyError('VQAHead needs answer_position: use Tokenize(mask_as_text_b=True)')
        dev = out.seq.hidden.device
        pos = torch.as_tensor([int(data_samples[i].answer_position) for i in rows], device=dev)
        return self.final_mlp(out.seq.hidden[torch.as_tensor(rows, device=dev), pos])

    def targets(self, data_samples: List, device) -> Tensor:
        """(N, num_answers) soft scores of the samples (``answer_indices`` /
        ``answer_weights``)."""
        t = torch.zeros((len(data_samples), self.num_answers), device=device)
        for i, s in enumerate(data_samples):
            idx = torch.as_tensor(s.answer_indices, dtype=torch.long, device=device)
            t[i, idx] = torch.as_tensor(s.answer_weights, dtype=t.dtype, device=device)
        return t

    def loss(self, out: VLEncoding, data_samples: List) -> Dict[str, Tensor]:
        """``loss_vqa`` (BCE times the answer count) and ``acc_vqa`` (VQA score of the
        top answer) of the samples with ``answer_indices``."""
        rows = task_rows(data_samples, 'vqa', 'answer_indices')
        if not rows:  # other samples of a multi-task batch are not VQA questions
            return {}
        logits = self._logits(out, data_samples, rows)
        tgt = self.targets([data_samples[i] for i in rows], logits.device)
        loss = F.binary_cross_entropy_with_logits(logits, tgt) * self.num_answers
        acc = tgt.gather(1, logits.argmax(-1, keepdim=True)).mean()
        return dict(loss_vqa=self.loss_weight * loss, acc_vqa=acc.detach())

    def predict(self, out: VLEncoding, data_samples: List) -> None:
        """``pred_answer_index``, ``pred_answer_score`` (and ``pred_answer`` with a
        vocabulary) of the samples routed to ``'vqa'`` with an answer slot."""
        rows = task_rows(data_samples, 'vqa', 'answer_position')
        if not rows:
            return
        score, idx = self._logits(out, data_samples, rows).sigmoid().max(-1)
        for s, i, sc in zip([data_samples[r] for r in rows], idx.tolist(), score.tolist()):
            s.pred_answer_index, s.pred_answer_score = i, sc
            if self.answers is not None:
                s.pred_answer = self.answers[i]

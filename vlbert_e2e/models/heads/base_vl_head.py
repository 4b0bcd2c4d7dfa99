"""Interface every VL head follows."""
from typing import Dict, List, Optional

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from vlbert_e2e.structures import VLEncoding, handled_by


class BaseVLHead(BaseModule):
    """A head reads a :class:`VLEncoding` and returns ``loss_*``/``acc_*`` entries
    (``loss``) or writes ``pred_*`` fields into the data samples (``predict``).
    A head returns no loss entry for a batch that carries none of its targets.

    Heads are built in one phase: :class:`VLBertE2E` injects the encoder's sizes into
    each head config before ``MODELS.build`` (as mmdet injects ``train_cfg``), so a
    head creates all its layers in ``__init__``.

    Args:
        hidden_size: H, the encoder's hidden size (injected).
        hidden_act: the encoder's activation name, e.g. ``'gelu'`` (injected).
        layer_norm_eps: the encoder's LayerNorm epsilon (injected).
        vocab_size: the word-embedding table's size (injected).
    """

    def __init__(self, hidden_size: Optional[int] = None, hidden_act: str = 'gelu',
                 layer_norm_eps: float = 1e-12, vocab_size: Optional[int] = None,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.hidden_size, self.hidden_act = hidden_size, hidden_act
        self.layer_norm_eps, self.vocab_size = layer_norm_eps, vocab_size

    def _required(self, name: str) -> int:
        """The injected size ``name``.

        Raises:
            ValueError: it was not given (a head built outside :class:`VLBertE2E`).
        """
        value = getattr(self, name)
        if value is None:
            raise ValueError(f'{type(self).__name__} needs {name}: build it inside '
                             'VLBertE2E (which injects the encoder sizes) or pass it')
        return value

    def loss(self, out: VLEncoding, data_samples: List) -> Dict[str, Tensor]:
        """Losses (``loss_*``, weighted) and logged values (``acc_*``) of the rows
        that carry this head's targets; ``{}`` when none does."""
        raise NotImplementedError

    def predict(self, out: VLEncoding, data_samples: List) -> None:
        """Write this head's ``pred_*`` fields into the samples it answers."""
        raise NotImplementedError


def task_rows(data_samples: List, task: str, needs: str) -> List[int]:
    """Rows this head answers: samples routed to ``task`` (or unrouted, see
    :func:`handled_by`) that carry the field ``needs``."""
    return [i for i, s in enumerate(data_samples) if handled_by(s, task) and needs in s]


def classifier_mlp(in_dim: int, hidden: int, out_dim: int, dropout: float) -> nn.Sequential:
    """``Dropout -> Linear -> ReLU -> Dropout -> Linear``, the original's ``final_mlp``."""
    return nn.Sequential(nn.Dropout(dropout), nn.Linear(in_dim, hidden), nn.ReLU(inplace=True),
                         nn.Dropout(dropout), nn.Linear(hidden, out_dim))


def rows_tensor(rows: List[int], like: Tensor) -> Tensor:
    """``rows`` as a long tensor on ``like``'s device."""
    return torch.as_tensor(rows, device=like.device)

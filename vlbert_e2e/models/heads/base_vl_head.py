"""Interface every VL head follows."""
from typing import Dict, List

from mmengine.model import BaseModule
from torch import Tensor, nn


class BaseVLHead(BaseModule):
    """A head reads :class:`VLModelOutput` and returns ``loss_*``/``acc_*`` entries
    (``loss``) or writes ``pred_*`` fields into the data samples (``predict``).
    A head returns no loss entry for a batch that carries none of its targets."""

    def loss(self, out, data_samples: List) -> Dict[str, Tensor]:
        raise NotImplementedError

    def predict(self, out, data_samples: List) -> None:
        raise NotImplementedError


def classifier_mlp(in_dim: int, hidden: int, out_dim: int, dropout: float) -> nn.Sequential:
    """``Dropout -> Linear -> ReLU -> Dropout -> Linear``, the original's ``final_mlp``."""
    return nn.Sequential(nn.Dropout(dropout), nn.Linear(in_dim, hidden), nn.ReLU(inplace=True),
                         nn.Dropout(dropout), nn.Linear(hidden, out_dim))

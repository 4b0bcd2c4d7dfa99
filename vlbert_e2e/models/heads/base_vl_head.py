"""Interface every VL head follows."""
from typing import Dict, List

from mmengine.model import BaseModule
from torch import Tensor


class BaseVLHead(BaseModule):
    """A head reads :class:`VLModelOutput` and returns ``loss_*``/``acc_*`` entries
    (``loss``) or writes ``pred_*`` fields into the data samples (``predict``).
    A head returns no loss entry for a batch that carries none of its targets."""

    def loss(self, out, data_samples: List) -> Dict[str, Tensor]:
        raise NotImplementedError

    def predict(self, out, data_samples: List) -> None:
        raise NotImplementedError

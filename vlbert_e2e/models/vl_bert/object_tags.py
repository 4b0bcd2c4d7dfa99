"""Object tags: a RoI token's linguistic embedding from the detector's class prediction.

VL-BERT gives every RoI the same ``[IMG]`` embedding, so the encoder must learn from
scratch which words a region's appearance matches. Oscar (Li et al., 2020, arXiv
2004.06165) anchors regions in the word space instead, with the detected class names.
Here the anchor is soft: the RoI's linguistic embedding is the detector's class
distribution over the word embeddings of the class names (``[IMG]`` weighted by the
background probability). Written by hand: neither transformers nor mmdet has it.
"""
from typing import Optional, Sequence

import torch
from torch import Tensor, nn
from transformers import AutoTokenizer

from vlbert_e2e.utils.offline_models import resolve_model_path


class ObjectTagEmbedding(nn.Module):
    """``[N, C+1]`` class probabilities -> ``[N, H]`` linguistic embeddings.

    Args:
        names: the detector's class names, in its label order (``C`` of them).
        tokenizer: HF tokenizer name or folder (``'pkg://minilm-l6'`` works) that
            splits each name into word pieces; a multi-piece name gets their mean.
        drop_prob: in training, each RoI's tag is replaced by ``[IMG]`` with this
            probability (tag dropout), so the encoder must also read what the tag
            says from the RoI's appearance; 0 (default): always the tag.

    Raises:
        ValueError: no names, a name without word pieces, ``drop_prob`` outside [0, 1).
    """

    def __init__(self, names: Sequence[str], tokenizer: str, drop_prob: float = 0.0) -> None:
        super().__init__()
        if not names:
            raise ValueError('object_tags needs the class names')
        if not 0.0 <= drop_prob < 1.0:
            raise ValueError(f'object_tags: drop_prob must be in [0, 1), got {drop_prob}')
        self.drop_prob = drop_prob
        tok = AutoTokenizer.from_pretrained(resolve_model_path(tokenizer))
        pieces = [tok(str(n), add_special_tokens=False)['input_ids'] for n in names]
        empty = [n for n, p in zip(names, pieces) if not p]
        if empty:
            raise ValueError(f'object_tags: the tokenizer gives no word piece for {empty}')
        width = max(len(p) for p in pieces)
        ids = torch.zeros(len(names), width, dtype=torch.long)
        weight = torch.zeros(len(names), width)
        for i, p in enumerate(pieces):
            ids[i, :len(p)] = torch.tensor(p)
            weight[i, :len(p)] = 1.0 / len(p)
        self.names = tuple(names)
        self.register_buffer('ids', ids, persistent=False)
        self.register_buffer('weight', weight, persistent=False)

    @property
    def num_classes(self) -> int:
        """C, the number of class names."""
        return len(self.names)

    def forward(self, cls_prob: Tensor, word_embeddings: nn.Embedding,
                img_embedding: Tensor, is_image_box: Optional[Tensor] = None) -> Tensor:
        """``cls_prob``: ``[N, C+1]`` (background last, as mmdet); ``is_image_box``:
        ``[N]`` bool, rows that get the plain ``[IMG]`` embedding (the whole image)."""
        names = (word_embeddings(self.ids) * self.weight[..., None]).sum(1)  # [C, H]
        prob = cls_prob.to(names.dtype)
        emb = prob[:, :-1] @ names + prob[:, -1:] * img_embedding
        plain = is_image_box
        if self.training and self.drop_prob > 0:
            drop = torch.rand(len(emb), device=emb.device) < self.drop_prob
            plain = drop if plain is None else plain | drop
        if plain is not None:
            emb = torch.where(plain[:, None], img_embedding.expand_as(emb), emb)
        return emb

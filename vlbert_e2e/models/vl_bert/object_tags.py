"""Object tags: a RoI token's linguistic embedding from the detector's class prediction.

VL-BERT gives every RoI the same ``[IMG]`` embedding, so the encoder must learn from
scratch which words a region's appearance matches. Oscar (Li et al., 2020, arXiv
2004.06165) anchors regions in the word space instead, with the detected class names.
Here the anchor is soft: the RoI's linguistic embedding is the detector's class
distribution over the word embeddings of the class names (``[IMG]`` weighted by the
background probability). With attribute names (the detector's attribute head, BUTD)
the tag is a two-word phrase, as BUTD's "green triangle": the mean of the class part and
the attribute distribution over the attribute names' word embeddings. Written by hand:
neither transformers nor mmdet has it.
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
        attribute_names: the attribute head's attribute names, in its order (``A``
            of them); ``None`` (default): the tag names the class only.

    Raises:
        ValueError: no names, a name without word pieces, ``drop_prob`` outside [0, 1).
    """

    def __init__(self, names: Sequence[str], tokenizer: str, drop_prob: float = 0.0,
                 attribute_names: Optional[Sequence[str]] = None) -> None:
        super().__init__()
        if not names:
            raise ValueError('object_tags needs the class names')
        if not 0.0 <= drop_prob < 1.0:
            raise ValueError(f'object_tags: drop_prob must be in [0, 1), got {drop_prob}')
        self.drop_prob = drop_prob
        tok = AutoTokenizer.from_pretrained(resolve_model_path(tokenizer))
        self.names = tuple(names)
        self.attribute_names = tuple(attribute_names or ())
        for prefix, words in (('', self.names), ('attr_', self.attribute_names)):
            ids, weight = _word_pieces(tok, words)
            self.register_buffer(prefix + 'ids', ids, persistent=False)
            self.register_buffer(prefix + 'weight', weight, persistent=False)

    @property
    def num_classes(self) -> int:
        """C, the number of class names."""
        return len(self.names)

    def forward(self, cls_prob: Tensor, word_embeddings: nn.Embedding,
                img_embedding: Tensor, is_image_box: Optional[Tensor] = None,
                attr_prob: Optional[Tensor] = None) -> Tensor:
        """``cls_prob``: ``[N, C+1]`` (background last, as mmdet); ``is_image_box``:
        ``[N]`` bool, rows that get the plain ``[IMG]`` embedding (the whole image);
        ``attr_prob``: ``[N, A]`` attribute distribution, read when the tags name
        attributes: tag = ``fg * (class_part / fg + attr_part) / 2 + bg * [IMG]``, with
        ``class_part = cls_prob[:, :C] @ E_names`` and ``attr_part = attr_prob @ E_attrs``
        (``E``: mean word-piece embeddings, ``fg = 1 - bg``)."""
        names = _embed(word_embeddings, self.ids, self.weight)  # [C, H]
        prob = cls_prob.to(names.dtype)
        obj = prob[:, :-1] @ names
        if self.attribute_names and attr_prob is not None:
            attrs = _embed(word_embeddings, self.attr_ids, self.attr_weight)  # [A, H]
            obj = 0.5 * (obj + (1.0 - prob[:, -1:]) * (attr_prob.to(names.dtype) @ attrs))
        emb = obj + prob[:, -1:] * img_embedding
        plain = is_image_box
        if self.training and self.drop_prob > 0:
            drop = torch.rand(len(emb), device=emb.device) < self.drop_prob
            plain = drop if plain is None else plain | drop
        if plain is not None:
            emb = torch.where(plain[:, None], img_embedding.expand_as(emb), emb)
        return emb


def _word_pieces(tok, words: Sequence[str]):
    """``(ids [W, P], weight [W, P])``: each word's pieces, weighted by 1 / their
    count (zero-padded); ``W = 0`` for no words.

    Raises:
        ValueError: a word without word pieces.
    """
    pieces = [tok(str(n), add_special_tokens=False)['input_ids'] for n in words]
    empty = [n for n, p in zip(words, pieces) if not p]
    if empty:
        raise ValueError(f'object_tags: the tokenizer gives no word piece for {empty}')
    width = max((len(p) for p in pieces), default=1)
    ids = torch.zeros(len(words), width, dtype=torch.long)
    weight = torch.zeros(len(words), width)
    for i, p in enumerate(pieces):
        ids[i, :len(p)] = torch.tensor(p)
        weight[i, :len(p)] = 1.0 / len(p)
    return ids, weight


def _embed(word_embeddings: nn.Embedding, ids: Tensor, weight: Tensor) -> Tensor:
    """``[W, H]`` mean word-piece embedding of each word."""
    return (word_embeddings(ids) * weight[..., None]).sum(1)

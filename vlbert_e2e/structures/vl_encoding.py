"""The encoder's output (VLSequence) and everything a head reads (VLEncoding)."""
from dataclasses import dataclass
from typing import Optional, Tuple

from torch import Tensor

from .region_features import RegionFeatures


@dataclass
class VLSequence:
    """Output of the VL-BERT encoder and where each input token went (T: the longest
    sequence of the batch, text + RoIs + ``[END]``).

    Attributes:
        hidden: (B, T, H) last hidden states.
        pooled: (B, H) pooler output of ``[CLS]``, ``None`` without a pooler.
        attention_mask: (B, T) long, 1 on real tokens.
        roi_pos: (B, R) long, sequence position of each RoI (-1 where padded).
        text_len: (B,) long, number of text tokens (``[CLS] ... [SEP]``).
        attentions: per encoder layer, (B, heads, T, T) attention probabilities
            (query -> key); only when asked for (``output_attentions=True``).
    """
    hidden: Tensor
    pooled: Optional[Tensor]
    attention_mask: Tensor
    roi_pos: Tensor
    text_len: Tensor
    attentions: Optional[Tuple[Tensor, ...]] = None

    def roi_hidden(self) -> Tensor:
        """(B, R, H) output of each RoI token (rows of padded RoIs are arbitrary)."""
        idx = self.roi_pos.clamp(min=0)[..., None].expand(-1, -1, self.hidden.shape[-1])
        return self.hidden.gather(1, idx)


@dataclass
class VLEncoding:
    """What heads read, batch-aligned: B rows = samples, or (sample, choice) pairs,
    sample-major, with C > 1 choices per sample (VCR). R: most RoIs of a row.

    Attributes:
        seq: the encoder output (:class:`VLSequence`).
        input_ids: (B, L) padded word-piece ids.
        mlm_labels: (B, L) MLM targets (-100: none), or ``None`` when no sample has any.
        has_image: (B,) bool, rows with regions.
        roi_valid: (B, R) bool, real RoIs (box 0 = the whole image).
        roi_masked: (B, R) bool, RoIs whose pixels were zeroed.
        roi_boxes: (B, R, 4) RoIs in the resized image, pixels (0 where padded).
        roi_cls_dist: (B, R, C + 1) detector class distribution, or ``None``.
        region: the region encoder's output (one entry per image row), or ``None``
            for a batch without images.
        num_choices: C, choices per sample (1 without).
    """
    seq: VLSequence
    input_ids: Tensor
    mlm_labels: Optional[Tensor]
    has_image: Tensor
    roi_valid: Tensor
    roi_masked: Tensor
    roi_boxes: Tensor
    roi_cls_dist: Optional[Tensor]
    region: Optional[RegionFeatures]
    num_choices: int = 1

    @property
    def text_hidden(self) -> Tensor:
        """(B, L, H) the outputs of the text positions."""
        return self.seq.hidden[:, :self.input_ids.shape[1]]

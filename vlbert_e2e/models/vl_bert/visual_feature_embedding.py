"""Visual feature embedding: appearance of a RoI + its geometry -> one vector."""
from typing import Optional

import torch
from torch import Tensor, nn

from vlbert_e2e.registry import MODELS


def box_geometry_embedding(boxes: Tensor, img_wh: Tensor, mode: str = 'corner',
                           dim: int = 2048, wavelength: float = 1000.,
                           scale: float = 100.) -> Tensor:
    """Sin/cos embedding of box geometry, ``dim // 4`` values per coordinate.

    Written by hand: neither mmdet nor transformers ships VL-BERT's box embedding.

    Args:
        boxes: ``[N, 4]`` boxes ``(x1, y1, x2, y2)`` in pixels.
        img_wh: ``[N, 2]`` width and height of each box's image.
        mode: ``'corner'`` (paper, default): the coordinates are
            ``(x1/W, y1/H, x2/W, y2/H)``; ``'center_size'`` (the original code, needed
            to reproduce its checkpoints): ``(xc/W, yc/H, w/W, h/H)`` with ``w = x2 - x1``.
        dim: output size; each coordinate gets ``dim // 8`` sines then as many cosines.
        wavelength, scale: coordinate ``p`` (normalised, times ``scale``) becomes
            ``sin(p / wavelength ** (i / k))``, ``cos(...)`` for ``i < k = dim // 8``.

    Returns:
        ``[N, dim]``, coordinate-major: ``[sin(c0), cos(c0), sin(c1), ...]``.
    """
    if dim % 8:
        raise ValueError(f'geometry dim must be a multiple of 8, got {dim}')
    x1, y1, x2, y2 = boxes.float().unbind(-1)
    w, h = img_wh.float().unbind(-1)
    if mode == 'corner':
        coords = torch.stack([x1 / w, y1 / h, x2 / w, y2 / h], -1)
    elif mode == 'center_size':
        coords = torch.stack([(x1 + x2) / 2 / w, (y1 + y2) / 2 / h,
                              (x2 - x1) / w, (y2 - y1) / h], -1)
    else:
        raise ValueError(f"geometry mode must be 'corner' or 'center_size', got {mode!r}")
    k = dim // 8
    inv = wavelength ** (torch.arange(k, dtype=torch.float32, device=boxes.device) / k)
    phase = coords[..., None] * scale / inv  # [N, 4, k]
    return torch.cat([phase.sin(), phase.cos()], -1).flatten(1)


@MODELS.register_module()
class VisualFeatureEmbedding(nn.Module):
    """``[geometry ; appearance] -> Dropout -> Linear -> ReLU`` (geometry first, as the
    original ``obj_downsample``).

    ``appearance_norm='ln'`` puts a LayerNorm on the appearance first, as UNITER's and
    LXMERT's visual embeddings do (Chen et al. 2020, arXiv 1909.11740; Tan & Bansal
    2019, arXiv 1908.07490). It matters for a detector trained from scratch: its RoI
    features (post-ReLU, pooled) share a large positive mean, and AdamW steps along that
    common direction switch ReLU units off for every input, and what the RoI feature
    held (an object's colour, say) does not reach the encoder. Measured on the shapes
    demo with ``tools/analysis_tools/probe_regions.py`` (README, the demo section).

    Args:
        appearance_dim: size of the RoI appearance feature (2048 for C4, 1024 for FPN).
        out_dim: output size (the original maps straight to the hidden size).
        geometry: ``'corner'`` (paper) or ``'center_size'`` (original code).
        geometry_dim: size of the geometry embedding (4 x 512 = 2048).
        dropout: dropout before the linear layer.
        appearance_norm: ``None`` (the original) or ``'ln'`` (LayerNorm over the
            appearance feature, with a learned affine).

    Raises:
        ValueError: an unknown ``appearance_norm``.
    """

    def __init__(self, appearance_dim: int, out_dim: int, geometry: str = 'corner',
                 geometry_dim: int = 2048, dropout: float = 0.1,
                 appearance_norm: Optional[str] = None) -> None:
        super().__init__()
        if appearance_norm not in (None, 'ln'):
            raise ValueError(f"appearance_norm must be None or 'ln', got {appearance_norm!r}")
        self.appearance_norm = (nn.LayerNorm(appearance_dim) if appearance_norm == 'ln'
                                else nn.Identity())
        self.geometry = geometry
        self.geometry_dim = geometry_dim
        self.appearance_dim = appearance_dim
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(geometry_dim + appearance_dim, out_dim)

    def forward(self, appearance: Tensor, boxes: Tensor, img_wh: Tensor) -> Tensor:
        """RoI embeddings.

        Args:
            appearance: (N, appearance_dim) RoI features.
            boxes: (N, 4) boxes (x1, y1, x2, y2), pixels.
            img_wh: (N, 2) width and height of each box's image, pixels.

        Returns:
            (N, out_dim) embeddings.
        """
        geo = box_geometry_embedding(boxes, img_wh, self.geometry, self.geometry_dim)
        x = torch.cat([geo.to(appearance.dtype), self.appearance_norm(appearance)], -1)
        return torch.relu(self.fc(self.dropout(x)))

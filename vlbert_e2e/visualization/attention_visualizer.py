"""Pictures of VL-BERT's attention: a heat over the RoIs, the text-to-text matrix."""
from typing import Optional, Sequence

import cv2
import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .canvas import draw_labelled_boxes, to_display, with_legend
from .region_attention import rank_regions


def region_heat(shape: Sequence[int], boxes: np.ndarray, weights: np.ndarray,
                top: Optional[float] = None) -> np.ndarray:
    """``(H, W)`` heat in [0, 1]: each pixel takes the largest weight of the boxes
    covering it, divided by ``top`` (default: the largest weight).

    Args:
        shape: ``(H, W, ...)`` of the picture.
        boxes: ``(N, 4)`` x1, y1, x2, y2 in pixels.
        weights: ``(N,)`` weights.
        top: the weight drawn at full heat.
    """
    h, w = shape[:2]
    heat = np.zeros((h, w), np.float32)
    for (x1, y1, x2, y2), wt in zip(np.round(boxes).astype(int), weights):
        cell = heat[max(y1, 0):max(y2, 0), max(x1, 0):max(x2, 0)]
        np.maximum(cell, float(wt), out=cell)
    top = float(np.max(weights)) if top is None and len(weights) else top
    return heat / top if top else heat


def _overlay(img: np.ndarray, heat: np.ndarray, strength: float = 0.6) -> np.ndarray:
    """Blend a JET-coloured heat into an RGB image; cold pixels keep the picture."""
    colour = cv2.applyColorMap((heat * 255).astype(np.uint8), cv2.COLORMAP_JET)[..., ::-1]
    a = (strength * heat)[..., None]
    return (img * (1 - a) + colour * a).clip(0, 255).astype(np.uint8)


def draw_region_attention(image: np.ndarray, boxes, weights, names: Optional[Sequence] = None,
                          top_k: int = 5, title: str = '') -> np.ndarray:
    """Heat of ``weights`` over the RoIs on ``image``; the ``top_k`` RoIs (with some
    weight) outlined and labelled with their rank and weight; a legend strip listing
    the ``top_k`` regions, the whole image included.

    Box 0 is the whole image: it is listed, not painted (it would cover everything),
    but its weight counts in the heat's scale, so a token that looked mostly at the
    whole picture leaves the RoIs cool.

    Args:
        image: ``(H, W, 3)`` RGB uint8.
        boxes: ``(R, 4)`` RoIs in ``image`` pixels; box 0 is the whole image.
        weights: ``(R,)`` attention weight of each RoI.
        names: ``R`` labels (default ``'RoI i'``, ``'whole image'`` for box 0).
        top_k: how many regions to outline and list.
        title: first legend line(s), ``\\n``-separated.

    Returns:
        RGB uint8 picture at display size with the legend strip below.
    """
    weights = torch.as_tensor(weights, dtype=torch.float32).reshape(-1).numpy()
    img, boxes, font = to_display(image, torch.as_tensor(boxes, dtype=torch.float32).numpy())
    names = list(names) if names is not None else [
        'whole image' if i == 0 else f'RoI {i}' for i in range(len(boxes))]
    img = _overlay(img, region_heat(img.shape, boxes[1:], weights[1:],
                                    top=float(weights.max()) if len(weights) else None))
    ranked = rank_regions(torch.from_numpy(weights), top_k)
    lines = (title.split('\n') if title else []) + [
        f'#{r + 1}  {names[i]}: {wt:.3f}' for r, (i, wt) in enumerate(ranked)]
    vis = with_legend(img, lines, font)
    shown = [(r, i) for r, (i, wt) in enumerate(ranked) if i != 0 and wt > 0]
    draw_labelled_boxes(vis, boxes[[i for _, i in shown]].reshape(-1, 4),
                        [f'#{r + 1} {weights[i]:.2f}' for r, i in shown], 'white', font)
    return vis.get_image()


def draw_text_attention(matrix, tokens: Sequence[str], title: str = '') -> np.ndarray:
    """The ``(n, n)`` text-to-text attention (rows: query tokens, columns: attended
    tokens) as a labelled matrix picture; returns ``(H, W, 3)`` RGB uint8."""
    m = torch.as_tensor(matrix, dtype=torch.float32).numpy()
    n = len(tokens)
    side = min(max(4.5, 0.32 * n + 2.5), 16.0)
    fig = Figure(figsize=(side + 1.2, side), dpi=100)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    im = ax.imshow(m, cmap='viridis', vmin=0.0)
    ax.set_xticks(range(n), tokens, rotation=90, fontsize=9)
    ax.set_yticks(range(n), tokens, fontsize=9)
    ax.set_xlabel('attended token')
    ax.set_ylabel('query token')
    if title:
        fig.suptitle(title, fontsize=10)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()

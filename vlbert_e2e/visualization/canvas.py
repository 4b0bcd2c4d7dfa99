"""Shared drawing steps: display size, a legend strip, labelled boxes.

In the manner of mmdet's ``DetLocalVisualizer`` (MMEngine's :class:`Visualizer`,
labels on a dark background, font sizes from mmdet's ``_get_adaptive_scales``). A
picture is first brought to a display size (short side >= 480 px, long side <= 1280 px)
so the labels stay readable on a 64 px thumbnail and on a 4000 px photograph alike.
"""
from typing import Sequence, Tuple

import cv2
import numpy as np
from mmdet.visualization.palette import _get_adaptive_scales
from mmengine.visualization import Visualizer

MIN_SHORT, MAX_LONG = 480, 1280
LABEL_BG = dict(facecolor='black', alpha=0.75, pad=0.6, edgecolor='none')


def display_scale(h: int, w: int) -> float:
    """Factor that brings an ``h`` x ``w`` picture to the display size."""
    s = max(1.0, MIN_SHORT / min(h, w))
    return min(s, MAX_LONG / max(h, w)) if max(h, w) * s > MAX_LONG else s


def to_display(image: np.ndarray, boxes) -> Tuple[np.ndarray, np.ndarray, int]:
    """``(image, boxes, font size)`` at display size; ``boxes`` ``(N, 4)`` pixels."""
    s = display_scale(*image.shape[:2])
    img = cv2.resize(image, None, fx=s, fy=s, interpolation=cv2.INTER_LINEAR) \
        if s != 1 else image.copy()
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4) * s
    return img, boxes, int(np.clip(min(img.shape[:2]) / 36, 11, 28))


def with_legend(img: np.ndarray, lines: Sequence[str], font: int) -> Visualizer:
    """A visualizer holding ``img`` above a dark strip that lists ``lines``."""
    strip = np.full((int(font * 1.6 * len(lines) + font), img.shape[1], 3), 32, np.uint8)
    vis = Visualizer()
    vis.set_image(np.concatenate([img, strip], 0) if lines else img)
    if lines:
        vis.draw_texts('\n'.join(lines), np.array([font // 2, img.shape[0] + font // 2]),
                       font_sizes=font, colors='white', font_families='monospace')
    return vis


def draw_labelled_boxes(vis: Visualizer, boxes: np.ndarray, labels: Sequence[str],
                        color, font: int) -> None:
    """Outline ``boxes`` in ``color``; each label on a dark background at its corner."""
    if len(boxes) == 0:
        return
    vis.draw_bboxes(boxes, edge_colors=color, line_widths=max(2, font // 6), alpha=0.9)
    # mmdet's scales (0.5-1 by box area), floored: small boxes keep readable labels
    scales = _get_adaptive_scales((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))
    vis.draw_texts(list(labels), boxes[:, :2] + 2,
                   font_sizes=[int(font * s) for s in scales.clip(0.75)], colors='white',
                   bboxes=[LABEL_BG] * len(boxes))

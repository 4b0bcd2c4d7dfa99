"""Shared drawing steps on mmdet's ``DetLocalVisualizer``: display size, a legend
strip, labelled boxes with a background behind the text, a montage.

A picture is first brought to a display size (short side >= ``MIN_SHORT`` px, long side
<= ``max_long`` px) and the font is chosen from that size (:func:`font_size`), so labels
stay readable on a 64 px thumbnail and on a 4000 px photograph alike (mmdet's own
``13 * scale`` pt labels are 6-13 px whatever the picture). Labels sit on a dark
background, as mmdet draws them; mmdet's area-adaptive scale (``_get_adaptive_scales``)
shrinks a small box's label, floored at ``MIN_LABEL_SCALE``.
"""
import textwrap
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np
from mmdet.visualization import DetLocalVisualizer
from mmdet.visualization.palette import _get_adaptive_scales

MIN_SHORT, MAX_LONG = 480, 1280
MIN_FONT, MAX_FONT = 13, 32  # points; at the visualizer's 100 dpi a digit is ~1 px / pt
MIN_LABEL_SCALE = 0.8
LABEL_BG = dict(facecolor='black', alpha=0.8, pad=0.6, edgecolor='none')  # mmdet's style
STRIP_GREY = 32


def display_scale(h: int, w: int, max_long: int = MAX_LONG) -> float:
    """Factor that brings an ``h`` x ``w`` picture to the display size (short side at
    least ``MIN_SHORT``, long side at most ``max_long``; the long side wins)."""
    s = max(1.0, MIN_SHORT / min(h, w))
    return min(s, max_long / max(h, w)) if max(h, w) * s > max_long else s


def font_size(h: int, w: int) -> int:
    """Font size (points) of the text drawn on an ``h`` x ``w`` display-size picture:
    a 30th of the short side, within [``MIN_FONT``, ``MAX_FONT``]."""
    return int(np.clip(min(h, w) / 30, MIN_FONT, MAX_FONT))


def to_display(image: np.ndarray, boxes, max_long: int = MAX_LONG
               ) -> Tuple[np.ndarray, np.ndarray, int]:
    """Bring a picture and its boxes to display size.

    Args:
        image: ``(H, W, 3)`` uint8.
        boxes: ``(N, 4)`` x1, y1, x2, y2 in ``image`` pixels.
        max_long: the longest side allowed (px).

    Returns:
        ``(image (H', W', 3), boxes (N, 4) in its pixels, font size)``.
    """
    s = display_scale(*image.shape[:2], max_long=max_long)
    img = cv2.resize(image, None, fx=s, fy=s, interpolation=cv2.INTER_LINEAR) \
        if s != 1 else image.copy()
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4) * s
    return img, boxes, font_size(*img.shape[:2])


def shared_visualizer() -> DetLocalVisualizer:
    """The one :class:`DetLocalVisualizer` every drawing of the package uses (one
    instance, not one per picture: MMEngine keeps each instance alive)."""
    return DetLocalVisualizer.get_instance('vlbert_e2e.drawing')


def with_legend(img: np.ndarray, lines: Sequence[str], font: int,
                colors: Optional[Sequence] = None) -> DetLocalVisualizer:
    """The shared visualizer holding ``img`` (RGB) above a dark strip that lists
    ``lines``, each in its colour (``colors``, default white), a line longer than the
    picture is wide wrapped onto more rows."""
    colors = list(colors) if colors is not None else ['white'] * len(lines)
    # a monospace character at 100 dpi is ~0.84 * font px wide, a row ~1.4 * font high
    width = max(8, int((img.shape[1] - font) / (0.84 * font)))
    rows = [(part, c) for line, c in zip(lines, colors)
            for part in (textwrap.wrap(line, width) or [''])]
    lines, colors = [r for r, _ in rows], [c for _, c in rows]
    step = int(font * 1.9)
    strip = np.full((step * len(lines) + font, img.shape[1], 3), STRIP_GREY, np.uint8)
    vis = shared_visualizer()
    vis.set_image(np.concatenate([img, strip], 0) if lines else img)
    for i, (line, color) in enumerate(zip(lines, colors)):
        vis.draw_texts(line, np.array([font // 2, img.shape[0] + font // 2 + i * step]),
                       font_sizes=font, colors=color, font_families='monospace')
    return vis


def draw_labelled_boxes(vis: DetLocalVisualizer, boxes: np.ndarray, labels: Sequence[str],
                        color, font: int, bottom: bool = False) -> None:
    """Outline ``boxes`` (``(N, 4)`` px) in ``color``; each label in white on a dark
    background at its box's top-left corner (``bottom``: bottom-left, inside the box,
    so a second label of the same box does not cover the first), mmdet's
    area-adaptive scale floored."""
    if len(boxes) == 0:
        return
    vis.draw_bboxes(boxes, edge_colors=color, line_widths=max(2, font // 6), alpha=0.9)
    scales = _get_adaptive_scales((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))
    sizes = [int(font * s) for s in scales.clip(MIN_LABEL_SCALE)]
    at = boxes[:, :2] + 2
    if bottom:  # the text's top a line (+ the background's pad) above the bottom edge
        at = np.stack([at[:, 0], np.maximum(at[:, 1], boxes[:, 3] - 1.6 * np.array(sizes))], 1)
    vis.draw_texts(list(labels), at, font_sizes=sizes, colors='white',
                   bboxes=[LABEL_BG] * len(boxes))


def montage(pictures: Sequence[np.ndarray], cols: int = 4, gap: int = 8) -> np.ndarray:
    """One picture of ``pictures`` in a grid, row by row.

    Hand-written (MMEngine's ``Visualizer`` draws one image; a grid of differently
    sized pictures is a few lines of numpy). Draw the cells small (e.g.
    ``max_long=480``) beforehand: the grid does not resize, so their text stays as
    readable as drawn.

    Args:
        pictures: ``(H_i, W_i, 3)`` uint8 pictures.
        cols: pictures per row.
        gap: dark px between cells.

    Returns:
        ``(rows * (H + gap) + gap, cols * (W + gap) + gap, 3)`` uint8, ``H`` and ``W``
        the largest height and width.

    Raises:
        ValueError: no picture.
    """
    if not pictures:
        raise ValueError('a montage needs at least one picture')
    cols = max(1, min(cols, len(pictures)))
    rows = -(-len(pictures) // cols)
    h = max(p.shape[0] for p in pictures)
    w = max(p.shape[1] for p in pictures)
    out = np.full((rows * (h + gap) + gap, cols * (w + gap) + gap, 3), 16, np.uint8)
    for i, p in enumerate(pictures):
        y, x = gap + (i // cols) * (h + gap), gap + (i % cols) * (w + gap)
        out[y:y + p.shape[0], x:x + p.shape[1]] = p[..., :3]
    return out

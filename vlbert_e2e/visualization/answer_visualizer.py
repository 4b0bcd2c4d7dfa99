"""The picture of an answer: detections, the chosen box, the question and answer."""
from typing import Optional, Sequence, Tuple

import numpy as np

from .canvas import draw_labelled_boxes, to_display, with_legend


def draw_answer(image: np.ndarray, detections: Sequence[Tuple[Sequence[float], str]] = (),
                chosen: Optional[Tuple[Sequence[float], str]] = None,
                lines: Sequence[str] = ()) -> np.ndarray:
    """Detections outlined in green, the chosen box (e.g. a grounded expression) in
    red, each with its label, and ``lines`` (question, answer) in a strip below.

    Args:
        image: ``(H, W, 3)`` RGB uint8.
        detections: ``(box, label)`` pairs, boxes x1, y1, x2, y2 in ``image`` pixels.
        chosen: one ``(box, label)`` drawn over the detections.
        lines: text lines of the legend strip.

    Returns:
        RGB uint8 picture at display size (see :func:`canvas.display_scale`).
    """
    pairs = list(detections) + ([chosen] if chosen is not None else [])
    img, boxes, font = to_display(image, [b for b, _ in pairs])
    vis = with_legend(img, list(lines), font)
    n = len(detections)
    draw_labelled_boxes(vis, boxes[:n], [lab for _, lab in detections], (0, 200, 0), font)
    if chosen is not None:
        draw_labelled_boxes(vis, boxes[n:], [chosen[1]], (230, 0, 0), font)
    return vis.get_image()

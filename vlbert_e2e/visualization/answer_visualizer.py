"""The picture of an answer: detections, the chosen box, the question, the answer and,
when known, the true answer with a right/wrong mark."""
from typing import Optional, Sequence, Tuple

import numpy as np

from .canvas import MAX_LONG, draw_labelled_boxes, to_display, with_legend

DETECTION_COLOR, CHOSEN_COLOR, UNREAD_COLOR = (0, 200, 0), (230, 0, 0), (160, 160, 160)
RIGHT_COLOR, WRONG_COLOR = (90, 230, 90), (255, 90, 90)


def verdict_line(truth: str, right: bool) -> Tuple[str, tuple]:
    """``('truth: <truth>   RIGHT', green)`` or ``(... 'WRONG', red)``: the legend line
    of a picture whose answer is known."""
    return (f'truth: {truth}   {"RIGHT" if right else "WRONG"}',
            RIGHT_COLOR if right else WRONG_COLOR)


def draw_answer(image: np.ndarray, detections: Sequence[Tuple[Sequence[float], str]] = (),
                chosen: Optional[Tuple[Sequence[float], str]] = None,
                lines: Sequence[str] = (), truth: Optional[str] = None,
                right: Optional[bool] = None, max_long: int = MAX_LONG,
                unread: Sequence[Tuple[Sequence[float], str]] = ()) -> np.ndarray:
    """Detections outlined in green, the chosen box (e.g. a grounded expression) in
    red, each with its label on a dark background, and ``lines`` (question, answer) in
    a strip below; with ``truth``, one more line names it and marks the answer RIGHT
    (green) or WRONG (red). Detections the model did not read (``unread``) are grey,
    their labels marked "(not read)", so a count can be checked against the green
    boxes.

    Args:
        image: ``(H, W, 3)`` RGB uint8.
        detections: ``(box, label)`` pairs, boxes x1, y1, x2, y2 in ``image`` pixels.
        unread: ``(box, label)`` pairs of detections that were not the model's RoIs
            (below its RoI score threshold, or past its RoI count).
        chosen: one ``(box, label)`` drawn over the detections.
        lines: text lines of the legend strip.
        truth: the true answer, if known.
        right: whether the answer is right (required with ``truth``).
        max_long: longest side of the drawn picture (px), e.g. 480 for a montage cell.

    Returns:
        ``(H', W' , 3)`` RGB uint8 picture at display size (see
        :func:`canvas.display_scale`), the legend strip below the image.
    """
    unread = [(b, f'{lab} (not read)') for b, lab in unread]
    pairs = unread + list(detections) + ([chosen] if chosen is not None else [])
    img, boxes, font = to_display(image, [b for b, _ in pairs], max_long)
    lines, colors = list(lines), ['white'] * len(lines)
    if truth is not None:
        line, color = verdict_line(truth, bool(right))
        lines.append(line)
        colors.append(color)
    vis = with_legend(img, lines, font, colors)
    u, n = len(unread), len(unread) + len(detections)
    draw_labelled_boxes(vis, boxes[:u], [lab for _, lab in unread], UNREAD_COLOR, font)
    draw_labelled_boxes(vis, boxes[u:n], [lab for _, lab in detections], DETECTION_COLOR,
                        font)
    if chosen is not None:
        # usually one of the detections: its label goes to the bottom, not over theirs
        draw_labelled_boxes(vis, boxes[n:], [chosen[1]], CHOSEN_COLOR, font, bottom=True)
    return vis.get_image()

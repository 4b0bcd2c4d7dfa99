"""Drawings a person can read: label text height measured in the rendered pixels on a
160 px and a 4000 px picture, the right/wrong mark, the montage grid."""
import numpy as np
import pytest

from vlbert_e2e.visualization import display_scale, draw_answer, montage, verdict_line
from vlbert_e2e.visualization.answer_visualizer import DETECTION_COLOR, UNREAD_COLOR

BLUE = (0, 0, 255)


def _text_rows(region: np.ndarray) -> int:
    """Height in px of the white text in ``region``: from the first to the last row
    holding a light pixel (every channel > 150; the blue picture, the dark label
    background and the green box edge have a channel below it)."""
    light = (region > 150).all(-1)
    rows = np.flatnonzero(light.any(1))
    return int(rows[-1] - rows[0] + 1) if len(rows) else 0


@pytest.mark.parametrize('side', [160, 4000])
def test_label_text_is_at_least_10_px_high(side):
    """A detection label and a legend line drawn on a plain blue picture: the text of
    each, measured row by row in the drawing, is >= 10 px high (mmdet's own 13 pt x
    area scale would be 6-13 px whatever the picture)."""
    h, w = side, side * 3 // 4
    img = np.zeros((h, w, 3), np.uint8)
    img[:] = BLUE
    box = [0.2 * w, 0.3 * h, 0.9 * w, 0.9 * h]
    pic = draw_answer(img, [(box, 'circle 0.93')], lines=['Hi: what colour is it?'])
    s = display_scale(h, w)
    dh, dw = round(h * s), round(w * s)
    assert pic.shape[1] == dw and pic.shape[0] > dh  # the legend strip below
    dark = (pic[:dh, :, 2] < 120) & (pic[:dh, :, 1] < 100)  # the label's background
    ys, xs = np.nonzero(dark)
    assert len(ys) > 100 and abs(xs.min() - box[0] * s) < 8 and abs(ys.min() - box[1] * s) < 8
    label_px = _text_rows(pic[ys.min():ys.max() + 1, xs.min():xs.max() + 1])
    legend_px = _text_rows(pic[dh + 2:])
    assert label_px >= 10 and legend_px >= 10, (label_px, legend_px)
    assert label_px <= 60 and legend_px <= 60  # and not absurd


def test_chosen_box_label_does_not_cover_the_detection_label_of_the_same_box():
    """A grounded box is usually one of the detections: its label sits at the box's
    bottom, the detection's at its top, two separate dark label backgrounds."""
    img = np.zeros((160, 160, 3), np.uint8)
    img[:] = BLUE
    box = [40, 0, 120, 100]  # touching the top edge, where the labels used to collide
    pic = draw_answer(img, [(box, 'square 0.60')], chosen=(box, 'the red square 0.32'))
    s = display_scale(160, 160)
    dark = (pic < 100).all(-1)[:round(160 * s)]  # label background (not the red edge)
    rows = np.flatnonzero(dark[:, round(44 * s):round(100 * s)].sum(1) > 10)
    assert len(rows)
    runs = np.split(rows, np.flatnonzero(np.diff(rows) > 1) + 1)  # label backgrounds
    assert len(runs) == 2, [(r[0], r[-1]) for r in runs]
    assert runs[0][0] < 10 * s and runs[1][-1] <= 100 * s + 2 and runs[1][0] > 50 * s


def test_truth_line_marks_right_and_wrong():
    img = np.full((160, 160, 3), 128, np.uint8)
    right = draw_answer(img, lines=['how many?', '-> 3'], truth='3', right=True)
    wrong = draw_answer(img, lines=['how many?', '-> 2'], truth='3', right=False)
    plain = draw_answer(img, lines=['how many?', '-> 3'])
    assert right.shape == wrong.shape and right.shape[0] > plain.shape[0]  # one more line
    (_, green), (_, red) = verdict_line('3', True), verdict_line('3', False)
    strip_r, strip_w = right[plain.shape[0] - 10:], wrong[plain.shape[0] - 10:]
    assert (np.abs(strip_r.astype(int) - green).sum(-1) < 40).sum() > 20
    assert (np.abs(strip_w.astype(int) - red).sum(-1) < 40).sum() > 20
    assert (np.abs(strip_r.astype(int) - red).sum(-1) < 40).sum() == 0


def test_detections_the_model_did_not_read_are_grey_and_say_so():
    """A count is checked against the boxes: the RoIs green, a detection below the
    RoI threshold grey, its label one "(not read)" longer."""
    img = np.zeros((160, 160, 3), np.uint8)
    img[:] = BLUE
    read, unread = [10, 10, 60, 60], [90, 90, 150, 150]
    pic = draw_answer(img, [(read, 'circle 0.60')], unread=[(unread, 'square 0.35')])
    both = draw_answer(img, [(read, 'circle 0.60'), (unread, 'square 0.35')])
    s = display_scale(160, 160)

    def edge(p, box, color):  # pixels of ``color`` on the box's left edge
        x, y1, y2 = round(box[0] * s), round(box[1] * s), round(box[3] * s)
        col = p[y1 + 20:y2 - 5, max(x - 2, 0):x + 3].astype(int)
        return int((np.abs(col - color).sum(-1) < 60).sum())  # alpha 0.9 over blue

    assert edge(pic, read, DETECTION_COLOR) > 20 and edge(pic, unread, UNREAD_COLOR) > 20
    assert edge(pic, unread, DETECTION_COLOR) == 0 and edge(both, unread, DETECTION_COLOR) > 20
    # the grey label's dark background is wider: "(not read)" follows the score
    y = round(unread[1] * s) + 3
    dark = lambda p: int(((p[y, :] < 100).all(-1)).sum())  # noqa: E731
    assert dark(pic) > dark(both) + 40


def test_montage_tiles_row_by_row():
    pics = [np.full((50 + i, 40, 3), 10 * (i + 1), np.uint8) for i in range(5)]
    grid = montage(pics, cols=2, gap=4)
    assert grid.shape == (3 * (54 + 4) + 4, 2 * (40 + 4) + 4, 3)
    assert (grid[4:54, 4:44] == 10).all() and (grid[4:55, 48:88] == 20).all()
    assert (grid[4 + 2 * 58:4 + 2 * 58 + 54, 4:44] == 50).all()  # 5th: row 3, column 1
    assert (grid[4 + 2 * 58:, 48:] == 16).all()  # the empty cell stays dark
    with pytest.raises(ValueError, match='at least one picture'):
        montage([])

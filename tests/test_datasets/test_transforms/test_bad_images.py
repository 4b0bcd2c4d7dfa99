"""Images that cannot be decoded or resized, below the CLI: decode_image, LoadVLImage
and CheckedResize name the file, skip-and-count under ``on_bad_sample='skip'``, and a
test-time skip drops the sample from the batch instead of stopping the run."""
import cv2
import numpy as np
import pytest
from PIL import Image

from vlbert_e2e.datasets.skipped_samples import pseudo_collate
from vlbert_e2e.datasets.transforms import (
    BadSampleError,
    CheckedResize,
    LoadVLImage,
    decode_image,
)
from vlbert_e2e.testing import huge_png


@pytest.fixture(scope='module')
def huge(tmp_path_factory):
    path = tmp_path_factory.mktemp('huge') / 'huge.png'
    path.write_bytes(huge_png())
    return str(path)


def test_png_over_the_pixel_limits_is_named_not_a_cv2_error(huge, monkeypatch):
    with pytest.raises(BadSampleError, match='too large to decode and resize in memory') as e:
        decode_image(huge)
    assert 'Image size (1200000000 pixels)' in str(e.value) and huge in str(e.value)
    # past Pillow's check (limit lifted), OpenCV's own CV_IO_MAX_IMAGE_PIXELS error is
    # caught as well
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', None)
    with pytest.raises(BadSampleError, match=r'cannot decode image \(.*CV_IO_MAX_IMAGE_PIXELS'):
        decode_image(huge)


def test_load_skips_and_counts_the_huge_png(huge):
    load = LoadVLImage(on_bad_sample='skip')
    assert load(dict(img_path=huge, sample_id=4)) is None and load.policy.num_skipped == 1
    with pytest.raises(BadSampleError, match=f'{huge}.*record 4'):
        LoadVLImage()(dict(img_path=huge, sample_id=4))


def test_gif_is_decoded(tmp_path):
    Image.fromarray(np.full((6, 8, 3), (255, 0, 0), np.uint8)).save(tmp_path / 'a.gif')
    img = decode_image(str(tmp_path / 'a.gif'))
    assert img.shape == (6, 8, 3) and img[0, 0].tolist() == [0, 0, 255]  # BGR


@pytest.mark.parametrize('h,w,ok', [(1, 3000, False), (3000, 1, False), (2, 3000, True)])
def test_resize_that_would_leave_no_pixel_is_named_or_skipped(tmp_path, h, w, ok):
    cv2.imwrite(str(tmp_path / 'b.png'), np.zeros((h, w), np.uint8))
    results = LoadVLImage()(dict(img_path=str(tmp_path / 'b.png'), sample_id=9))
    resize = CheckedResize(scale=(1000, 600), keep_ratio=True, on_bad_sample='skip')
    if ok:  # 2 x 3000 -> 1 x 1000: still an image
        assert resize(dict(results))['img'].shape[:2] == (1, 1000)
        return
    assert resize(dict(results)) is None and resize.policy.num_skipped == 1
    with pytest.raises(BadSampleError, match=f'cannot resize image of {w}x{h} pixels.*'
                                             f'record 9, image .*b.png'):
        CheckedResize(scale=(1000, 600), keep_ratio=True)(dict(results))


def test_test_time_skips_are_dropped_from_the_batch():
    a, b = dict(inputs=1, data_samples='a'), dict(inputs=2, data_samples='b')
    assert pseudo_collate([a, None, b]) == dict(inputs=[1, 2], data_samples=['a', 'b'])
    assert pseudo_collate([None, None]) == dict(inputs=[], data_samples=[])

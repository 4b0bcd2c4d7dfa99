"""Raw image files of any kind load as 3-channel BGR; bad files are named."""
import cv2
import numpy as np
import pytest
from PIL import Image

from vlbert_e2e.datasets.transforms import BadSampleError, LoadVLImage, decode_image


def test_grey_rgba_and_exif_rotated_images(tmp_path):
    grey = tmp_path / 'grey.png'
    cv2.imwrite(str(grey), np.full((10, 20), 77, np.uint8))
    img = decode_image(str(grey))
    assert img.shape == (10, 20, 3) and (img == 77).all()

    rgba = tmp_path / 'rgba.png'
    arr = np.zeros((8, 6, 4), np.uint8)
    arr[..., 0], arr[..., 3] = 255, 128  # red (RGBA), half transparent
    Image.fromarray(arr, 'RGBA').save(rgba)
    img = decode_image(str(rgba))
    assert img.shape == (8, 6, 3) and (img[..., 2] == 255).all()  # BGR: red last

    rotated = tmp_path / 'exif.jpg'
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    Image.fromarray(np.zeros((10, 30, 3), np.uint8)).save(rotated, exif=exif)
    assert decode_image(str(rotated)).shape == (30, 10, 3)


@pytest.mark.parametrize('content,match', [
    (None, 'not found'), (b'', 'empty'), (b'not an image at all', 'cannot decode')])
def test_bad_files_raise_with_the_path(tmp_path, content, match):
    path = tmp_path / 'bad.jpg'
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(BadSampleError, match=match) as e:
        decode_image(str(path))
    assert str(path) in str(e.value)
    assert LoadVLImage(on_bad_sample='skip')(dict(img_path=str(path))) is None


@pytest.mark.parametrize('view', ['plain', 'hflip', 'vflip', 'both', 'grey', 'grey_hflip',
                                  'rgb_hflip', 'crop_hflip'])
def test_image_to_chw_matches_transpose(view):
    """The fast packing path gives exactly the tensor of a plain transpose, also on
    the negative-stride views that mmcv's flip returns."""
    import torch

    from vlbert_e2e.datasets.transforms.formatting import image_to_chw
    img = np.random.default_rng(0).integers(0, 256, (6, 8, 3), dtype=np.uint8)
    v = dict(plain=img, hflip=img[:, ::-1], vflip=img[::-1], both=img[::-1, ::-1],
             grey=img[..., 0], grey_hflip=img[:, ::-1, 0], rgb_hflip=img[:, ::-1, ::-1],
             crop_hflip=img[1:5, 6:1:-1])[view]
    ref = np.ascontiguousarray((v if v.ndim == 3 else v[..., None]).transpose(2, 0, 1))
    out = image_to_chw(v)
    assert out.is_contiguous() and torch.equal(out, torch.from_numpy(ref))

"""Keep the unresized image for a separate box proposer."""
from mmcv.transforms import BaseTransform

from vlbert_e2e.registry import TRANSFORMS


@TRANSFORMS.register_module()
class KeepOriginalImage(BaseTransform):
    """Keep the image as loaded (``results['ori_img']``, BGR ``(H, W, 3)`` uint8) so that
    a separate box proposer (``region_encoder.proposer``) sees the raw pixels through its
    own test pipeline, as mmdet's ``inference_detector`` would; ``PackVLInputs`` packs
    it as the sample's ``ori_img``. Put it right after the image loader, before
    ``Resize``/``RandomFlip`` (they make new arrays, so no copy is needed here).
    """

    def transform(self, results: dict) -> dict:
        """Returns ``results`` with ``ori_img``: the same array as ``img`` (no copy)."""
        results['ori_img'] = results['img']
        return results

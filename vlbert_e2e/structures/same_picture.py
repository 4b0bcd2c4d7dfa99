"""The one definition of "the same picture", shared by the sampler that groups the
texts of an image and by the model that encodes each distinct image of a batch once."""
import os
from typing import Hashable, Mapping, Optional


def picture_key(info: Mapping) -> Optional[Hashable]:
    """What identifies the picture a sample shows: its normalised ``img_path``, else
    its ``img_id``; ``None`` for a sample without either (text-only, or an image that
    only its pixels identify).

    Args:
        info: a data info dict or a sample's metainfo.

    Returns:
        A hashable key; two samples with the same non-``None`` key show one picture
        (the model also compares pixels before sharing a pass).
    """
    path = info.get('img_path')
    if isinstance(path, str):
        return os.path.normpath(path)
    return info.get('img_id')

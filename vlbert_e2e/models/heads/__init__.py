from .base_vl_head import BaseVLHead
from .mlm_head import MLMHead
from .mvrc_head import MVRCHead
from .vqa_head import VQAHead

__all__ = ['BaseVLHead', 'MLMHead', 'MVRCHead', 'VQAHead']

from .base_vl_head import BaseVLHead
from .mlm_head import MLMHead
from .mvrc_head import MVRCHead

__all__ = ['BaseVLHead', 'MLMHead', 'MVRCHead']

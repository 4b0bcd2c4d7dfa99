from .base_vl_head import BaseVLHead
from .grounding_head import GroundingHead
from .mlm_head import MLMHead
from .mvrc_head import MVRCHead
from .vcr_head import VCRHead
from .vqa_head import VQAHead

__all__ = ['BaseVLHead', 'GroundingHead', 'MLMHead', 'MVRCHead', 'VCRHead', 'VQAHead']

from .grounding_accuracy import GroundingAccuracy
from .vcr_accuracy import VCRAccuracy
from .vqa_accuracy import VQAAccuracy

__all__ = ['GroundingAccuracy', 'VCRAccuracy', 'VQAAccuracy']

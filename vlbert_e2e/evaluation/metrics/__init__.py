from .grounding_accuracy import GroundingAccuracy
from .vqa_accuracy import VQAAccuracy

__all__ = ['GroundingAccuracy', 'VQAAccuracy']

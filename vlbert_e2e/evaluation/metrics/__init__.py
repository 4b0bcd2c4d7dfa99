from .grounding_accuracy import GroundingAccuracy
from .unique_image_coco_metric import UniqueImageCocoMetric
from .vcr_accuracy import VCRAccuracy
from .vqa_accuracy import VQAAccuracy

__all__ = ['GroundingAccuracy', 'UniqueImageCocoMetric', 'VCRAccuracy', 'VQAAccuracy']

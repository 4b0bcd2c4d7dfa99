from .vcr_eval import vcr_joint_accuracy
from .vqa_eval import normalize_answer, soft_scores, vqa_accuracy

__all__ = ['normalize_answer', 'soft_scores', 'vqa_accuracy', 'vcr_joint_accuracy']

from .vqa_eval import normalize_answer, soft_scores, vqa_accuracy

__all__ = ['normalize_answer', 'soft_scores', 'vqa_accuracy']

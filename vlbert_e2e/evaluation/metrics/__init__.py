from .vqa_accuracy import VQAAccuracy

__all__ = ['VQAAccuracy']

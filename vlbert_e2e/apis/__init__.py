from .inferencer import TASKS, VLBertInferencer
from .results import InferenceError, UnreadableImageError, answer_line

__all__ = ['VLBertInferencer', 'InferenceError', 'UnreadableImageError', 'answer_line',
           'TASKS']

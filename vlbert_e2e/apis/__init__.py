from .inferencer import InferenceError, UnreadableImageError, VLBertInferencer

__all__ = ['VLBertInferencer', 'InferenceError', 'UnreadableImageError']

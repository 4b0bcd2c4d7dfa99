from .inferencer import InferenceError, VLBertInferencer

__all__ = ['VLBertInferencer', 'InferenceError']

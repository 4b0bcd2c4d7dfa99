from .vlbert_e2e import VLBertE2E, VLModelOutput

__all__ = ['VLBertE2E', 'VLModelOutput']

from .batch_layout import PaddedRoIs, distinct_images, flatten_choices, scatter_to_rows
from .vlbert_e2e import VLBertE2E

__all__ = ['VLBertE2E', 'PaddedRoIs', 'distinct_images', 'flatten_choices',
           'scatter_to_rows']

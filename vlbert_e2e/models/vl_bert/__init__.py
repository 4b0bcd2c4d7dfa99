from .object_tags import ObjectTagEmbedding
from .visual_feature_embedding import VisualFeatureEmbedding, box_geometry_embedding
from .vl_bert import VLBert, VLEmbedded

__all__ = ['VLBert', 'VLEmbedded', 'ObjectTagEmbedding', 'VisualFeatureEmbedding',
           'box_geometry_embedding']

from .visual_feature_embedding import VisualFeatureEmbedding, box_geometry_embedding
from .vl_bert import VLBert, VLSequence

__all__ = ['VLBert', 'VLSequence', 'VisualFeatureEmbedding', 'box_geometry_embedding']

from .box_proposer import BoxProposer
from .detector_region_encoder import DetectorRegionEncoder
from .precomputed_region_encoder import PrecomputedRegionEncoder

__all__ = ['DetectorRegionEncoder', 'PrecomputedRegionEncoder', 'BoxProposer']

from .box_proposer import BoxProposer
from .detector_region_encoder import DetectorRegionEncoder, RegionOutput

__all__ = ['DetectorRegionEncoder', 'RegionOutput', 'BoxProposer']

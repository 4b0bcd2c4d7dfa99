from .region_features import RegionFeatures
from .same_picture import picture_key
from .vl_data_sample import (
                             ROI_FIELDS,
                             TOKEN_PAD_VALUES,
                             VLDataSample,
                             handled_by,
                             roi_field,
                             task_of,
)
from .vl_encoding import VLEncoding, VLSequence

__all__ = ['VLDataSample', 'RegionFeatures', 'VLEncoding', 'VLSequence', 'picture_key',
           'TOKEN_PAD_VALUES', 'ROI_FIELDS', 'roi_field', 'task_of', 'handled_by']

from .formatting import PackVLInputs
from .load_region_features import LoadRegionFeatures
from .loading import BadSampleError, LoadVLImage, decode_image
from .masking import MaskRoIs, MaskText
from .original_geometry import OriginalRandomFlip, OriginalResize, original_resize_size
from .original_sequence import SortAndCapRoIsText, original_keep_lengths
from .tokenize import Tokenize, build_tokenizer
from .tokenize_choices import TokenizeChoices

__all__ = ['LoadVLImage', 'decode_image', 'BadSampleError', 'Tokenize',
           'build_tokenizer', 'TokenizeChoices', 'MaskText', 'MaskRoIs', 'PackVLInputs',
           'LoadRegionFeatures', 'OriginalResize', 'OriginalRandomFlip',
           'original_resize_size', 'SortAndCapRoIsText', 'original_keep_lengths']

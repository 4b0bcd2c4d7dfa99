from .formatting import PackVLInputs
from .load_region_features import LoadRegionFeatures
from .loading import BadSampleError, LoadVLImage, decode_image
from .masking import MaskRoIs, MaskText
from .original_geometry import OriginalRandomFlip, OriginalResize, original_resize_size
from .original_image import KeepOriginalImage
from .original_sequence import SortAndCapRoIsText, original_keep_lengths
from .resize import CheckedResize
from .text_encoding import build_tokenizer, clean_text, encode_text, is_blank
from .tokenize import Tokenize
from .tokenize_choices import TokenizeChoices

__all__ = ['LoadVLImage', 'decode_image', 'BadSampleError', 'Tokenize', 'CheckedResize',
           'build_tokenizer', 'encode_text', 'clean_text', 'is_blank', 'TokenizeChoices',
           'MaskText', 'MaskRoIs', 'PackVLInputs', 'LoadRegionFeatures', 'KeepOriginalImage',
           'OriginalResize', 'OriginalRandomFlip', 'original_resize_size',
           'SortAndCapRoIsText', 'original_keep_lengths']

from .formatting import PackVLInputs
from .loading import BadSampleError, LoadVLImage, decode_image
from .masking import MaskRoIs, MaskText
from .original_image import KeepOriginalImage
from .tokenize import Tokenize, build_tokenizer
from .tokenize_choices import TokenizeChoices

__all__ = ['LoadVLImage', 'decode_image', 'BadSampleError', 'Tokenize',
           'build_tokenizer', 'TokenizeChoices', 'MaskText', 'MaskRoIs', 'PackVLInputs',
           'KeepOriginalImage']

from .formatting import PackVLInputs
from .loading import BadSampleError, LoadVLImage, decode_image
from .masking import MaskRoIs, MaskText
from .tokenize import Tokenize, build_tokenizer

__all__ = ['LoadVLImage', 'decode_image', 'BadSampleError', 'Tokenize',
           'build_tokenizer', 'MaskText', 'MaskRoIs', 'PackVLInputs']

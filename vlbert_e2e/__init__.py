"""vlbert_e2e: end-to-end trainable VL-BERT on MMDetection + Hugging Face transformers."""
from .utils.safe_load import register_safe_globals

__version__ = '0.1.0'

register_safe_globals()

"""vlbert_e2e: end-to-end trainable VL-BERT on MMDetection + Hugging Face transformers.

Importing the package changes no global state; call
:func:`vlbert_e2e.utils.register_all_modules` once to register the modules and install
the safe checkpoint loading (the tools, the inferencer and ``default_runtime`` do).
"""
__version__ = '0.1.0'

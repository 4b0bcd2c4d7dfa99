from .conceptual_captions import ConceptualCaptionsDataset
from .text_corpus import TextCorpusDataset
from .transforms import *  # noqa: F401,F403

__all__ = ['ConceptualCaptionsDataset', 'TextCorpusDataset']

from .conceptual_captions import ConceptualCaptionsDataset
from .refcoco import RefCOCODataset
from .samplers import ImageGroupedSampler
from .text_corpus import TextCorpusDataset
from .transforms import *  # noqa: F401,F403
from .vcr import VCRDataset
from .vqa_v2 import VQAv2Dataset, read_answer_vocab

__all__ = ['ConceptualCaptionsDataset', 'ImageGroupedSampler', 'RefCOCODataset',
           'TextCorpusDataset', 'VCRDataset', 'VQAv2Dataset', 'read_answer_vocab']

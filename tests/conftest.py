"""Fixtures only; the builders they use are in ``vlbert_e2e.testing``."""
import os

import numpy as np
import pytest
import torch

os.environ.setdefault('HF_HUB_OFFLINE', '1')


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    np.random.seed(0)


@pytest.fixture(scope='session')
def tiny_vl_checkpoint(tmp_path_factory):
    """``(config, checkpoint)`` files of the tiny model with VQA, grounding and MLM heads
    (``vlbert_e2e.testing.TINY_VL_CFG``), saved with answers and classes as
    tools/train.py does. Read-only: copy before changing."""
    from vlbert_e2e.testing import save_tiny_vl_checkpoint
    return save_tiny_vl_checkpoint(tmp_path_factory.mktemp('tiny_vl'))

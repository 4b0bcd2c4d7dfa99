"""Builders shared by the tests (as ``mmdet.testing``): tiny models from the real configs,
synthetic samples, fixture paths, tool runners, original-layout checkpoints."""
from .cli import DRIVER, run_tool, run_tools_here, run_tools_in_one_process, tool_env
from .files import greedy_nms, huge_png
from .logs import capture_logs
from .models import (
    TINY_VL_CFG,
    batch,
    build_model_from_cfg,
    build_tiny_model,
    make_sample,
    overfit,
    record_encoder_inputs,
    save_tiny_vl_checkpoint,
    tiny_model_cfg,
)
from .original_checkpoint import (
    REL_HEAD,
    TINY_OPTIONS,
    original_state_dict,
    tiny_original_state_dict,
)
from .paths import FIXTURE_IMAGE, ROOT, TINY_MODEL_CFG, TINY_TRAIN_CFG, TOKENIZER

__all__ = [
    'DRIVER', 'FIXTURE_IMAGE', 'REL_HEAD', 'ROOT', 'TINY_MODEL_CFG', 'TINY_OPTIONS',
    'TINY_TRAIN_CFG', 'TINY_VL_CFG', 'TOKENIZER', 'batch', 'build_model_from_cfg',
    'build_tiny_model', 'capture_logs', 'greedy_nms', 'huge_png', 'make_sample',
    'original_state_dict', 'overfit', 'run_tool', 'run_tools_here', 'run_tools_in_one_process',
    'record_encoder_inputs', 'save_tiny_vl_checkpoint', 'tiny_model_cfg',
    'tiny_original_state_dict', 'tool_env',
]

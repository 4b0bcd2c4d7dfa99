"""The optimiser step of a config's model: torch's AdamW, per-tensor loops ('foreach')
against the single fused kernel ('fused'), on the model's trainable parameters."""
from typing import Optional, Sequence

import torch
from mmengine.registry import DefaultScope

from .common import time_fn


def bench_optimizer(config: str, device: str = 'cpu', steps: int = 10, warmup: int = 3,
                    cfg_options: Optional[dict] = None,
                    impls: Sequence[str] = ('foreach', 'fused')) -> dict:
    """Seconds per ``AdamW.step()`` for each implementation in ``impls``.

    Args:
        config: model config (only ``model`` is built; random weights).
        device: where the parameters live.
        steps, warmup: timed and untimed steps per implementation.
        cfg_options: ``--cfg-options`` merged into the config first.

    Returns:
        ``{'params_M': trainable parameters (millions), 'adamw_<impl>_s': seconds per
        step}``.
    """
    from vlbert_e2e.registry import MODELS
    from vlbert_e2e.utils.config_checks import load_config, merge_cfg_options
    cfg = load_config(config)
    merge_cfg_options(cfg, cfg_options)
    with DefaultScope.overwrite_default_scope('vlbert_e2e'):
        model = MODELS.build(cfg.model).to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    gen = torch.Generator(device=device).manual_seed(0)
    for p in params:  # a plausible gradient scale; the step time does not depend on it
        p.grad = torch.randn(p.shape, generator=gen, device=device) * 1e-3
    res = {'params_M': round(sum(p.numel() for p in params) / 1e6, 2)}
    for impl in impls:
        opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=1e-4, eps=1e-6, **{impl: True})
        res[f'adamw_{impl}_s'] = round(time_fn(opt.step, steps, warmup, device), 4)
    return res

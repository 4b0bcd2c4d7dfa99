"""Mixed-precision training on any device: ``torch.autocast`` without loss scaling.

MMEngine's ``AmpOptimWrapper`` refuses to run without a GPU (it asserts CUDA/NPU/MLU)
and always adds a ``GradScaler``. bfloat16 has fp32's exponent range, so it needs no
loss scaling, and CPUs with AVX512-BF16/AMX run it ~3x faster than fp32 (see
``docs/benchmarks.md``). This wrapper (the part MMEngine lacks) enters
``mmengine.runner.amp.autocast`` on the device the model lives on; everything else
(gradient clipping, accumulation, parameter groups) is MMEngine's ``OptimWrapper``.
For fp16 on a GPU use MMEngine's ``AmpOptimWrapper`` (it scales the loss).
"""
from contextlib import contextmanager
from typing import Union

import torch
from mmengine.logging import MMLogger
from mmengine.optim import OptimWrapper
from mmengine.runner.amp import autocast
from torch import nn

from vlbert_e2e.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward runs under ``torch.autocast(dtype)``.

    Args:
        dtype: autocast dtype, ``'bfloat16'`` (default) or ``'float16'``; float16 is
            refused because it needs loss scaling (``AmpOptimWrapper`` does that).
        enabled: ``True``/``False`` turn autocast on/off (fp32 with the same config);
            ``'auto'`` (default) turns it on where the device computes bf16 natively:
            a CUDA GPU with bf16 support, or a CPU with AVX512-BF16 or AMX.
        **kwargs: ``OptimWrapper`` arguments (``optimizer``, ``clip_grad``, ...).

    Raises:
        ValueError: ``dtype`` is not bfloat16, or ``enabled`` is not ``True``,
            ``False`` or ``'auto'``.
    """

    def __init__(self, dtype: Union[str, torch.dtype] = 'bfloat16',
                 enabled: Union[bool, str] = 'auto', **kwargs) -> None:
        super().__init__(**kwargs)
        dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype
        if dtype is not torch.bfloat16:
            raise ValueError(f'AutocastOptimWrapper: dtype must be bfloat16, got {dtype}; '
                             'use AmpOptimWrapper (loss scaling) for float16')
        if enabled not in (True, False, 'auto'):
            raise ValueError(f"AutocastOptimWrapper: enabled must be True, False or 'auto', "
                             f'got {enabled!r}')
        self.cast_dtype, self.enabled = dtype, enabled
        self._logged = False

    @contextmanager
    def optim_context(self, model: nn.Module):
        """``OptimWrapper.optim_context`` (gradient accumulation) with
        ``autocast(device_type, bfloat16)`` on the device of ``model``'s first
        parameter, on or off as ``enabled`` says; the first call logs which."""
        device = next(model.parameters()).device.type
        on = native_bf16(device) if self.enabled == 'auto' else self.enabled
        if not self._logged:
            MMLogger.get_current_instance().info(
                f'AutocastOptimWrapper: bf16 autocast {"on" if on else "off"} ({device})')
            self._logged = True
        with super().optim_context(model), autocast(
                device_type=device, dtype=self.cast_dtype, enabled=on):
            yield


def native_bf16(device: str) -> bool:
    """Whether ``device`` ('cpu' / 'cuda') computes bfloat16 in hardware."""
    if device == 'cuda':
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device == 'cpu':
        return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    return False

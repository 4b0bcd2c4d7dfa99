"""Timing, FLOP counting and memory helpers shared by the benchmark parts."""
import resource
import time
from contextlib import nullcontext
from typing import Callable

import torch
from torch.utils.flop_counter import FlopCounterMode

DTYPES = dict(fp32=torch.float32, bf16=torch.bfloat16, fp16=torch.float16)


def sync_of(device: str) -> Callable[[], None]:
    """The call that waits for ``device``'s queued work before a clock is read:
    ``torch.cuda.synchronize`` for ``'cuda'``/``'cuda:N'``, a no-op otherwise."""
    return torch.cuda.synchronize if device.startswith('cuda') else (lambda: None)


def autocast_ctx(device: str, dtype: str):
    """``torch.autocast`` for 'bf16'/'fp16', nothing for 'fp32'.

    Args:
        device: ``'cpu'``, ``'cuda'`` or ``'cuda:N'``.
        dtype: ``'fp32'``, ``'bf16'`` or ``'fp16'`` (another raises ``KeyError``).
    """
    if dtype == 'fp32':
        return nullcontext()
    return torch.autocast(device.split(':')[0], dtype=DTYPES[dtype])


def time_fn(fn: Callable[[], None], steps: int, warmup: int, device: str) -> float:
    """Mean wall seconds per call of ``fn`` over ``steps`` timed calls, after
    ``warmup`` untimed ones (``device`` synchronised before each clock read)."""
    sync = sync_of(device)
    for _ in range(warmup):
        fn()
    sync()
    t0 = time.perf_counter()
    for _ in range(steps):
        fn()
    sync()
    return (time.perf_counter() - t0) / steps


def matmul_rate(dtype: str, device: str, n: int = 2048, steps: int = 5) -> float:
    """FLOP/s of an ``n x n x n`` ``torch.mm``: the machine's practical limit."""
    dt = DTYPES[dtype]
    a = torch.randn(n, n, device=device).to(dt)
    b = torch.randn(n, n, device=device).to(dt)
    return 2 * n ** 3 / time_fn(lambda: torch.mm(a, b), steps, 1, device)


def step_flops(fn: Callable[[], None]) -> int:
    """FLOPs of one call of ``fn`` (matmuls, convolutions, attention; forward+backward),
    counted by PyTorch's ``FlopCounterMode``. Ops it does not know (RoIAlign, NMS,
    elementwise) count 0, so utilisation figures are lower bounds."""
    counter = FlopCounterMode(display=False)
    with counter:
        fn()
    return counter.get_total_flops()


def peak_memory_mb(device: str) -> float:
    """Peak CUDA allocation, or the process's peak RSS on CPU (run each part in its
    own process so the figure is that part's)."""
    if device.startswith('cuda'):
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

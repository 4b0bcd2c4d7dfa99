"""Make MMEngine's ``pytorch`` launcher work on machines without CUDA (gloo on CPU)."""
import os

import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.logging import print_log


def prepare_cpu_distributed(cfg: Config) -> None:
    """With ``launcher='pytorch'`` and no CUDA device, start the process group (gloo)
    from torchrun's environment and wrap the model without ``device_ids``.

    Written here because MMEngine 0.10.7's ``init_dist('pytorch')`` always calls
    ``torch.cuda.set_device`` and its default DDP wrapper passes
    ``device_ids=[LOCAL_RANK]``, both of which fail without CUDA. The Runner skips its
    own ``init_dist`` once a group exists; everything else (DDP, samplers, rank-0-only
    logging and checkpoints) stays MMEngine's.

    Args:
        cfg: the run's config; ``cfg.model_wrapper_cfg`` is set (when unset) to
            ``MMDistributedDataParallel`` without ``device_ids``.

    Raises:
        KeyError: ``RANK`` or ``WORLD_SIZE`` is not in the environment (not started
            by torchrun) and no process group exists yet.
    """
    if cfg.get('launcher', 'none') != 'pytorch' or torch.cuda.is_available():
        return
    backend = cfg.get('env_cfg', {}).get('dist_cfg', {}).get('backend', 'gloo')
    if backend != 'gloo':
        print_log(f'no CUDA device: dist_cfg.backend {backend!r} -> gloo', logger='current')
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo', rank=int(os.environ['RANK']),
                                world_size=int(os.environ['WORLD_SIZE']))
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel', device_ids=None, broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))

"""The one check of a ``--device`` argument, shared by the inferencer and the tools."""
import torch


def device_problem(device: str) -> 'str | None':
    """What makes ``device`` unusable on this machine; ``None`` when it is usable.

    Args:
        device: a torch device string (``'cpu'``, ``'cuda'``, ``'cuda:1'``).

    Returns:
        A one-line reason naming the device, or ``None``.
    """
    try:
        dev = torch.device(device)
    except RuntimeError:
        return f'--device {device}: not a torch device (cpu, cuda, cuda:N)'
    if dev.type == 'cuda':
        if not torch.cuda.is_available():
            return f'--device {device}: no CUDA device on this machine (use --device cpu)'
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            return (f'--device {device}: this machine has {torch.cuda.device_count()} '
                    'CUDA device(s)')
    return None

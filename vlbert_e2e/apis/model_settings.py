"""Settings that hold for one inference call and are undone after it.

The inferencer predicts with settings the trained model does not carry (detections
reported, boxes from the detector or a proposer for raw images, the answer vocabulary
of the checkpoint, the tokenizer's ``[MASK]`` id for fill prompts). It applies them
inside :func:`restored_attributes` / :func:`restored_modes`, so after a call the model
has exactly the attributes, train/eval modes and state dict it had before.
"""
from contextlib import contextmanager
from typing import Iterator, Sequence

from torch import nn


def _owner(root, path: str):
    """``(object, attribute name)`` of the dotted ``path`` under ``root``."""
    *parents, name = path.split('.')
    obj = root
    for p in parents:
        obj = getattr(obj, p)
    return obj, name


@contextmanager
def restored_attributes(root, paths: Sequence[str]) -> Iterator[None]:
    """Restore the attributes at the dotted ``paths`` of ``root`` (e.g.
    ``'region_encoder.box_source'``, ``'heads.vqa.answers'``) when the block ends, even
    by an exception. An attribute that did not exist is deleted again.

    Raises:
        AttributeError: a parent on a path does not exist.
    """
    missing = object()
    saved = []
    for path in paths:
        obj, name = _owner(root, path)
        saved.append((obj, name, getattr(obj, name, missing)))
    try:
        yield
    finally:
        for obj, name, value in reversed(saved):
            if value is missing:
                if hasattr(obj, name):
                    delattr(obj, name)
            else:
                setattr(obj, name, value)


@contextmanager
def restored_modes(model: nn.Module) -> Iterator[None]:
    """Put ``model`` in eval mode for the block and give every submodule its own
    ``training`` flag back afterwards."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for m, training in modes:
            m.training = training

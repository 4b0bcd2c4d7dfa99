"""Names of the detector's labels, for results and pictures (inferencer, visualization hook).

The detector inside the model need not predict the training data set's classes: the
paper's detector has 1600 Visual Genome classes while RefCOCO's ``instances.json`` names
80 COCO categories. A config says which names its detector's labels carry with the
top-level key ``detector_classes``:

- absent or ``'dataset'``: the data set's ``classes`` (a checkpoint's
  ``meta['dataset_meta']``; mmdet's convention), or the model's ``object_tags.names``
  when it has them (those are the detector's by construction);
- a list of names, in label order;
- a data set name mmdet knows (``'coco'``, ``'voc'``, ``'lvis'``, ...): its names;
- ``None``: the labels have no names here.

A label without a name (``None``, or fewer names than classes) reads ``class N``.
"""
from typing import Optional, Sequence, Tuple


def detector_class_names(cfg, dataset_meta: Optional[dict] = None
                         ) -> Optional[Tuple[str, ...]]:
    """The names of the detector's labels under ``cfg`` (see the module docstring).

    Args:
        cfg: the config (``mmengine.Config`` or dict).
        dataset_meta: the data set's metainfo (a checkpoint's ``meta['dataset_meta']``).

    Returns:
        The names in label order, or ``None`` when there are none.
    """
    spec = cfg.get('detector_classes', 'dataset')
    if spec is None:
        return None
    if spec == 'dataset':
        tags = (cfg.get('model') or {}).get('object_tags') or {}
        names = tags.get('names') or (dataset_meta or {}).get('classes')
        return tuple(names) if names else None
    if isinstance(spec, str):
        from mmdet.evaluation.functional import get_classes
        return tuple(get_classes(spec))
    return tuple(spec)


def label_name(names: Optional[Sequence[str]], label: int) -> str:
    """``names[label]``, or ``'class {label}'`` when the label has no name."""
    label = int(label)
    return str(names[label]) if names and 0 <= label < len(names) else f'class {label}'

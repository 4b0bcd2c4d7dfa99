"""The inferencer's pipeline: the config's test pipeline with the loader swapped.

As mmdet's ``DetInferencer`` swaps ``LoadImageFromFile`` for ``mmdet.InferencerLoader``,
the test pipeline of the data set that serves the asked task (VQA's for ``vqa``,
RefCOCO's for ``ground`` ...) is taken from the config, so its resize scale, tokenizer
and ``max_length`` are the ones the model was tested with. The loader becomes
:class:`InferenceLoader` (a file path or an image array), annotation loaders and
training-only transforms are dropped, ``Tokenize`` is told how the task places its
``[MASK]`` and ``PackVLInputs`` keeps the inference metainfo.
"""
import copy
from typing import Callable, Dict, List, Optional

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.registry import DefaultScope

from vlbert_e2e.datasets.transforms import BadSampleError, LoadVLImage
from vlbert_e2e.registry import TRANSFORMS

from .results import InferenceError, UnreadableImageError

TASK_OF_DATASET = {'VQAv2Dataset': 'vqa', 'RefCOCODataset': 'ground',
                   'ConceptualCaptionsDataset': 'fill'}
LOADERS = ('LoadVLImage', 'LoadImageFromFile')
# need annotations or only make sense in training: left out at inference
DROPPED = ('LoadAnnotations', 'MaskText', 'MaskRoIs', 'RandomFlip', 'OriginalRandomFlip',
           'KeepOriginalImage')
META_KEYS = ('img_path', 'ori_shape', 'img_shape', 'scale_factor', 'text')
DEFAULT_SCALE, DEFAULT_MAX_LENGTH = (1000, 600), 64


class InferenceLoader(BaseTransform):
    """Load ``results['img']``: a file path (read by :class:`LoadVLImage`, whose
    :class:`BadSampleError` names the file) or a ``(H, W, 3)`` BGR uint8 array (as
    mmdet's ``InferencerLoader``); sets ``img``, ``img_path``, ``img_shape`` and
    ``ori_shape``.

    Raises:
        BadSampleError: unreadable file, or an array that is not ``(H, W, 3)`` uint8.
    """

    def __init__(self) -> None:
        self.file_loader = LoadVLImage(on_bad_sample='raise')

    def transform(self, results: dict) -> dict:
        """Load ``results['img']`` (a file path, read by :class:`LoadVLImage`, or an
        ``(H, W, 3)`` uint8 BGR array) into ``img``, ``img_path`` (``None`` for an
        array), ``img_shape`` and ``ori_shape`` (``(H, W)``, pixels).

        Raises:
            BadSampleError: unreadable file, or an array of another shape or dtype.
        """
        img = results.pop('img')
        if isinstance(img, str):
            results['img_path'] = img
            return self.file_loader(results)
        img = np.asarray(img)
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8 or 0 in img.shape:
            raise BadSampleError(f'image array of shape {img.shape} and dtype {img.dtype} '
                                 'is not an (H, W, 3) uint8 BGR picture')
        results.setdefault('img_path', None)
        results['img'] = img
        results['img_shape'] = results['ori_shape'] = img.shape[:2]
        return results


def _datasets(cfg) -> List[dict]:
    """The data set dicts of the test (then val) dataloader, wrappers unwrapped."""
    found = []
    for key in ('test_dataloader', 'val_dataloader'):
        todo = [(cfg.get(key) or {}).get('dataset')]
        while todo:
            ds = todo.pop(0)
            if ds:
                todo += list(ds.get('datasets', [])) + [ds.get('dataset')]
                if ds.get('pipeline'):
                    found.append(ds)
    return found


def _kind(step) -> str:
    return str(step.get('type', '')).split('.')[-1] if isinstance(step, dict) else ''


def config_pipeline(cfg, task: str) -> List[dict]:
    """The test pipeline the config gives ``task``: that of the first data set of the
    task (:data:`TASK_OF_DATASET`), else of the first one that tokenizes text; a
    config without either (a bare model config) gets ``LoadVLImage -> CheckedResize
    (scale) -> Tokenize(tokenizer, max_length) -> PackVLInputs`` from its top-level
    ``scale``, ``tokenizer`` and ``max_length``."""
    tokenizing = [ds for ds in _datasets(cfg)
                  if any(_kind(t) == 'Tokenize' for t in ds['pipeline'])]
    for ds in tokenizing:
        if TASK_OF_DATASET.get(str(ds.get('type')).split('.')[-1]) == task:
            return copy.deepcopy(list(ds['pipeline']))
    if tokenizing:
        return copy.deepcopy(list(tokenizing[0]['pipeline']))
    return [dict(type='LoadVLImage'),
            dict(type='CheckedResize', scale=tuple(cfg.get('scale', DEFAULT_SCALE)),
                 keep_ratio=True),
            dict(type='Tokenize', tokenizer=cfg.get('tokenizer', 'bert-base-uncased'),
                 max_length=cfg.get('max_length', DEFAULT_MAX_LENGTH)),
            dict(type='PackVLInputs')]


def inference_steps(pipeline: List[dict], task: str, keep_original: bool) -> List:
    """Adapt a test pipeline to raw inputs: the loader swapped for
    :class:`InferenceLoader` (followed by ``KeepOriginalImage`` when a box proposer
    needs the unresized picture), :data:`DROPPED` transforms left out, ``Tokenize``'s
    ``[MASK]`` placed for ``task`` (VQA: as segment B; fill: the one in the text) and
    ``PackVLInputs`` packing :data:`META_KEYS` and ``answer_position``.

    Raises:
        ValueError: the pipeline has no image loader or no ``Tokenize`` (e.g.
            precomputed region features, VCR's ``TokenizeChoices``).
    """
    steps: List = []
    for step in pipeline:
        kind = _kind(step)
        if kind in LOADERS:
            steps.append(InferenceLoader())
            if keep_original:
                steps.append(dict(type='KeepOriginalImage'))
        elif kind == 'Tokenize':
            steps.append(dict(step, mask_as_text_b=task == 'vqa', mask_in_text=task == 'fill'))
        elif kind == 'PackVLInputs':
            steps.append(dict(type='PackVLInputs', meta_keys=META_KEYS,
                              task_keys=('answer_position', )))
        elif kind not in DROPPED:
            steps.append(step)
    kinds = [_kind(s) for s in steps]
    if not any(isinstance(s, InferenceLoader) for s in steps) or 'Tokenize' not in kinds:
        raise ValueError(f'the config\'s test pipeline ({[_kind(s) for s in pipeline]}) has '
                         'no image loader and Tokenize to answer raw images with')
    return steps


class TaskPipelines:
    """``pipeline(item)`` for the inferencer: ``item`` is ``dict(img=path or BGR array,
    text=str, task=str)``; each task's transforms are built once, on first use.

    Args:
        cfg: the model's config.
        keep_original: keep the unresized picture (a box proposer needs it).
    """

    def __init__(self, cfg, keep_original: bool = False) -> None:
        self.cfg, self.keep_original = cfg, keep_original
        self.built: Dict[str, List[Callable]] = {}

    def steps(self, task: str) -> List:
        """The adapted steps for ``task`` (configs and :class:`InferenceLoader`)."""
        return inference_steps(config_pipeline(self.cfg, task), task, self.keep_original)

    def transform(self, task: str, name: str) -> Optional[BaseTransform]:
        """The built ``name`` transform (e.g. ``'Tokenize'``) of ``task``'s pipeline."""
        for t in self._build(task):
            if type(t).__name__ == name:
                return t
        return None

    def _build(self, task: str) -> List[Callable]:
        if task not in self.built:
            try:
                steps = self.steps(task)
            except ValueError as e:
                raise InferenceError(str(e)) from None
            with DefaultScope.overwrite_default_scope('vlbert_e2e'):
                self.built[task] = [s if callable(s) else TRANSFORMS.build(s) for s in steps]
        return self.built[task]

    def __call__(self, item: dict) -> dict:
        """The packed ``dict(inputs, data_samples)`` of one item.

        Raises:
            UnreadableImageError: the picture cannot be read or resized.
            InferenceError: the tokenizer refuses the text.
        """
        results = dict(item)
        for t in self._build(item['task']):
            try:
                results = t(results)
            except BadSampleError as e:
                if type(t).__name__ == 'Tokenize':
                    raise InferenceError(f'--text: {e}') from None
                raise UnreadableImageError(str(e)) from None
        return results

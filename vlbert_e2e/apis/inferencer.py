"""VLBertInferencer: raw pictures + text in, answers / boxes / pictures out, on
MMEngine's ``BaseInferencer`` (as mmdet's ``DetInferencer``)."""
import math
import os
import time
from contextlib import ExitStack, contextmanager
from typing import Dict, Iterator, List, Optional, Sequence, Union

import cv2
import mmcv
import numpy as np
import torch
from mmengine import fileio
from mmengine.dataset import pseudo_collate
from mmengine.infer import BaseInferencer
from mmengine.registry import DefaultScope
from rich.progress import track

from vlbert_e2e.datasets.transforms import build_tokenizer, is_blank
from vlbert_e2e.models.region_encoders import BoxProposer
from vlbert_e2e.registry import MODELS
from vlbert_e2e.utils import (
    apply_checkpoint,
    detector_class_names,
    load_checkpoint_file,
    register_all_modules,
)
from vlbert_e2e.utils.device import device_problem
from vlbert_e2e.visualization import MODES as ATTENTION_MODES
from vlbert_e2e.visualization import draw_answer
from vlbert_e2e.visualization.canvas import MAX_LONG, shared_visualizer

from .attention import draw_attention, query_positions, summarize_attention
from .inference_pipeline import TaskPipelines
from .model_settings import restored_attributes, restored_modes
from .results import InferenceError, UnreadableImageError, answer_line, sample_to_result

TASKS = ('vqa', 'ground', 'fill', 'detect')
HEAD_OF_TASK = {'vqa': 'VQAHead', 'ground': 'GroundingHead', 'fill': 'MLMHead'}
InputType = Union[str, np.ndarray, Dict]


def _build_proposer(proposer: Union[Sequence, dict]) -> BoxProposer:
    kw = dict(proposer) if isinstance(proposer, dict) else dict(
        zip(('config', 'checkpoint'), proposer))
    try:
        return BoxProposer(**kw)
    except (FileNotFoundError, ValueError) as e:  # already name the file
        raise InferenceError(str(e)) from None
    except (OSError, AttributeError, KeyError, TypeError) as e:  # not an mmdet detector config
        raise InferenceError(f'proposer config {kw.get("config")} is not a usable mmdet '
                             f'detector config ({type(e).__name__}: {e})') from None


def read_rgb(result: Dict) -> np.ndarray:
    """``(H, W, 3)`` RGB uint8 picture of a result's ``image`` file."""
    return mmcv.imfrombytes(fileio.get(result['image']), channel_order='rgb')


class VLBertInferencer(BaseInferencer):
    """Run a trained VLBertE2E on raw pictures, in the manner of mmdet's
    ``DetInferencer``: ``inferencer(inputs, task, text)`` -> one result dict per input.

    The pipeline is the config's test pipeline with the loader swapped
    (:mod:`~vlbert_e2e.apis.inference_pipeline`): scale, tokenizer and ``max_length``
    come from the config. Inference never changes the model: the settings it needs
    (detections reported, detector or proposer boxes, the checkpoint's answer
    vocabulary, the ``[MASK]`` id) hold only during a call
    (:mod:`~vlbert_e2e.apis.model_settings`).

    Args:
        config: the model's config file.
        checkpoint: weights saved by ``tools/train.py``, read by
            :func:`~vlbert_e2e.utils.load_checkpoint_file` before the model is built; a
            file that is not a checkpoint, or (unless ``partial_load``) one whose keys do
            not match the config's model, raises :class:`~vlbert_e2e.utils.CheckpointError`.
        device: ``'cpu'`` or ``'cuda[:N]'``.
        score_thr: detections drawn and reported from this score on.
        partial_load: load a checkpoint that does not match (what is left out is
            logged) instead of refusing it.
        return_attention: add each result's ``attention`` (see
            :func:`vlbert_e2e.apis.attention.summarize_attention`; not for ``detect``,
            which runs the detector alone); the answers are the same as without.
        attention_mode: ``'mean'`` over layers and heads, or ``'rollout'``.
        proposer: ``(mmdet config, checkpoint file or URL)`` or a dict of
            :class:`BoxProposer` arguments: a separate, frozen mmdet detector supplies
            the boxes (and the reported detections and their class names) instead of
            the model's own detector; the model's trunk pools them.
        show_progress: a progress bar (rich, as ``BaseInferencer``) over the batches
            of a call with more than one batch.

    Raises:
        InferenceError: unknown attention mode, no CUDA for a ``cuda`` device, config
            or checkpoint file missing, unusable proposer, a region encoder that cannot
            read raw pictures.
    """

    def __init__(self, config: str, checkpoint: Optional[str] = None, device: str = 'cpu',
                 score_thr: float = 0.3, partial_load: bool = False,
                 return_attention: bool = False, attention_mode: str = 'mean',
                 proposer: Optional[Union[Sequence, dict]] = None,
                 show_progress: bool = True) -> None:
        if attention_mode not in ATTENTION_MODES:
            raise InferenceError(f'unknown attention mode {attention_mode!r}; choose from '
                                 f'{", ".join(ATTENTION_MODES)}')
        if device_problem(device):
            raise InferenceError(device_problem(device))
        if not os.path.isfile(config):
            raise InferenceError(f'config file not found: {config}')
        register_all_modules(init_default_scope=False)  # safe loading, all modules
        self.return_attention, self.attention_mode = return_attention, attention_mode
        self.device, self.score_thr, self.partial_load = device, score_thr, partial_load
        self._ckpt = self._read(checkpoint) if checkpoint else None  # before the model
        self.proposer = None if proposer is None else _build_proposer(proposer)  # fail early
        super().__init__(config, checkpoint, device, scope='vlbert_e2e',
                         show_progress=show_progress)
        enc = self.model.region_encoder
        self.uses_proposer = self.proposer is not None or 'proposer' in enc.box_source
        self.pipeline.keep_original = self.uses_proposer
        self.classes = detector_class_names(self.cfg, self.dataset_meta)
        if self.uses_proposer:  # the reported detections are the proposer's
            self.classes = list((self.proposer or enc.proposer).classes)

    @staticmethod
    def _read(checkpoint: str) -> dict:
        # a missing file, a folder or a broken file: CheckpointError naming it
        return load_checkpoint_file(checkpoint)

    def _init_model(self, cfg, weights: Optional[str], device: str = 'cpu'):
        """Build the config's model and load the checkpoint read in ``__init__``
        (keys checked by :func:`~vlbert_e2e.utils.apply_checkpoint`)."""
        with DefaultScope.overwrite_default_scope('vlbert_e2e'):
            model = MODELS.build(cfg.model)
        meta = apply_checkpoint(model, self._ckpt, weights, self.partial_load,
                                hint=" (is it the config's?)") if self._ckpt else {}
        self._ckpt = None  # the weights are in the model now
        self.dataset_meta = meta.get('dataset_meta') or {}
        if not hasattr(model.region_encoder, 'box_source'):
            raise InferenceError(f'{type(model.region_encoder).__name__} reads precomputed '
                                 'region features; raw pictures need a detector region '
                                 'encoder')
        return model.to(device).eval()

    def _init_pipeline(self, cfg) -> TaskPipelines:
        return TaskPipelines(cfg)

    def _init_collate(self, cfg):
        return pseudo_collate  # the pipeline raises instead of skipping

    def _init_visualizer(self, cfg):
        return shared_visualizer()

    def _head(self, type_name: str):
        """``(name, head)`` of the model's first head of this type, or ``None``."""
        for name, head in self.model.heads.items():
            if type(head).__name__ == type_name:
                return name, head
        return None

    @contextmanager
    def settings(self) -> Iterator[None]:
        """The model as inference needs it, for the block only: eval mode, detections
        reported, raw pictures' boxes from the detector (or the proposer), the
        checkpoint's answer vocabulary, the tokenizer's ``[MASK]`` id for fill."""
        model, enc = self.model, self.model.region_encoder
        vqa, mlm = self._head('VQAHead'), self._head('MLMHead')
        paths = ['predict_detections', 'region_encoder.box_source', 'region_encoder.proposer']
        paths += [f'heads.{vqa[0]}.answers'] if vqa else []
        paths += [f'heads.{mlm[0]}.mask_token_id'] if mlm else []
        with ExitStack() as stack:
            stack.enter_context(restored_attributes(model, paths))
            stack.enter_context(restored_modes(model))
            model.predict_detections = True
            if enc.box_source == 'given':  # raw pictures come without boxes
                enc.box_source = 'given+detector'
            if self.proposer is not None:
                enc.use_proposer(self.proposer)
            if vqa and self.dataset_meta.get('answers'):
                vqa[1].answers = list(self.dataset_meta['answers'])
            if mlm:
                mlm[1].mask_token_id = self.tokenizer.mask_token_id
            yield

    @property
    def tokenizer(self):
        """The tokenizer of the config's test pipeline (``Tokenize``'s)."""
        return build_tokenizer(self.pipeline.transform('vqa', 'Tokenize').tokenizer_name)

    def _items(self, inputs, task: Optional[str], text: Optional[str]) -> List[Dict]:
        """Each input as ``dict(image, img, task, text[, answer])``, checked."""
        if isinstance(inputs, (str, np.ndarray, dict)):
            inputs = [inputs]
        items = []
        for i, x in enumerate(inputs):
            item = dict(x) if isinstance(x, dict) else dict(image=x)
            item.setdefault('task', task)
            item.setdefault('text', text if item['task'] != 'detect' else None)
            img = item.get('image', item.get('img'))
            item['img'] = img
            item['image'] = img if isinstance(img, str) else f'<array {i}>'
            self._check(item)
            items.append(item)
        return items

    def _check(self, item: Dict) -> None:
        """Raise :class:`InferenceError` for an unknown task, a blank text, a task the
        model has no head for, a fill prompt without the mask token."""
        task, text = item['task'], item['text']
        if task not in TASKS:
            raise InferenceError(f'unknown task {task!r}; choose from {", ".join(TASKS)}')
        if task != 'detect' and is_blank(text):
            raise InferenceError(f'task {task!r} needs a non-empty --text')
        if task in HEAD_OF_TASK and self._head(HEAD_OF_TASK[task]) is None:
            raise InferenceError(f'task {task!r} needs a {HEAD_OF_TASK[task]} in the model; '
                                 f'this config has: {list(self.model.heads)}')
        if task == 'fill' and self.tokenizer.mask_token not in text:
            raise InferenceError(f'task fill needs {self.tokenizer.mask_token} in --text')

    def preprocess(self, items: List[Dict], batch_size: int = 1, on_error: str = 'raise'):
        """Yield batches ``[(index, packed sample or error message)]`` of up to
        ``batch_size`` items of one task, in input order. An unreadable picture raises
        :class:`UnreadableImageError` (``on_error='raise'``) or becomes its message
        (``'skip'``); a text the tokenizer refuses raises :class:`InferenceError`."""
        chunk: List = []
        for i, item in enumerate(items):
            if chunk and (len(chunk) == batch_size or items[chunk[-1][0]]['task'] != item['task']):
                yield chunk
                chunk = []
            try:
                chunk.append((i, self.pipeline(
                    dict(item, text='[detect]') if item['task'] == 'detect' else item)))
            except UnreadableImageError as e:
                if on_error == 'raise':
                    raise
                chunk.append((i, str(e)))
        if chunk:
            yield chunk

    @torch.no_grad()
    def forward(self, data: List[Dict], task: str, attention: bool = False) -> List:
        """Predicted data samples of one batch of packed samples (one task)."""
        batch = self.model.data_preprocessor(pseudo_collate(data), False)
        if task == 'detect':
            return self.model.detect(batch['inputs'], batch['data_samples'], rescale=True)
        return self.model.predict(batch['inputs'], batch['data_samples'],
                                  output_attentions=attention)

    def __call__(self, inputs: Union[InputType, Sequence[InputType]],
                 task: Optional[str] = None, text: Optional[str] = None,
                 return_attention: Optional[bool] = None, batch_size: int = 1,
                 on_error: str = 'raise') -> List[Dict]:
        """Answer ``task`` about each input.

        Args:
            inputs: a file path, a folder (its non-hidden files, sorted), a ``(H, W, 3)``
                BGR uint8 array, a dict ``{image, task, text[, answer]}`` (its own task,
                text and true answer), or a list of these.
            task: ``'vqa'``, ``'ground'``, ``'fill'`` or ``'detect'`` (inputs without one).
            text: the question / expression / ``[MASK]`` caption (inputs without one).
            return_attention: overrides the constructor's choice for this call.
            batch_size: inputs per model call (batches hold one task each).
            on_error: ``'raise'``: an unreadable picture raises
                :class:`UnreadableImageError`; ``'skip'``: its result is
                ``{image, task, text, error}``.

        Returns:
            One result dict per input, in order (see
            :func:`~vlbert_e2e.apis.results.sample_to_result`), with ``timings``
            (``preprocess_s``, ``model_s``: the batch's seconds shared out) and, with
            attention, ``attention``.

        Raises:
            InferenceError: a bad input (unknown task, blank text, missing head, a
                fill text without ``[MASK]``, a missing folder or file).
        """
        items = self._items(self._inputs_to_list(inputs), task, text)
        attention = self.return_attention if return_attention is None else return_attention
        results: List[Optional[Dict]] = [None] * len(items)
        batches = self.preprocess(items, batch_size, on_error)
        if self.show_progress and len(items) > batch_size:
            batches = track(batches, description='Inference',
                            total=math.ceil(len(items) / batch_size))
        t0 = time.perf_counter()
        with self.settings():
            for chunk in batches:
                t1 = time.perf_counter()
                for i, r in self._answer(chunk, items, attention, t1 - t0):
                    results[i] = r
                t0 = time.perf_counter()
        return results

    def _answer(self, chunk: List, items: List[Dict], attention: bool, prep_s: float):
        """``(index, result)`` of each item of a batch; errors pass through."""
        good = [(i, d) for i, d in chunk if not isinstance(d, str)]
        for i, msg in chunk:
            if isinstance(msg, str):
                yield i, dict(image=items[i]['image'], task=items[i]['task'],
                              text=items[i]['text'], error=msg)
        if not good:
            return
        task = items[good[0][0]]['task']
        t = time.perf_counter()
        samples = self.forward([d for _, d in good], task, attention and task != 'detect')
        timings = dict(preprocess_s=prep_s / len(good),
                       model_s=(time.perf_counter() - t) / len(good))
        for (i, _), s in zip(good, samples):
            yield i, self.postprocess(s, items[i], timings, attention and task != 'detect')

    def _inputs_to_list(self, inputs) -> list:
        """A folder becomes its non-hidden files, sorted (whether a file is a picture
        is for the decoder to say, not its extension); anything else a list."""
        if isinstance(inputs, str) and os.path.isdir(inputs):
            files = sorted(os.path.join(inputs, f) for f in os.listdir(inputs)
                           if not f.startswith('.') and os.path.isfile(os.path.join(inputs, f)))
            if not files:
                raise InferenceError(f'no files in folder {inputs}')
            return files
        return list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]

    def postprocess(self, sample, item: Dict, timings: Dict, attention: bool = False) -> Dict:
        """One predicted sample as a JSON-ready result (see
        :func:`~vlbert_e2e.apis.results.sample_to_result`)."""
        out = sample_to_result(sample, item, self.score_thr, self.classes, self.tokenizer)
        out['timings'] = timings
        if attention:
            out['attention'] = self._attention(sample, item['task'])
        return out

    def _attention(self, s, task: str) -> Dict:
        """The sample's attention from its answering tokens (see ``apis/attention.py``)."""
        tok = self.tokenizer
        n = s.seq_text_length
        tokens = tok.convert_ids_to_tokens(s.input_ids[:n].tolist())
        query = query_positions(task, s.input_ids, n, s.get('answer_position'),
                                tok.mask_token_id)
        return summarize_attention(s, task, tokens, query, self.attention_mode,
                                   classes=self.classes)

    def visualize(self, inputs: List[Optional[np.ndarray]], preds: List[Dict],
                  max_long: int = MAX_LONG) -> List[np.ndarray]:
        """:meth:`draw` each result (``inputs``: its RGB picture, or ``None`` to read
        the result's file); returns ``(H', W', 3)`` RGB uint8 pictures."""
        return [self.draw(r, img, max_long) for img, r in zip(inputs, preds)]

    @staticmethod
    def draw(result: Dict, image: Optional[np.ndarray] = None,
             max_long: int = MAX_LONG) -> np.ndarray:
        """RGB picture of a result: detections (green; grey, "(not read)", those the
        model did not read as RoIs), the chosen box (red), the text, the answer and,
        with a true answer, right/wrong (:func:`vlbert_e2e.visualization.draw_answer`,
        readable at any image size).

        Args:
            result: a result of :meth:`__call__`.
            image: ``(H, W, 3)`` RGB uint8, if already read.
            max_long: longest side of the drawing (px).
        """
        rgb = image if image is not None else read_rgb(result)
        dets = {True: [], False: []}  # read as RoIs by the model, or not
        for d in result.get('detections', []):
            dets[d.get('roi', True)].append((d['box'], f'{d["label"]} {d["score"]:.2f}'))
        chosen = (result['box'], f'{result["score"]:.2f}') if result.get('box') else None
        lines = ([result['text']] if result['task'] != 'detect' else []) + [
            '-> ' + answer_line(result)]
        return draw_answer(rgb, dets[True], chosen, lines, truth=result.get('truth'),
                           right=result.get('correct'), max_long=max_long,
                           unread=dets[False])

    @classmethod
    def write_drawing(cls, result: Dict, out_path: str, max_long: int = MAX_LONG) -> None:
        """Write :meth:`draw`'s picture to ``out_path``."""
        os.makedirs(os.path.dirname(out_path) or '.', exist_ok=True)
        cv2.imwrite(out_path, cls.draw(result, max_long=max_long)[..., ::-1])

    @staticmethod
    def write_attention(result: Dict, region_path: str, text_path: Optional[str] = None
                        ) -> None:
        """Write the heat over the regions (and the text-to-text matrix) of a result
        made with ``return_attention``.

        Raises:
            InferenceError: the result has no attention.
        """
        if 'attention' not in result:
            raise InferenceError(f'no attention in the result for {result["image"]} '
                                 '(ask with return_attention=True; detect has none)')
        region_pic, text_pic = draw_attention(result['attention'], read_rgb(result))
        for path, pic in ((region_path, region_pic), (text_path, text_pic)):
            if path:
                os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
                cv2.imwrite(path, pic[..., ::-1])

"""VLBertInferencer: raw image files + text in, answers / boxes / pictures out."""
import os
import time
from typing import Dict, List, Optional, Sequence, Union

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from vlbert_e2e.datasets.transforms import (
    BadSampleError,
    LoadVLImage,
    PackVLInputs,
    Tokenize,
    build_tokenizer,
    is_blank,
)
from vlbert_e2e.models.region_encoders import BoxProposer
from vlbert_e2e.registry import MODELS, TRANSFORMS
from vlbert_e2e.utils import (
    apply_checkpoint,
    detector_class_names,
    label_name,
    load_checkpoint_file,
    register_all_modules,
)
from vlbert_e2e.visualization import MODES as ATTENTION_MODES
from vlbert_e2e.visualization import draw_answer

from .attention import draw_attention, query_positions, summarize_attention

TASKS = ('vqa', 'ground', 'fill', 'detect')
HEAD_OF_TASK = {'vqa': 'VQAHead', 'ground': 'GroundingHead', 'fill': 'MLMHead'}


def answer_line(result: Dict) -> str:
    """A result's answer and score(s) in one line (e.g. ``'yes (score 0.913)'``)."""
    if result['task'] == 'vqa':
        return f'{result["answer"]} (score {result["score"]:.3f})'
    if result['task'] == 'ground':
        return f'box {result["box"]} (score {result["score"]:.3f})'
    if result['task'] == 'fill':
        return ', '.join(f'{w} (score {s:.3f})' for w, s in zip(result['words'],
                                                                result['scores']))
    dets = result.get('detections', [])
    return f'{len(dets)} detections' + ''.join(
        f'{", " if i else ": "}{d["label"]} {d["score"]:.2f}' for i, d in enumerate(dets[:5]))


class InferenceError(ValueError):
    """A bad input to the inferencer (file, text, task): message only."""


class UnreadableImageError(InferenceError):
    """An image file that cannot be decoded or resized (the message names it); the
    other files of a call can still be answered."""


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


class VLBertInferencer:
    """Run a trained VLBertE2E on raw image files, in the manner of mmdet's
    ``DetInferencer``.

    Args:
        config: the model's config file (its ``tokenizer`` and ``model`` are used).
        checkpoint: weights saved by ``tools/train.py``, read by
            :func:`~vlbert_e2e.utils.load_checkpoint_file` before the model is built; a
            file that is not a checkpoint, or (unless ``partial_load``) one whose keys do
            not match the config's model (:func:`~vlbert_e2e.utils.apply_checkpoint`),
            raises :class:`~vlbert_e2e.utils.CheckpointError`.
        device: ``'cpu'`` or ``'cuda[:N]'``.
        scale: resize (long, short) side limits; defaults to the config's ``scale`` or
            (1000, 600).
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
    """

    def __init__(self, config: str, checkpoint: Optional[str] = None, device: str = 'cpu',
                 scale: Optional[tuple] = None, score_thr: float = 0.3,
                 partial_load: bool = False, return_attention: bool = False,
                 attention_mode: str = 'mean',
                 proposer: Optional[Union[Sequence, dict]] = None) -> None:
        if attention_mode not in ATTENTION_MODES:
            raise InferenceError(f'unknown attention mode {attention_mode!r}; choose from '
                                 f'{", ".join(ATTENTION_MODES)}')
        self.return_attention, self.attention_mode = return_attention, attention_mode
        if device.startswith('cuda') and not torch.cuda.is_available():
            raise InferenceError(f'--device {device}: no CUDA device on this machine '
                                 '(use --device cpu)')
        if not os.path.isfile(config):
            raise InferenceError(f'config file not found: {config}')
        register_all_modules(init_default_scope=False)  # safe loading, all modules
        self.cfg = Config.fromfile(config)
        self.device, self.score_thr = device, score_thr
        ckpt = self._read(checkpoint) if checkpoint else None  # a bad file before the model
        proposer = None if proposer is None else _build_proposer(proposer)  # fail early
        with DefaultScope.overwrite_default_scope('vlbert_e2e'):
            self.model = MODELS.build(self.cfg.model)
        meta = apply_checkpoint(self.model, ckpt, checkpoint, partial_load,
                                hint=" (is it the config's?)") if ckpt is not None else {}
        self.model.to(device).eval()
        enc = self.model.region_encoder
        if enc.box_source == 'given':  # raw images come without boxes
            enc.box_source = 'given+detector'
        if proposer is not None:
            enc.use_proposer(proposer)
        self.dataset_meta = meta.get('dataset_meta') or {}
        vqa = self._head('VQAHead')
        if vqa is not None and self.dataset_meta.get('answers'):
            vqa.answers = list(self.dataset_meta['answers'])
        self.classes = detector_class_names(self.cfg, self.dataset_meta)
        if 'proposer' in enc.box_source:  # the reported detections are the proposer's
            self.classes = list(enc.proposer.classes)
        self.tokenizer = self.cfg.get('tokenizer', 'bert-base-uncased')
        self.scale = tuple(scale or self.cfg.get('scale', (1000, 600)))
        self.loader = LoadVLImage(on_bad_sample='raise')
        with DefaultScope.overwrite_default_scope('vlbert_e2e'):
            self.resize = TRANSFORMS.build(dict(type='CheckedResize', scale=self.scale,
                                                keep_ratio=True))
        self.pack = PackVLInputs(meta_keys=('img_path', 'ori_shape', 'img_shape',
                                            'scale_factor', 'text'),
                                 task_keys=('answer_position', ))

    @staticmethod
    def _read(checkpoint: str) -> dict:
        if not os.path.isfile(checkpoint):
            raise InferenceError(f'checkpoint file not found: {checkpoint}')
        return load_checkpoint_file(checkpoint)

    def _head(self, type_name: str):
        for head in self.model.heads.values():
            if type(head).__name__ == type_name:
                return head
        return None

    def _sample(self, path: str, task: str, text: Optional[str]) -> dict:
        try:
            results = self.loader(dict(img_path=path))
            if 'proposer' in self.model.region_encoder.box_source:
                results['ori_img'] = results['img']  # what it sees, as KeepOriginalImage
            results = self.resize(results)
        except BadSampleError as e:
            raise UnreadableImageError(str(e)) from None
        results['text'] = text if task != 'detect' else '[detect]'
        try:
            results = Tokenize(self.tokenizer, max_length=48, mask_as_text_b=task == 'vqa',
                               mask_in_text=task == 'fill')(results)
        except BadSampleError as e:
            raise InferenceError(f'--text: {e}') from None
        results['task'] = task
        return self.pack(results)

    def __call__(self, inputs: List[str], task: str, text: Optional[str] = None,
                 return_attention: Optional[bool] = None) -> List[Dict]:
        """Answer ``task`` about each image file; returns one dict per image.
        ``return_attention`` overrides the constructor's choice for this call."""
        if task not in TASKS:
            raise InferenceError(f'unknown task {task!r}; choose from {", ".join(TASKS)}')
        if task != 'detect' and is_blank(text):
            raise InferenceError(f'task {task!r} needs a non-empty --text')
        if task in HEAD_OF_TASK and self._head(HEAD_OF_TASK[task]) is None:
            raise InferenceError(f'task {task!r} needs a {HEAD_OF_TASK[task]} in the model; '
                                 f'this config has: {list(self.model.heads)}')
        if task == 'fill':
            tok = build_tokenizer(self.tokenizer)
            if tok.mask_token not in text:
                raise InferenceError(f'task fill needs {tok.mask_token} in --text')
            self._head('MLMHead').mask_token_id = tok.mask_token_id
        if return_attention is None:
            return_attention = self.return_attention
        return [self._run_one(p, task, text, return_attention and task != 'detect')
                for p in inputs]

    @torch.no_grad()
    def _run_one(self, path: str, task: str, text: Optional[str],
                 attention: bool = False) -> Dict:
        t0 = time.perf_counter()
        data = self._sample(path, task, text)
        batch = self.model.data_preprocessor(
            dict(inputs=[data['inputs']], data_samples=[data['data_samples']]), False)
        t1 = time.perf_counter()
        if task == 'detect':
            s = self.model.detect(batch['inputs'], batch['data_samples'], rescale=True)[0]
        else:
            self.model.predict_detections = True
            s = self.model.predict(batch['inputs'], batch['data_samples'],
                                   output_attentions=attention)[0]
        t2 = time.perf_counter()
        out = self._result(path, task, text, s, dict(preprocess_s=t1 - t0, model_s=t2 - t1))
        if attention:
            out['attention'] = self._attention(s, task)
        return out

    def _attention(self, s, task: str) -> Dict:
        """The sample's attention from its answering tokens (see ``apis/attention.py``)."""
        tok = build_tokenizer(self.tokenizer)
        n = s.seq_text_length
        tokens = tok.convert_ids_to_tokens(s.input_ids[:n].tolist())
        query = query_positions(task, s.input_ids, n, s.get('answer_position'),
                                tok.mask_token_id)
        return summarize_attention(s, task, tokens, query, self.attention_mode,
                                   classes=self.classes)

    @staticmethod
    def visualize_attention(result: Dict, region_path: str,
                            text_path: Optional[str] = None) -> None:
        """Write the heat over the regions (and the text-to-text matrix) of a result
        made with ``return_attention``."""
        from vlbert_e2e.datasets.transforms import decode_image
        if 'attention' not in result:
            raise InferenceError(f'no attention in the result for {result["image"]} '
                                 '(ask with return_attention=True; detect has none)')
        rgb = np.ascontiguousarray(decode_image(result['image'])[..., ::-1])
        region_pic, text_pic = draw_attention(result['attention'], rgb)
        for path, pic in ((region_path, region_pic), (text_path, text_pic)):
            if path:
                os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
                cv2.imwrite(path, pic[..., ::-1])

    def _result(self, path, task, text, s, timings) -> Dict:
        out = dict(image=path, task=task, text=text, timings=timings)
        if 'pred_instances' in s:
            inst = s.pred_instances[s.pred_instances.scores >= self.score_thr]
            out['detections'] = [
                dict(box=[round(float(v), 1) for v in b], score=round(float(sc), 4),
                     label=label_name(self.classes, lab), label_id=int(lab))
                for b, sc, lab in zip(inst.bboxes, inst.scores, inst.labels)]
        if task == 'vqa':
            out['answer'] = s.get('pred_answer', str(s.pred_answer_index))
            out['score'] = round(float(s.pred_answer_score), 4)
        elif task == 'ground':
            out['box'] = [round(float(v), 1) for v in s.pred_ref_box]
            out['score'] = round(float(s.pred_ref_score), 4)
        elif task == 'fill':
            tok = build_tokenizer(self.tokenizer)
            out['words'] = tok.convert_ids_to_tokens(s.pred_mlm_ids.tolist())
            out['scores'] = [round(float(v), 4) for v in s.pred_mlm_scores]
        return out

    @staticmethod
    def draw(result: Dict, image: Optional[np.ndarray] = None) -> np.ndarray:
        """RGB picture of a result: detections (green), the chosen box (red), the text
        and the answer (:func:`vlbert_e2e.visualization.draw_answer`, readable at any
        image size). ``image``: the RGB picture, if already read."""
        from vlbert_e2e.datasets.transforms import decode_image
        rgb = image if image is not None else np.ascontiguousarray(
            decode_image(result['image'])[..., ::-1])
        dets = [(d['box'], f'{d["label"]} {d["score"]:.2f}')
                for d in result.get('detections', [])]
        chosen = (result['box'], f'{result["score"]:.2f}') if 'box' in result else None
        lines = ([result['text']] if result['task'] != 'detect' else []) + [
            '-> ' + answer_line(result)]
        return draw_answer(rgb, dets, chosen, lines)

    @classmethod
    def visualize(cls, result: Dict, out_path: str) -> None:
        """Write :meth:`draw`'s picture to ``out_path``."""
        os.makedirs(os.path.dirname(out_path) or '.', exist_ok=True)
        cv2.imwrite(out_path, cls.draw(result)[..., ::-1])

"""VLBertInferencer: raw image files + text in, answers / boxes / pictures out."""
import os
import time
from typing import Dict, List, Optional, Sequence, Union

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from vlbert_e2e.datasets.transforms import LoadVLImage, PackVLInputs, Tokenize, build_tokenizer
from vlbert_e2e.models.region_encoders import BoxProposer
from vlbert_e2e.registry import MODELS, TRANSFORMS

TASKS = ('vqa', 'ground', 'fill', 'detect')
HEAD_OF_TASK = {'vqa': 'VQAHead', 'ground': 'GroundingHead', 'fill': 'MLMHead'}


class InferenceError(ValueError):
    """A bad input to the inferencer (file, text, task, checkpoint): message only."""


def _build_proposer(proposer: Union[Sequence, dict]) -> BoxProposer:
    kw = dict(proposer) if isinstance(proposer, dict) else dict(
        zip(('config', 'checkpoint'), proposer))
    try:
        return BoxProposer(**kw)
    except (FileNotFoundError, ValueError) as e:
        raise InferenceError(str(e)) from None


class VLBertInferencer:
    """Run a trained VLBertE2E on raw image files, in the manner of mmdet's
    ``DetInferencer``.

    Args:
        config: the model's config file (its ``tokenizer`` and ``model`` are used).
        checkpoint: weights saved by ``tools/train.py``; must match the config
            (missing or unexpected model keys raise :class:`InferenceError`).
        device: ``'cpu'`` or ``'cuda[:N]'``.
        scale: resize (long, short) side limits; defaults to the config's ``scale`` or
            (1000, 600).
        score_thr: detections drawn and reported from this score on.
        proposer: ``(mmdet config, checkpoint file or URL)`` or a dict of
            :class:`BoxProposer` arguments: a separate, frozen mmdet detector supplies
            the boxes (and the reported detections and their class names) instead of
            the model's own detector; the model's trunk pools them.
    """

    def __init__(self, config: str, checkpoint: Optional[str] = None, device: str = 'cpu',
                 scale: Optional[tuple] = None, score_thr: float = 0.3,
                 proposer: Optional[Union[Sequence, dict]] = None) -> None:
        if not os.path.isfile(config):
            raise InferenceError(f'config file not found: {config}')
        self.cfg = Config.fromfile(config)
        self.device, self.score_thr = device, score_thr
        proposer = None if proposer is None else _build_proposer(proposer)  # fail early
        with DefaultScope.overwrite_default_scope('vlbert_e2e'):
            self.model = MODELS.build(self.cfg.model)
        meta = self._load(checkpoint) if checkpoint else {}
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
        self.classes = self.dataset_meta.get('classes')
        if 'proposer' in enc.box_source:  # the reported detections are the proposer's
            self.classes = list(enc.proposer.classes)
        self.tokenizer = self.cfg.get('tokenizer', 'bert-base-uncased')
        self.scale = tuple(scale or self.cfg.get('scale', (1000, 600)))
        self.loader = LoadVLImage(on_bad_sample='raise')
        with DefaultScope.overwrite_default_scope('vlbert_e2e'):
            self.resize = TRANSFORMS.build(dict(type='mmdet.Resize', scale=self.scale,
                                                keep_ratio=True))
        self.pack = PackVLInputs(meta_keys=('img_path', 'ori_shape', 'img_shape',
                                            'scale_factor', 'text'),
                                 task_keys=('answer_position', ))

    def _load(self, checkpoint: str) -> dict:
        if not os.path.isfile(checkpoint):
            raise InferenceError(f'checkpoint file not found: {checkpoint}')
        ckpt = torch.load(checkpoint, map_location='cpu', weights_only=True)
        sd = ckpt.get('state_dict', ckpt)
        own = self.model.state_dict()
        missing = [k for k in own if k not in sd]
        unexpected = [k for k in sd if k not in own]
        wrong = [k for k in own if k in sd and sd[k].shape != own[k].shape]
        if missing or unexpected or wrong:
            raise InferenceError(
                f'checkpoint {checkpoint} does not match the config: {len(missing)} missing '
                f'(e.g. {missing[:2]}), {len(unexpected)} unexpected (e.g. {unexpected[:2]}), '
                f'{len(wrong)} of another shape (e.g. {wrong[:2]})')
        self.model.load_state_dict(sd, strict=True)  # already read and checked above
        return ckpt.get('meta', {})

    def _head(self, type_name: str):
        for head in self.model.heads.values():
            if type(head).__name__ == type_name:
                return head
        return None

    def _sample(self, path: str, task: str, text: Optional[str]) -> dict:
        try:
            results = self.loader(dict(img_path=path))
        except ValueError as e:
            raise InferenceError(str(e)) from None
        if 'proposer' in self.model.region_encoder.box_source:
            results['ori_img'] = results['img']  # what it sees, as KeepOriginalImage
        results = self.resize(results)
        results['text'] = text if task != 'detect' else '[detect]'
        results = Tokenize(self.tokenizer, max_length=48,
                           mask_as_text_b=task == 'vqa')(results)
        results['task'] = task
        return self.pack(results)

    def __call__(self, inputs: List[str], task: str, text: Optional[str] = None
                 ) -> List[Dict]:
        """Answer ``task`` about each image file; returns one dict per image."""
        if task not in TASKS:
            raise InferenceError(f'unknown task {task!r}; choose from {", ".join(TASKS)}')
        if task != 'detect' and (text is None or not text.strip()):
            raise InferenceError(f'task {task!r} needs a non-empty --text')
        if task in HEAD_OF_TASK and self._head(HEAD_OF_TASK[task]) is None:
            raise InferenceError(f'task {task!r} needs a {HEAD_OF_TASK[task]} in the model; '
                                 f'this config has: {list(self.model.heads)}')
        if task == 'fill':
            tok = build_tokenizer(self.tokenizer)
            if tok.mask_token not in text:
                raise InferenceError(f'task fill needs {tok.mask_token} in --text')
            self._head('MLMHead').mask_token_id = tok.mask_token_id
        return [self._run_one(p, task, text) for p in inputs]

    @torch.no_grad()
    def _run_one(self, path: str, task: str, text: Optional[str]) -> Dict:
        t0 = time.perf_counter()
        data = self._sample(path, task, text)
        batch = self.model.data_preprocessor(
            dict(inputs=[data['inputs']], data_samples=[data['data_samples']]), False)
        t1 = time.perf_counter()
        if task == 'detect':
            s = self.model.detect(batch['inputs'], batch['data_samples'], rescale=True)[0]
        else:
            self.model.predict_detections = True
            s = self.model.predict(batch['inputs'], batch['data_samples'])[0]
        t2 = time.perf_counter()
        return self._result(path, task, text, s, dict(preprocess_s=t1 - t0, model_s=t2 - t1))

    def _result(self, path, task, text, s, timings) -> Dict:
        out = dict(image=path, task=task, text=text, timings=timings)
        if 'pred_instances' in s:
            inst = s.pred_instances[s.pred_instances.scores >= self.score_thr]
            out['detections'] = [
                dict(box=[round(float(v), 1) for v in b], score=round(float(sc), 4),
                     label=self.classes[int(lab)] if self.classes else int(lab))
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
    def visualize(result: Dict, out_path: str) -> None:
        """Draw detections (green), the chosen box (red) and the answer (white)."""
        from vlbert_e2e.datasets.transforms import decode_image
        img = np.ascontiguousarray(decode_image(result['image']))
        for d in result.get('detections', []):
            x1, y1, x2, y2 = map(int, d['box'])
            cv2.rectangle(img, (x1, y1), (x2, y2), (0, 200, 0), 1)
            cv2.putText(img, f'{d["label"]} {d["score"]:.2f}', (x1, max(y1 - 2, 8)),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.3, (0, 200, 0), 1)
        if 'box' in result:
            x1, y1, x2, y2 = map(int, result['box'])
            cv2.rectangle(img, (x1, y1), (x2, y2), (0, 0, 255), 2)
        caption = {'vqa': lambda r: f'{r["text"]} -> {r["answer"]}',
                   'ground': lambda r: r['text'],
                   'fill': lambda r: f'{r["text"]} -> {" ".join(r["words"])}'}.get(
                       result['task'])
        if caption:
            cv2.putText(img, caption(result), (3, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.35,
                        (255, 255, 255), 1)
        os.makedirs(os.path.dirname(out_path) or '.', exist_ok=True)
        cv2.imwrite(out_path, img)

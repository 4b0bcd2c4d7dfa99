"""Predicted data samples -> JSON-ready result dicts, and their one-line summaries."""
from typing import Dict, Optional, Sequence

from vlbert_e2e.utils import label_name


class InferenceError(ValueError):
    """A bad input to the inferencer (file, text, task): message only."""


class UnreadableImageError(InferenceError):
    """An image file that cannot be decoded or resized (the message names it); the
    other files of a call can still be answered."""


def answer_line(result: Dict) -> str:
    """A result's answer and score(s) in one line (e.g. ``'yes (score 0.913)'``)."""
    if result['task'] == 'vqa':
        return f'{result["answer"]} (score {result["score"]:.3f})'
    if result['task'] == 'ground':
        if result['box'] is None:
            return 'no region found (the detector found nothing to choose from)'
        return f'box {result["box"]} (score {result["score"]:.3f})'
    if result['task'] == 'fill':
        return ', '.join(f'{w} (score {s:.3f})' for w, s in zip(result['words'],
                                                                result['scores']))
    dets = result.get('detections', [])
    return f'{len(dets)} detections' + ''.join(
        f'{", " if i else ": "}{d["label"]} {d["score"]:.2f}' for i, d in enumerate(dets[:5]))


def sample_to_result(sample, item: Dict, score_thr: float,
                     classes: Optional[Sequence[str]], tokenizer=None) -> Dict:
    """One predicted sample as a JSON-ready dict.

    Args:
        sample: the model's predicted ``VLDataSample`` (``pred_instances`` ``(N,)``
            in original-image pixels, ``pred_answer``/``pred_answer_score``,
            ``pred_ref_box`` ``(4,)``/``pred_ref_score``, ``pred_mlm_ids`` ``(M,)``).
        item: the inferencer's input (``image``, ``task``, ``text`` and, when given,
            the true ``answer``).
        score_thr: detections from this score on are listed.
        classes: detector class names (``label_name`` names the others ``class N``).
        tokenizer: turns ids (``input_ids``, ``pred_mlm_ids``) into word pieces.

    Returns:
        dict with ``image``, ``task``, ``text``, ``img_shape`` (``[h, w]`` the model
        saw), ``tokens`` (the word pieces it read), ``detections`` (box in original
        pixels, score, label, label_id and, where the model read detector boxes,
        ``roi``: whether this one was among its RoIs) and the task's answer:
        ``answer`` + ``score`` (vqa), ``box`` + ``score`` (ground), ``words`` +
        ``scores`` (fill); with a true answer also ``truth`` and ``correct``.
    """
    task = item['task']
    out = dict(image=item['image'], task=task, text=item.get('text'))
    if sample.metainfo.get('img_shape') is not None:
        out['img_shape'] = [int(v) for v in sample.img_shape]  # as resized for the model
    if task != 'detect' and 'input_ids' in sample:
        out['tokens'] = tokenizer.convert_ids_to_tokens(sample.input_ids.tolist())
    if 'pred_instances' in sample:
        inst = sample.pred_instances[sample.pred_instances.scores >= score_thr]
        out['detections'] = [
            dict(box=[round(float(v), 1) for v in b], score=round(float(sc), 4),
                 label=label_name(classes, lab), label_id=int(lab))
            for b, sc, lab in zip(inst.bboxes, inst.scores, inst.labels)]
        if 'is_roi' in inst:  # the model read detector boxes: which of them
            for d, roi in zip(out['detections'], inst.is_roi.tolist()):
                d['roi'] = bool(roi)
    if task == 'vqa':
        out['answer'] = sample.get('pred_answer', str(sample.get('pred_answer_index')))
        out['score'] = round(float(sample.pred_answer_score), 4)
    elif task == 'ground':
        box = sample.pred_ref_box.reshape(-1, 4)
        # None: the detector found no region to choose from
        out['box'] = [round(float(v), 1) for v in box[0]] if len(box) else None
        out['score'] = round(float(sample.pred_ref_score), 4)
    elif task == 'fill':
        out['words'] = tokenizer.convert_ids_to_tokens(sample.pred_mlm_ids.tolist())
        out['scores'] = [round(float(v), 4) for v in sample.pred_mlm_scores]
    if item.get('answer') is not None and task == 'vqa':
        out['truth'] = str(item['answer'])
        out['correct'] = out['answer'] == out['truth']
    return out

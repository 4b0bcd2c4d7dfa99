"""VCR: the official ``*.jsonl`` annotations and per-image metadata JSON."""
import json
import os.path as osp
from collections import Counter
from typing import List, Sequence, Tuple

from mmengine.dataset import BaseDataset

from vlbert_e2e.registry import DATASETS

from .record_checker import RecordChecker
from .skipped_samples import SkipsBadTestSamples
from .text_lines import read_text_lines
from .transforms.loading import BadSampleError
from .transforms.text_encoding import is_blank

MODES = ('q2a', 'qa2r')


def detokenize(tokens: Sequence, objects: Sequence[str], where: str
               ) -> Tuple[List[str], List[int]]:
    """VCR tokens (words, or lists of object indices) -> words and, per word, the RoI
    whose feature is its visual clue (object ``i`` -> RoI ``i + 1``; 0 = whole image).

    An object becomes its class name numbered within the class (``person1``,
    ``person2``, ``chair1``); several objects are joined with ``and`` (whose RoI is
    0). A blank word is left out.

    Args:
        tokens: the record's tokens: strings, or lists of object indices.
        objects: the class name of every object of the image (its ``objects``).
        where: names the record in errors.

    Returns:
        ``(words, boxes)``, two lists of the same length: the words, and per word its
        RoI index (0 = whole image, ``i + 1`` = object ``i``).

    Raises:
        BadSampleError: an object index that is not an int in ``[0, len(objects))``.
    """
    seen, names = Counter(), []
    for o in objects:
        seen[o] += 1
        names.append(f'{o}{seen[o]}')
    words, boxes = [], []
    for tok in tokens:
        if isinstance(tok, list):
            for k, i in enumerate(tok):
                if not isinstance(i, int) or not 0 <= i < len(objects):
                    raise BadSampleError(f'{where}: object index {i} of {len(objects)}')
                if k:
                    words.append('and')
                    boxes.append(0)
                words.append(names[i])
                boxes.append(i + 1)
        elif not is_blank(str(tok)):  # a blank word (e.g. only zero-width) is no word
            words.append(str(tok))
            boxes.append(0)
    return words, boxes


@DATASETS.register_module()
class VCRDataset(SkipsBadTestSamples, BaseDataset):
    """VCR in mode ``q2a`` (question -> 4 answers) or ``qa2r`` (question + right answer
    -> 4 rationales). Images and ``metadata_fn`` JSON (``boxes`` [x1,y1,x2,y2,score],
    ``names``, ``width``, ``height``) live under ``data_prefix['img']``. The detections
    of the metadata are the given RoIs (mmdet ``instances``); each word referring to an
    object takes that object's RoI as visual clue.

    Args:
        ann_file: the ``*.jsonl`` annotations, one JSON object a line.
        data_prefix: ``dict(img=folder)`` holding the images and metadata files.
        *args, **kwargs: the other arguments of MMEngine's ``BaseDataset``.
        mode: ``'q2a'`` or ``'qa2r'``.
        on_bad_sample: a line whose metadata file or image is missing, whose metadata
            is not valid JSON or disagrees with it, or that is malformed or not UTF-8,
            raises :class:`BadSampleError` naming the file and ``annot_id``
            (``'raise'``), or is skipped and counted in ``bad_samples.num_skipped``
            (``'skip'``).

    Raises:
        ValueError: ``mode`` is not ``'q2a'`` or ``'qa2r'``.
    """

    def __init__(self, *args, mode: str = 'q2a', on_bad_sample: str = 'raise',
                 **kwargs) -> None:
        if mode not in MODES:
            raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
        self.mode = mode
        self.bad_samples = RecordChecker(on_bad_sample)
        super().__init__(*args, **kwargs)

    def load_data_list(self) -> List[dict]:
        """One sample per usable non-empty line of ``ann_file``.

        Returns:
            Dicts with ``img_path``, ``img_id``, ``annot_id`` (also ``sample_id``),
            ``label`` (the ``answer_label`` in ``q2a``, the ``rationale_label`` in
            ``qa2r``; ``None`` when the line has none, e.g. the test split),
            ``words_a``/``word_boxes_a`` (the question, in ``qa2r`` followed by the
            right answer, as words and per word its RoI index, see
            :func:`detokenize`), ``choices_words``/``choices_word_boxes`` (the 4
            choices, the same way) and ``instances`` (the metadata's boxes, x1y1x2y2
            in original-image pixels, ``bbox_label=0``; RoI ``i + 1`` is box ``i``).

        Raises:
            BadSampleError: with ``on_bad_sample='raise'``, at the first bad line
                (naming ``ann_file`` and the ``annot_id`` or line); under ``'skip'``,
                when every line is bad.
            FileNotFoundError: ``ann_file`` does not exist.
        """
        prefix = self.data_prefix.get('img', '')
        lines = ((n, line) for n, line in read_text_lines(self.ann_file, self.bad_samples)
                 if line.strip())
        out = self.bad_samples.collect(lines, lambda nl: self._parse(nl[1], nl[0], prefix))
        self.bad_samples.report(self.ann_file, len(out))
        return out

    @staticmethod
    def _metadata(path: str, where: str) -> dict:
        """The per-image metadata JSON ``path`` of the record ``where``; raises
        :class:`BadSampleError` naming both when it is missing, empty or malformed."""
        if not osp.isfile(path):
            raise BadSampleError(f'{where}: metadata file not found: {path}')
        try:
            with open(path, 'rb') as f:
                meta = json.loads(f.read().decode('utf-8'))
        except (ValueError, OSError) as e:  # JSONDecodeError and UnicodeDecodeError too
            raise BadSampleError(f'{where}: metadata file {path} is not valid JSON '
                                 f'({e})') from e
        if not isinstance(meta, dict) or not isinstance(meta.get('boxes'), list):
            raise BadSampleError(f'{where}: metadata file {path} has no "boxes" list')
        return meta

    def _parse(self, line: str, line_no: int, prefix: str) -> dict:
        where = f'{self.ann_file}, line {line_no}'
        try:
            item = json.loads(line)
            where = f'{self.ann_file}, annot_id {item["annot_id"]}'
            objects = item['objects']
            meta_path = osp.join(prefix, item['metadata_fn'])
            meta = self._metadata(meta_path, where)
            img_path = osp.join(prefix, item['img_fn'])
            if not osp.isfile(img_path):
                raise BadSampleError(f'{where}: image file not found: {img_path}')
            boxes = [b[:4] for b in meta['boxes']]
            if len(boxes) != len(objects):
                raise BadSampleError(f'{where}: {len(objects)} objects but {len(boxes)} '
                                     f'boxes in {meta_path}')
            q_words, q_boxes = detokenize(item['question'], objects, where)
            if not q_words:
                raise BadSampleError(f'{where}: empty question')
            label = item.get('answer_label' if self.mode == 'q2a' else 'rationale_label')
            if self.mode == 'q2a':
                choices = item['answer_choices']
            else:
                a = item['answer_choices'][item['answer_label']]
                a_words, a_boxes = detokenize(a, objects, where)
                q_words, q_boxes = q_words + a_words, q_boxes + a_boxes
                choices = item['rationale_choices']
            if len(choices) != 4:
                raise BadSampleError(f'{where}: expected 4 choices, got {len(choices)}')
            c = [detokenize(ch, objects, where) for ch in choices]
        except (json.JSONDecodeError, KeyError, TypeError, IndexError, OSError) as e:
            raise BadSampleError(f'{where}: malformed record ({e!r})') from e
        for i, (words, _) in enumerate(c):
            if not words:
                raise BadSampleError(f'{where}: empty choice {i}')
        return dict(
            img_path=img_path, img_id=item.get('img_id'),
            annot_id=item['annot_id'], sample_id=item['annot_id'], label=label,
            words_a=q_words, word_boxes_a=q_boxes,
            choices_words=[w for w, _ in c], choices_word_boxes=[b for _, b in c],
            instances=[dict(bbox=b, bbox_label=0, ignore_flag=0) for b in boxes])

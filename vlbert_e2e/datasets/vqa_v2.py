"""VQA v2 over the official question/annotation JSON files and COCO images."""
import json
import os.path as osp
from typing import List, Optional

from mmengine.dataset import BaseDataset

from vlbert_e2e.evaluation.functional.vqa_eval import soft_scores
from vlbert_e2e.registry import DATASETS
from vlbert_e2e.utils.config_checks import ConfigError

from .coco_attributes import AttributeIndex
from .record_checker import RecordChecker, resolve
from .skipped_samples import SkipsBadTestSamples
from .transforms.loading import BadSampleError
from .transforms.text_encoding import is_blank


def read_answer_vocab(path: str) -> List[str]:
    """The answer vocabulary of ``path``: one answer a line, as
    ``tools/dataset_converters/build_vqa_answer_vocab.py`` writes it.

    Returns:
        The answers in file order (blank lines left out); an answer's index is its
        class index for ``VQAHead``.

    Raises:
        ValueError: an answer appears twice.
        FileNotFoundError: ``path`` does not exist.
    """
    with open(path, encoding='utf-8') as f:
        answers = [ln.rstrip('\n') for ln in f if ln.strip()]
    if len(set(answers)) != len(answers):
        raise ValueError(f'{path}: duplicate answers in the vocabulary')
    return answers


@DATASETS.register_module()
class VQAv2Dataset(SkipsBadTestSamples, BaseDataset):
    """VQA v2: ``v2_OpenEnded_mscoco_<split>_questions.json`` (``ann_file``) and, for
    train/val, ``v2_mscoco_<split>_annotations.json`` (``answer_file``).

    Each sample: the question, its COCO image (``img_name_template`` formatted with the
    questions file's ``data_subtype`` and ``image_id``), the 10 human answers
    (``gt_answers``, for the metric) and the training target: for every vocabulary
    answer given by someone, the official accuracy it would score
    (``answer_indices`` / ``answer_weights``).

    Args:
        ann_file: the questions JSON.
        data_prefix: ``dict(img=folder)`` of the COCO images.
        *args, **kwargs: the other arguments of MMEngine's ``BaseDataset``
            (``data_root``, which relative ``answer_file``/``instances_file`` paths
            are joined to, ``pipeline``, ...).
        answer_vocab: text file, one answer a line; becomes ``metainfo['answers']``.
        answer_file: annotations JSON; ``None`` for test-dev/test-std.
        img_name_template: the image file name, formatted with ``subtype`` and
            ``image_id``.
        instances_file: optional COCO instances JSON of the same images: their boxes
            become the sample's ``instances`` (given RoIs, and detector ground truth for
            the joint detection loss with ``PackVLInputs(with_det_gt=True)``), and
            with ``metainfo=dict(attributes=NAMES)`` their attributes (PACO-style
            ``attribute_ids``, see :class:`AttributeIndex`).
        on_bad_sample: a bad record raises :class:`BadSampleError` naming its file and
            id (``'raise'``), or is skipped and counted in ``bad_samples.num_skipped``
            (``'skip'``). Bad: a question without text or integer image_id, or whose
            annotation (``answer_file``) or image (``instances_file``) is missing; an
            annotation of a question ``ann_file`` lacks; a box of ``instances_file``
            without area, on an image its ``images`` lack, or with an attribute id
            its ``attributes`` lack.

    Raises:
        ValueError: ``answer_vocab`` repeats an answer.
        ConfigError: (a ``ValueError``) the category names of ``instances_file`` (by
            id) differ from ``metainfo['classes']``, or its attribute names from
            ``metainfo['attributes']``, where given.
    """

    def __init__(self, *args, answer_vocab: str, answer_file: Optional[str] = None,
                 instances_file: Optional[str] = None,
                 img_name_template: str = 'COCO_{subtype}_{image_id:012d}.jpg',
                 on_bad_sample: str = 'raise', **kwargs) -> None:
        self.bad_samples = RecordChecker(on_bad_sample)
        self.answer_file = answer_file
        self.instances_file = instances_file
        self.img_name_template = img_name_template
        answers = read_answer_vocab(answer_vocab)
        kwargs['metainfo'] = dict(kwargs.get('metainfo') or {}, answers=answers)
        self._answer_index = {a: i for i, a in enumerate(answers)}
        super().__init__(*args, **kwargs)

    def _load_json(self, path: str) -> dict:
        try:
            with open(path, encoding='utf-8') as f:
                return json.load(f)
        except (OSError, json.JSONDecodeError) as e:
            raise ValueError(f'cannot read {path}: {e}') from e

    def _path(self, path: str) -> str:
        return osp.join(self.data_root, path) if self.data_root and not osp.isabs(path) else path

    def _image_instances(self) -> dict:
        """image_id -> mmdet instances from a COCO instances file (labels: category
        index by sorted id, as mmdet's CocoDataset); every image of the file has an
        entry (empty when it has no box). A box without area, or on an image_id the
        file's ``images`` lack, is a bad record (raised, or skipped and counted)."""
        path = self._path(self.instances_file)
        coco = self._load_json(path)
        categories = sorted(coco.get('categories', []), key=lambda c: c['id'])
        names = [c.get('name') for c in categories]
        classes = self.metainfo.get('classes')
        if classes is not None and names != list(classes):
            # labels are category indices: another label set would be learnt silently
            # under the configured names (mmdet's CocoDataset drops them instead)
            raise ConfigError(f'{path}: its categories {names} are not the classes of the '
                              f'config {list(classes)}')
        cats = [c['id'] for c in categories]
        attrs = AttributeIndex(coco, self.metainfo.get('attributes'), path)
        out = {img['id']: [] for img in coco.get('images', [])}
        for a in coco['annotations']:
            where = f'{path}, annotation {a.get("id")}'
            try:
                boxes = resolve(out, a.get('image_id'), where, 'image_id', f'{path} "images"')
                x, y, w, h = a['bbox']
                if w <= 0 or h <= 0:
                    raise BadSampleError(f'{where}: box without area')
                box = dict(bbox=[x, y, x + w, y + h], bbox_label=cats.index(a['category_id']),
                           ignore_flag=int(a.get('iscrowd', 0)))
                if attrs.enabled:
                    box['attributes'] = attrs.multi_hot(a, where)
            except BadSampleError as e:
                self.bad_samples(e)
                continue
            boxes.append(box)
        return out

    def _annotations(self, questions: List[dict]) -> dict:
        """question_id -> annotation of ``answer_file``; an annotation of a question
        that is not in ``ann_file`` is a bad record (raised, or skipped and counted)."""
        path = self._path(self.answer_file)
        asked = {q.get('question_id'): q for q in questions if isinstance(q, dict)}
        anns = {}
        for a in self._load_json(path)['annotations']:
            qid = a.get('question_id')
            try:
                resolve(asked, qid, f'{path}, question_id {qid}', 'question_id', self.ann_file)
            except BadSampleError as e:
                self.bad_samples(e)
                continue
            anns[qid] = a
        return anns

    def load_data_list(self) -> List[dict]:
        """One sample per usable question of ``ann_file``.

        Returns:
            Dicts with ``question_id`` (also ``sample_id``), ``image_id`` (also
            ``img_id``), ``text`` (the question), ``task='vqa'`` and ``img_path``;
            with ``instances_file``, ``instances`` (the image's COCO boxes, x1y1x2y2
            in original-image pixels, ``bbox_label`` = category index by sorted id,
            ``ignore_flag`` = ``iscrowd``) and, with ``metainfo['attributes']``,
            ``roi_attributes`` (per box, the multi-hot row of its ``attribute_ids``, see
            :class:`AttributeIndex`); with ``answer_file``, ``gt_answers`` (the
            10 human answers), ``answer_type``, ``question_type``,
            ``answer_indices`` (vocabulary indices of the answers someone gave) and
            ``answer_weights`` (the official accuracy each would score, a fraction
            in ``(0, 1]``).

        Raises:
            BadSampleError: with ``on_bad_sample='raise'``, at the first bad record
                (naming its file and id); under ``'skip'``, when every question is bad.
            ValueError: a JSON file is missing or not valid JSON (naming it).
            KeyError: a JSON file lacks its ``questions`` or ``annotations`` list.
        """
        qs = self._load_json(self.ann_file)
        subtype = qs.get('data_subtype', '')
        anns = self._annotations(qs['questions']) if self.answer_file else None
        boxes = self._image_instances() if self.instances_file else None
        out = self.bad_samples.collect(qs['questions'],
                                       lambda q: self._sample(q, subtype, anns, boxes))
        self.bad_samples.report(self.ann_file, len(out))
        return out

    def _sample(self, q: dict, subtype: str, anns: Optional[dict],
                boxes: Optional[dict]) -> dict:
        """The sample of question ``q``; :class:`BadSampleError` when it is unusable
        or its annotation or image is not in the other files."""
        qid = q.get('question_id')
        where = f'{self.ann_file}, question_id {qid}'
        if is_blank(q.get('question')):
            raise BadSampleError(f'{where}: empty or missing question')
        if not isinstance(q.get('image_id'), int):
            raise BadSampleError(f'{where}: missing or non-integer image_id')
        rec = dict(
            question_id=qid, image_id=q['image_id'], img_id=q['image_id'],
            text=q['question'], sample_id=qid, task='vqa',
            img_path=osp.join(self.data_prefix.get('img', ''), self.img_name_template.format(
                subtype=subtype, image_id=q['image_id'])))
        if boxes is not None:
            rec['instances'] = resolve(boxes, q['image_id'], where, 'image_id',
                                       self._path(self.instances_file))
            if self.metainfo.get('attributes') is not None:
                rec['roi_attributes'] = [b['attributes'] for b in rec['instances']]
        if anns is None:
            return rec
        a = resolve(anns, qid, where, 'question_id', self._path(self.answer_file))
        if a.get('image_id', q['image_id']) != q['image_id']:
            raise BadSampleError(f'{where}: image_id {q["image_id"]}, but its annotation in '
                                 f'{self._path(self.answer_file)} has {a["image_id"]}')
        gt = [x['answer'] for x in a.get('answers', [])]
        if len(gt) != 10:
            raise BadSampleError(f'{where}: expected 10 answers, got {len(gt)}')
        scores = {self._answer_index[k]: v for k, v in soft_scores(gt).items()
                  if k in self._answer_index and v > 0}
        rec.update(gt_answers=gt, answer_type=a.get('answer_type'),
                   question_type=a.get('question_type'),
                   answer_indices=list(scores), answer_weights=list(scores.values()))
        return rec

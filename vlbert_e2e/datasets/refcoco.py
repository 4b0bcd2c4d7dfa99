"""RefCOCO / RefCOCO+ / RefCOCOg: one sample per referring expression."""
import os.path as osp
from collections import defaultdict
from typing import List

import mmengine
from mmdet.datasets import RefCocoDataset as MMDetRefCocoDataset

from vlbert_e2e.registry import DATASETS

from .coco_attributes import AttributeIndex
from .record_checker import RecordChecker, resolve
from .skipped_samples import SkipsBadTestSamples
from .transforms.loading import BadSampleError
from .transforms.text_encoding import is_blank


@DATASETS.register_module()
class RefCOCODataset(SkipsBadTestSamples, MMDetRefCocoDataset):
    """Referring expressions over ``refs(unc).p`` / ``refs(umd).p`` (``split_file``)
    and the COCO ``instances.json`` (``ann_file``); reuses mmdet's split and ref
    indexing (``_init_refs``, over the refs whose links resolve), but yields one sample
    per *sentence* (mmdet groups them per image for detection-style training).

    A sample holds the expression (``text``), all COCO boxes of its image as
    ``instances`` (the candidate RoIs of the ``given`` box source, read by mmdet's
    ``LoadAnnotations``), ``ref_index`` (which of them is referred to) and, for the
    metric, the referred box in original image coordinates (``ref_bbox``, x1y1x2y2).
    Instance labels are COCO category indices, so the boxes can also train the
    detector (``PackVLInputs(with_det_gt=True)`` + ``det_loss_weight``).

    Args:
        data_root: folder the other paths are relative to.
        ann_file: the COCO ``instances.json`` of the images.
        split_file: the refs pickle (``refs(unc).p``, ``refs(umd).p``).
        data_prefix: ``dict(img_path=folder)`` (or ``img=``) of the COCO images.
        split: the refs' split to read (``'train'``, ``'val'``, ``'testA'``, ...).
        *args, **kwargs: the other arguments of mmdet's ``RefCocoDataset``
            (``text_mode``) and MMEngine's ``BaseDataset`` (``pipeline``, ...).
        on_bad_sample: a ref of ``split`` whose ``image_id`` or ``ann_id`` is not in
            ``ann_file`` (e.g. a COCO file cut to a subset), or that is otherwise
            unusable (box without area, empty sentence, an attribute id the file's
            ``attributes`` lack), raises
            :class:`BadSampleError` naming the refs file and the ``ref_id``
            (``'raise'``), or is skipped and counted in ``bad_samples.num_skipped``
            (``'skip'``).
    """

    def __init__(self, *args, on_bad_sample: str = 'raise', **kwargs) -> None:
        self.bad_samples = RecordChecker(on_bad_sample)
        super().__init__(*args, **kwargs)

    def load_data_list(self) -> List[dict]:
        """One sample per sentence of every usable ref of ``split``.

        Also sets ``metainfo['classes']`` (the COCO category names, sorted by id) and
        mmdet's ``splits``/``refs``/``ref_to_ann`` over the usable refs.

        Returns:
            Dicts with ``img_path``, ``img_id``, ``text`` (the sentence's ``raw``, else
            ``sent``), ``sample_id`` (``sent_id``), ``ref_id``, ``task='ground'``,
            ``instances`` (every COCO box of the image: ``bbox`` x1y1x2y2 in
            original-image pixels, ``bbox_label`` = category index, ``ignore_flag=0``),
            ``ref_index`` (index of the referred box in ``instances``), ``ref_bbox``
            (that box, x1y1x2y2 pixels) and, with ``metainfo['attributes']``,
            ``roi_attributes`` (per box, the multi-hot row of its PACO-style
            ``attribute_ids``, see :class:`AttributeIndex`).

        Raises:
            BadSampleError: with ``on_bad_sample='raise'``, at the first bad ref
                (naming ``split_file`` and the ``ref_id``); under ``'skip'``, when
                every ref is bad.
            FileNotFoundError: ``split_file`` or ``ann_file`` does not exist.
            ConfigError: (a ``ValueError``) the attribute names of ``ann_file`` differ
                from ``metainfo['attributes']``, where given.
        """
        splits = mmengine.load(self.split_file, file_format='pkl')
        self.instances = mmengine.load(self.ann_file, file_format='json')
        # detector label = index of the COCO category (sorted by id), as mmdet's CocoDataset
        cats = sorted(self.instances.get('categories', []), key=lambda c: c['id'])
        self._metainfo['classes'] = tuple(c['name'] for c in cats)
        index = dict(images={img['id']: img for img in self.instances['images']},
                     anns={a['id']: a for a in self.instances['annotations']},
                     anns_of_image=defaultdict(list),
                     label_of={c['id']: i for i, c in enumerate(cats)},
                     attributes=AttributeIndex(self.instances, self.metainfo.get('attributes'),
                                               self.ann_file))
        for ann in self.instances['annotations']:
            index['anns_of_image'][ann['image_id']].append(ann)
        good = []

        def build(ref: dict) -> List[dict]:
            samples = self._ref_samples(ref, index)
            good.append(ref)
            return samples

        refs = [r for r in splits if isinstance(r, dict) and r.get('split') == self.split]
        out = self.bad_samples.collect(refs, build)
        self.bad_samples.report(f'{self.split_file} (split {self.split})', len(out))
        self.splits = good
        self._init_refs()  # mmdet's self.refs / self.ref_to_ann, over the good refs
        return out

    def _ref_samples(self, ref: dict, index: dict) -> List[dict]:
        """The samples (one per sentence) of ``ref``; :class:`BadSampleError` when a
        link of it does not resolve or it is unusable."""
        where = f'{self.split_file}, ref_id {ref.get("ref_id")}'
        try:
            img = resolve(index['images'], ref['image_id'], where, 'image_id', self.ann_file)
            ann = resolve(index['anns'], ref['ann_id'], where, 'ann_id', self.ann_file)
            sentences = ref['sentences']
        except KeyError as e:
            raise BadSampleError(f'{where}: malformed ref (no {e})') from None
        if ann['image_id'] != img['id']:
            raise BadSampleError(f'{where}: ann_id {ann["id"]} is on image {ann["image_id"]} '
                                 f'of {self.ann_file}, not on image_id {img["id"]}')
        cands = index['anns_of_image'][img['id']]
        instances = [dict(bbox=self._xyxy(a['bbox'], where), ignore_flag=0,
                          bbox_label=index['label_of'].get(a.get('category_id'), 0))
                     for a in cands]
        ref_index = [a['id'] for a in cands].index(ann['id'])
        attrs = index['attributes']
        roi_attributes = ([attrs.multi_hot(a, f'{self.ann_file}, annotation {a.get("id")}')
                           for a in cands] if attrs.enabled else None)
        prefix = self.data_prefix.get('img_path', self.data_prefix.get('img', ''))
        out = []
        for sent in sentences:
            text = sent.get('raw') or sent.get('sent')
            if is_blank(text):
                raise BadSampleError(f'{where}: empty sentence {sent.get("sent_id")}')
            out.append(dict(
                img_path=osp.join(prefix, img['file_name']), img_id=img['id'],
                text=text, sample_id=sent.get('sent_id'), ref_id=ref.get('ref_id'), task='ground',
                instances=instances, ref_index=ref_index,
                ref_bbox=instances[ref_index]['bbox']))
            if roi_attributes is not None:
                out[-1]['roi_attributes'] = roi_attributes
        return out

    @staticmethod
    def _xyxy(bbox, where: str) -> List[float]:
        x, y, w, h = bbox
        if w <= 0 or h <= 0:
            raise BadSampleError(f'{where}: box {bbox} has no area')
        return [x, y, x + w, y + h]

"""RefCOCO / RefCOCO+ / RefCOCOg: one sample per referring expression."""
import os.path as osp
from collections import defaultdict
from typing import List

import mmengine
from mmdet.datasets import RefCocoDataset as MMDetRefCocoDataset

from vlbert_e2e.registry import DATASETS

from .skipped_samples import SkipsBadTestSamples
from .transforms.loading import BadSampleError
from .transforms.text_encoding import is_blank


@DATASETS.register_module()
class RefCOCODataset(SkipsBadTestSamples, MMDetRefCocoDataset):
    """Referring expressions over ``refs(unc).p`` / ``refs(umd).p`` (``split_file``)
    and the COCO ``instances.json`` (``ann_file``); reuses mmdet's split and ref
    indexing (``_init_refs``), but yields one sample per *sentence* (mmdet groups them
    per image for detection-style training).

    A sample holds the expression (``text``), all COCO boxes of its image as
    ``instances`` (the candidate RoIs of the ``given`` box source, read by mmdet's
    ``LoadAnnotations``), ``ref_index`` (which of them is referred to) and, for the
    metric, the referred box in original image coordinates (``ref_bbox``, x1y1x2y2).
    Instance labels are COCO category indices, so the boxes can also train the
    detector (``PackVLInputs(with_det_gt=True)`` + ``det_loss_weight``).
    """

    def load_data_list(self) -> List[dict]:
        self.splits = mmengine.load(self.split_file, file_format='pkl')
        self.instances = mmengine.load(self.ann_file, file_format='json')
        self._init_refs()
        images = {img['id']: img for img in self.instances['images']}
        # detector label = index of the COCO category (sorted by id), as mmdet's CocoDataset
        cats = sorted(self.instances.get('categories', []), key=lambda c: c['id'])
        label_of = {c['id']: i for i, c in enumerate(cats)}
        self._metainfo['classes'] = tuple(c['name'] for c in cats)
        anns_of_image = defaultdict(list)
        for ann in self.instances['annotations']:
            anns_of_image[ann['image_id']].append(ann)
        prefix = self.data_prefix.get('img_path', self.data_prefix.get('img', ''))
        out = []
        for ref in self.splits:
            if ref['split'] != self.split:
                continue
            where = f'{self.split_file}, ref_id {ref.get("ref_id")}'
            img = images.get(ref['image_id'])
            if img is None:
                raise BadSampleError(f'{where}: image_id {ref["image_id"]} not in {self.ann_file}')
            cands = anns_of_image[ref['image_id']]
            ids = [a['id'] for a in cands]
            if ref['ann_id'] not in ids:
                raise BadSampleError(f'{where}: ann_id {ref["ann_id"]} not in its image')
            instances = [dict(bbox=self._xyxy(a['bbox'], where), ignore_flag=0,
                              bbox_label=label_of.get(a.get('category_id'), 0))
                         for a in cands]
            for sent in ref['sentences']:
                text = sent.get('raw') or sent.get('sent')
                if is_blank(text):
                    raise BadSampleError(f'{where}: empty sentence {sent.get("sent_id")}')
                ref_index = ids.index(ref['ann_id'])
                out.append(dict(
                    img_path=osp.join(prefix, img['file_name']), img_id=img['id'],
                    text=text, sample_id=sent.get('sent_id'), ref_id=ref['ref_id'], task='ground',
                    instances=instances, ref_index=ref_index,
                    ref_bbox=instances[ref_index]['bbox']))
        return out

    @staticmethod
    def _xyxy(bbox, where: str) -> List[float]:
        x, y, w, h = bbox
        if w <= 0 or h <= 0:
            raise BadSampleError(f'{where}: box {bbox} has no area')
        return [x, y, x + w, y + h]

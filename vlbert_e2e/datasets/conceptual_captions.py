"""Conceptual Captions: official TSV + img2dataset folder, or a JSON-lines manifest."""
import glob
import json
import os
from typing import List

from mmengine.dataset import BaseDataset
from mmengine.logging import MMLogger

from vlbert_e2e.registry import DATASETS

from .skipped_samples import SkipsBadTestSamples
from .text_lines import read_text_lines
from .transforms.loading import BadSampleError, BadSamplePolicy
from .transforms.text_encoding import is_blank


@DATASETS.register_module()
class ConceptualCaptionsDataset(SkipsBadTestSamples, BaseDataset):
    """Image-caption pairs for pretraining.

    ``ann_file`` is either
    - the official TSV (``caption<TAB>url`` per line); images come from the folder
      img2dataset writes under ``data_prefix['img']`` (``00000/000000123.jpg`` with a
      ``.json`` side file holding ``url``, ``caption`` and ``status``), matched by URL;
    - a JSON-lines manifest (``.jsonl``/``.json``), one
      ``{"image": path, "caption": str, "boxes"?: [[x1,y1,x2,y2]...],
      "labels"?: [int...], "cls_dist"?: [[p...]...]}`` a line; ``image`` is relative
      to ``data_prefix['img']``. Boxes become mmdet ``instances`` (read by mmdet's
      ``LoadAnnotations``); they are the sample's given RoIs.

    Args:
        on_bad_sample: ``'skip'`` (records without an image file, with an empty
            caption, malformed or not UTF-8 are dropped with one warning naming each
            and a count, ``bad_samples.num_skipped``) or ``'raise'``.
    """

    def __init__(self, *args, on_bad_sample: str = 'skip', **kwargs) -> None:
        self.bad_samples = BadSamplePolicy(on_bad_sample)
        kwargs.setdefault('data_prefix', dict(img=''))
        super().__init__(*args, **kwargs)

    def load_data_list(self) -> List[dict]:
        if self.ann_file.endswith(('.jsonl', '.json')):
            records = self._read_manifest()
        else:
            records = self._read_tsv()
        out = []
        for rec in records:
            try:
                out.append(self._check(rec))
            except BadSampleError as e:
                self.bad_samples(e)
        if self.bad_samples.num_skipped:
            MMLogger.get_current_instance().warning(
                f'{self.ann_file}: skipped {self.bad_samples.num_skipped} of '
                f'{len(out) + self.bad_samples.num_skipped} records')
        return out


    def _where(self, line_no: int) -> str:
        return f'{self.ann_file}, line {line_no}'

    def _check(self, rec: dict) -> dict:
        if not os.path.isfile(rec['img_path']):
            raise BadSampleError(f'{rec["where"]}: image file not found: {rec["img_path"]}')
        if is_blank(rec['text']):
            raise BadSampleError(f'{rec["where"]}: empty caption')
        n = len(rec.get('instances', []))
        for key in ('roi_labels', 'roi_cls_dist'):
            if key in rec and len(rec[key]) != n:
                raise BadSampleError(f'{rec["where"]}: {len(rec[key])} {key} for {n} boxes')
        rec.pop('where')
        return rec

    def _read_manifest(self) -> List[dict]:
        records = []
        for i, line in read_text_lines(self.ann_file, self.bad_samples):
            if not line.strip():
                continue
            try:
                records.append(self._parse_manifest_line(line, i))
            except BadSampleError as e:
                self.bad_samples(e)
        return records

    def _parse_manifest_line(self, line: str, i: int) -> dict:
        where = self._where(i)
        try:
            item = json.loads(line)
            rec = dict(img_path=os.path.join(self.data_prefix.get('img', ''), item['image']),
                       text=str(item['caption']), sample_id=i, where=where)
            boxes = item.get('boxes')
            if boxes is not None:
                boxes = [[float(v) for v in b] for b in boxes]
                if any(len(b) != 4 for b in boxes):
                    raise ValueError('every box must be [x1, y1, x2, y2]')
                labels = [int(v) for v in item.get('labels') or [0] * len(boxes)]
                # mmdet's instance format, read by mmdet's LoadAnnotations
                rec['instances'] = [dict(bbox=b, bbox_label=lab, ignore_flag=0)
                                    for b, lab in zip(boxes, labels)]
            if item.get('labels') is not None:
                rec['roi_labels'] = [int(v) for v in item['labels']]
            if item.get('cls_dist') is not None:
                rec['roi_cls_dist'] = [[float(p) for p in d] for d in item['cls_dist']]
        except (ValueError, KeyError, TypeError) as e:
            raise BadSampleError(f'{where}: malformed record ({e!r})') from e
        return rec

    def _read_tsv(self) -> List[dict]:
        prefix = self.data_prefix.get('img', '')
        by_url = {}
        for meta in glob.glob(os.path.join(prefix, '*', '*.json')):
            with open(meta, encoding='utf-8') as f:
                info = json.load(f)
            if info.get('status', 'success') == 'success' and info.get('url'):
                by_url[info['url']] = meta[:-len('.json')] + '.jpg'
        records = []
        for i, line in read_text_lines(self.ann_file, self.bad_samples):
            parts = line.rstrip('\r\n').split('\t')
            if len(parts) != 2:
                self.bad_samples(BadSampleError(f'{self._where(i)}: expected caption<TAB>url'))
                continue
            caption, url = parts
            records.append(dict(img_path=by_url.get(url, f'<not downloaded: {url}>'),
                                text=caption, sample_id=i, where=self._where(i)))
        return records

"""Conceptual Captions: official TSV + img2dataset folder, the img2dataset folder alone,
or a JSON-lines manifest."""
import json
import os
from typing import List

from mmengine.dataset import BaseDataset

from vlbert_e2e.registry import DATASETS

from .coco_attributes import configured_attributes, multi_hot
from .img2dataset_folder import read_caption, scan_img2dataset_folder
from .record_checker import RecordChecker, resolve
from .skipped_samples import SkipsBadTestSamples
from .text_lines import read_text_lines
from .transforms.loading import BadSampleError
from .transforms.text_encoding import is_blank


@DATASETS.register_module()
class ConceptualCaptionsDataset(SkipsBadTestSamples, BaseDataset):
    """Image-caption pairs for pretraining.

    ``ann_file`` is either
    - the official TSV (``caption<TAB>url`` per line); images come from the ``files``
      folder img2dataset writes under ``data_prefix['img']`` (``00000/000000123.jpg``,
      ``.png`` or ``.webp`` as its ``encode_format`` was, with a ``.json`` side file
      holding ``url`` and ``status``), matched by URL;
    - that img2dataset folder itself (a directory): every downloaded image with its
      caption (the ``.txt`` side file, else the ``.json``'s ``caption``);
    - a JSON-lines manifest (``.jsonl``/``.json``), one
      ``{"image": path, "caption": str, "boxes"?: [[x1,y1,x2,y2]...],
      "labels"?: [int...], "cls_dist"?: [[p...]...], "attributes"?: [[int...]...]}``
      a line (``attributes``: each box's 0-based attribute indices, read with
      ``metainfo=dict(attributes=...)``); ``image`` is relative
      to ``data_prefix['img']``. Boxes become mmdet ``instances`` (read by mmdet's
      ``LoadAnnotations``); they are the sample's given RoIs. With
      ``metainfo=dict(classes=...)``, a label that is not an index of those classes
      makes the record malformed (the detector's loss would fail on it, or learn it
      under another name).

    Args:
        ann_file: the TSV, the img2dataset folder or the JSON-lines manifest (above).
        data_prefix: ``dict(img=folder)``: the img2dataset folder of the TSV, or the
            folder manifest ``image`` paths are relative to (default ``''``).
        *args, **kwargs: the other arguments of MMEngine's ``BaseDataset``
            (``data_root``, ``pipeline``, ``test_mode``, ...).
        on_bad_sample: ``'skip'`` (records without an image file, with an empty
            caption, malformed or not UTF-8, and img2dataset side files that are empty
            or malformed, are dropped with a warning naming each and a count,
            ``bad_samples.num_skipped``) or ``'raise'``.
        labels_as_targets: ``True``: a manifest's ``labels`` are also the masked-RoI
            classification targets (``roi_labels``); ``False``: they are only the
            detector's ground truth (``instances``), and ``MVRCHead`` takes the
            detector's class distribution on the unmasked image as its target (the
            paper's, when the detector learns beside: the shapes demo).
    """

    def __init__(self, *args, on_bad_sample: str = 'skip', labels_as_targets: bool = True,
                 **kwargs) -> None:
        self.bad_samples = RecordChecker(on_bad_sample)
        self.labels_as_targets = labels_as_targets
        kwargs.setdefault('data_prefix', dict(img=''))
        super().__init__(*args, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Read ``ann_file`` into samples, after the checks of ``on_bad_sample``.

        Returns:
            One dict per usable record: ``img_path`` (an existing file), ``text`` (the
            caption, not blank), ``sample_id`` (the line number of the TSV or manifest,
            ``'<shard>/<key>'`` of an img2dataset folder) and, from a manifest that
            gives them, ``instances`` (mmdet's: ``bbox`` x1y1x2y2 in pixels,
            ``bbox_label``, ``ignore_flag=0``), ``roi_labels`` (``K`` ints),
            ``roi_cls_dist`` (``K`` lists of class probabilities) and
            ``roi_attributes`` (``K`` multi-hot rows).

        Raises:
            BadSampleError: with ``on_bad_sample='raise'``, at the first bad record
                (naming the file and the line or side file); under ``'skip'``, when
                every record is bad.
            FileNotFoundError: the img2dataset folder (``ann_file`` or
                ``data_prefix['img']`` of a TSV) or ``ann_file`` does not exist.
            ConfigError: ``metainfo.attributes`` is not a list of names.
        """
        configured_attributes(self._metainfo.get('attributes'), self.ann_file)
        if os.path.isdir(self.ann_file):
            records = self._read_img2dataset()
        elif self.ann_file.endswith(('.jsonl', '.json')):
            records = self._read_manifest()
        else:
            records = self._read_tsv()
        out = self.bad_samples.collect(records, self._check)
        self.bad_samples.report(self.ann_file, len(out))
        return out

    def _where(self, line_no: int) -> str:
        return f'{self.ann_file}, line {line_no}'

    def _check(self, rec: dict) -> dict:
        if not os.path.isfile(rec['img_path']):
            raise BadSampleError(f'{rec["where"]}: image file not found: {rec["img_path"]}')
        if is_blank(rec['text']):
            raise BadSampleError(f'{rec["where"]}: empty caption')
        n = len(rec.get('instances', []))
        for key in ('roi_labels', 'roi_cls_dist', 'roi_attributes'):
            if key in rec and len(rec[key]) != n:
                raise BadSampleError(f'{rec["where"]}: {len(rec[key])} {key} for {n} boxes')
        rec.pop('where')
        return rec

    def _read_manifest(self) -> List[dict]:
        lines = ((i, line) for i, line in read_text_lines(self.ann_file, self.bad_samples)
                 if line.strip())
        return self.bad_samples.collect(lines, lambda il: self._parse_manifest_line(il[1], il[0]))

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
                classes = self._metainfo.get('classes')
                if classes and any(not 0 <= lab < len(classes) for lab in labels):
                    raise ValueError(f'labels {labels} are not indices of the '
                                     f'{len(classes)} classes {list(classes)}')
                # mmdet's instance format, read by mmdet's LoadAnnotations
                rec['instances'] = [dict(bbox=b, bbox_label=lab, ignore_flag=0)
                                    for b, lab in zip(boxes, labels)]
            if item.get('labels') is not None and self.labels_as_targets:
                rec['roi_labels'] = [int(v) for v in item['labels']]
            if item.get('cls_dist') is not None:
                rec['roi_cls_dist'] = [[float(p) for p in d] for d in item['cls_dist']]
            attributes = self._metainfo.get('attributes')  # checked in load_data_list
            if attributes and item.get('attributes') is not None:
                rec['roi_attributes'] = [multi_hot(a, len(attributes))
                                         for a in item['attributes']]
        except (ValueError, KeyError, TypeError) as e:
            raise BadSampleError(f'{where}: malformed record ({e!r})') from e
        return rec

    def _read_img2dataset(self) -> List[dict]:
        samples = scan_img2dataset_folder(self.ann_file, self.bad_samples)
        return self.bad_samples.collect(samples, lambda s: dict(
            img_path=s['img_path'], text=read_caption(s), sample_id=s['key'],
            where=s['txt_path'] or s['where']))

    def _read_tsv(self) -> List[dict]:
        folder = self.data_prefix.get('img', '')
        by_url = {}
        for sample in scan_img2dataset_folder(folder, self.bad_samples):
            if isinstance(sample['meta'].get('url'), str):
                by_url[sample['meta']['url']] = sample['img_path']
            else:
                self.bad_samples(BadSampleError(
                    f'{sample["where"]}: no "url" to match it with a line of {self.ann_file}'))
        folder = f'the img2dataset folder {folder} (not downloaded)'

        def build(numbered_line) -> dict:
            i, line = numbered_line
            parts = line.rstrip('\r\n').split('\t')
            if len(parts) != 2:
                raise BadSampleError(f'{self._where(i)}: expected caption<TAB>url')
            return dict(img_path=resolve(by_url, parts[1], self._where(i), 'url', folder),
                        text=parts[0], sample_id=i, where=self._where(i))

        return self.bad_samples.collect(read_text_lines(self.ann_file, self.bad_samples), build)

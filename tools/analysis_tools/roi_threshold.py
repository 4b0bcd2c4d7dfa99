"""How well the detector's RoIs match the annotated objects at each RoI score threshold:
the measurement behind a config's ``region_encoder.det_score_thr``.

python tools/analysis_tools/roi_threshold.py CONFIG CHECKPOINT \
    --ann-file data/shapes/instances_train.json --img-dir data/shapes/images --limit 400

At test time a VL model reads as RoIs the detector's boxes scoring at least
``det_score_thr`` (after the region encoder's NMS, at most ``max_det_boxes``): a counting
question is answered from them, so an object below the threshold is not counted, and a
spurious box above it is. For each threshold this prints, over the pictures of a COCO
annotation file: the share whose RoI count equals the annotated object count, the recall
(annotated objects covered by an RoI at IoU >= 0.5) and the precision (RoIs on an
annotated object at IoU >= 0.5). Choose the threshold on the train split, not on the
split you report. ``--out`` writes the table as JSON.
"""
import argparse
import json
import math
import os
import sys
from collections import defaultdict

THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)


def read_coco_boxes(ann_file: str, limit: int) -> list:
    """``(file_name, (n, 4) x1y1x2y2 boxes)`` of the first ``limit`` pictures by id.

    Raises:
        ValueError: naming the file, when it is not COCO instances JSON.
    """
    import numpy as np
    try:
        with open(ann_file) as f:
            coco = json.load(f)
        images = sorted(coco['images'], key=lambda im: im['id'])[:limit]
        boxes = defaultdict(list)
        for a in coco['annotations']:
            box = a['bbox']  # COCO: top-left corner, width, height
            if not (isinstance(box, list) and len(box) == 4 and all(
                    isinstance(v, (int, float)) and not isinstance(v, bool)
                    and math.isfinite(v) for v in box) and box[2] >= 0 and box[3] >= 0):
                raise ValueError(f'annotation {a.get("id")}: bbox {box!r:.60} is not '
                                 '[x, y, width, height] of finite numbers')
            x, y, w, h = box
            boxes[a['image_id']].append([x, y, x + w, y + h])
        return [(im['file_name'], np.array(boxes[im['id']], np.float32).reshape(-1, 4))
                for im in images]
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f'{ann_file}: not COCO instances JSON ({type(e).__name__}: {e})')


def roi_table(detections: list, truths: list, thresholds, nms_iou, max_boxes: int) -> dict:
    """``{threshold: dict(count_exact, recall, precision)}`` in %, over pictures
    (precision ``None`` where no picture has an RoI).

    Args:
        detections: per picture, ``(scores (n,), labels (n,), boxes (n, 4))`` tensors,
            the detector's results.
        truths: per picture, the ``(m, 4)`` annotated boxes.
        thresholds: RoI score thresholds to try.
        nms_iou, max_boxes: the region encoder's ``det_nms_iou`` and ``max_det_boxes``.
    """
    import torch
    from mmdet.structures.bbox import bbox_overlaps
    from mmengine.structures import InstanceData

    from vlbert_e2e.models.region_encoders.box_ops import top_box_indices
    out = {}
    for thr in thresholds:
        exact = covered = n_gt = on_object = n_roi = 0
        for (scores, labels, boxes), gt in zip(detections, truths):
            r = InstanceData(bboxes=boxes, scores=scores, labels=labels)
            rois = boxes[top_box_indices(r, thr, nms_iou, max_boxes)]
            gt = torch.as_tensor(gt).view(-1, 4)
            exact += len(rois) == len(gt)
            n_gt, n_roi = n_gt + len(gt), n_roi + len(rois)
            if len(rois) and len(gt):
                iou = bbox_overlaps(gt, rois)  # (m, k)
                covered += int((iou.max(1).values >= 0.5).sum())
                on_object += int((iou.max(0).values >= 0.5).sum())
        out[thr] = dict(count_exact=100 * exact / max(len(truths), 1),
                        recall=100 * covered / max(n_gt, 1),
                        precision=100 * on_object / n_roi if n_roi else None)
    return out


def detect(config: str, checkpoint: str, files: list) -> tuple:
    """The detector's results on ``files``, as tensors, the region encoder's
    ``(det_nms_iou, max_det_boxes, det_score_thr)`` and the detector's own score floor
    (``test_cfg.rcnn.score_thr``: no result scores below it)."""
    import torch

    from vlbert_e2e.apis import VLBertInferencer
    inf = VLBertInferencer(config, checkpoint, score_thr=0.0)
    enc = inf.model.region_encoder
    if enc.det_boxes != 'detections' or inf.uses_proposer:
        raise ValueError(f'{config}: its RoIs are not the detector\'s scored detections '
                         f'(det_boxes={enc.det_boxes!r}, box_source={enc.box_source!r}); '
                         "this tool measures det_boxes='detections'")
    results = inf(files, task='detect', batch_size=16)
    dets = [(torch.tensor([d['score'] for d in r['detections']]),
             torch.tensor([d['label_id'] for d in r['detections']], dtype=torch.long),
             torch.tensor([d['box'] for d in r['detections']]).view(-1, 4)) for r in results]
    rcnn = (enc.detector.test_cfg or {}).get('rcnn') or {}
    return dets, (enc.det_nms_iou, enc.max_det_boxes, enc.det_score_thr), rcnn.get(
        'score_thr', 0.0)


def probability(value: str) -> float:
    """argparse ``type``: a number in [0, 1] (a detection score is a probability)."""
    try:
        x = float(value)
    except ValueError:
        x = -1.0
    if not 0.0 <= x <= 1.0:
        raise argparse.ArgumentTypeError(f'{value} is not a score threshold in [0, 1]')
    return x


def main(argv=None) -> None:
    from vlbert_e2e.utils.config_checks import int_at_least, writable_file
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--ann-file', default='data/shapes/instances_train.json',
                   help='COCO instances JSON of the pictures')
    p.add_argument('--img-dir', default='data/shapes/images')
    p.add_argument('--limit', type=int_at_least(1), default=400,
                   help='pictures (the first by id)')
    p.add_argument('--thresholds', type=probability, nargs='+', default=THRESHOLDS)
    p.add_argument('--out', type=writable_file, help='write the table as JSON here')
    args = p.parse_args(argv)
    try:
        truth = read_coco_boxes(args.ann_file, args.limit)
        if not truth:
            raise ValueError(f'{args.ann_file}: no pictures')
        dets, (nms_iou, max_boxes, current), floor = detect(
            args.config, args.checkpoint, [os.path.join(args.img_dir, f) for f, _ in truth])
    except (OSError, ValueError) as e:  # InferenceError is a ValueError too
        print(f'error: {e}', file=sys.stderr)
        sys.exit(2)
    table = roi_table(dets, [b for _, b in truth], sorted(set(args.thresholds)), nms_iou,
                      max_boxes)
    best = max(table, key=lambda t: table[t]['count_exact'])
    nms = 'no NMS' if nms_iou is None else f'NMS at IoU {nms_iou}'
    print(f'{len(truth)} pictures of {args.ann_file}; RoIs: {nms}, at most {max_boxes}; '
          f'the config has det_score_thr={current}')
    if min(table) < floor:
        print(f'note: the detector returns no box scoring under its test_cfg.rcnn.score_thr '
              f'({floor}), so thresholds below it give the same rows')
    print('threshold  count exact  recall@0.5  precision@0.5')
    for thr, row in table.items():
        mark = '  <- most exact counts' if thr == best else ''
        prec = '{:12.1f}%'.format(row['precision']) if row['precision'] is not None \
            else '{:>13}'.format('no RoIs')
        print(f'{thr:9.2f}  {row["count_exact"]:10.1f}%  {row["recall"]:9.1f}%  '
              f'{prec}{mark}')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(ann_file=args.ann_file, pictures=len(truth), config=args.config,
                           checkpoint=args.checkpoint,
                           table={str(t): r for t, r in table.items()}), f, indent=1)


if __name__ == '__main__':
    main()

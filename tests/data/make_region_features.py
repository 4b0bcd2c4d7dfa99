"""Write the precomputed region-feature fixtures of tests/data/vqa (run once; outputs
committed), in the exact formats `LoadRegionFeatures` reads:

- features/trainval_fixture.tsv: a bottom-up-attention TSV as its tools/generate_tsv.py
  writes it (csv.DictWriter, tab-separated, '\\r\\n' line ends, boxes / features base64
  float32), one line per image of the VQA fixture;
- features/npz/<image_id>.npz: the same regions, plus `cls_prob` (1601 Visual Genome
  classes, background first) and `image_w` / `image_h`.

Image 3 has 0 boxes. python tests/data/make_region_features.py
"""
import base64
import csv
import os

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
FIELDNAMES = ['image_id', 'image_w', 'image_h', 'num_boxes', 'boxes', 'features']
NUM_BOXES = {1: 3, 2: 2, 3: 0}
FEATURE_DIM, NUM_CLASSES = 2048, 1601


def regions(rng, image_id, w, h):
    k = NUM_BOXES[image_id]
    x1 = rng.uniform(0, w / 2, k)
    y1 = rng.uniform(0, h / 2, k)
    boxes = np.stack([x1, y1, x1 + rng.uniform(8, w / 2, k), y1 + rng.uniform(8, h / 2, k)],
                     1).astype(np.float32)
    # ReLU'd pool5-like features: non-negative, mostly small
    feats = np.maximum(rng.normal(0, 1, (k, FEATURE_DIM)), 0).astype(np.float32)
    logits = rng.normal(0, 2, (k, NUM_CLASSES))
    prob = np.exp(logits - logits.max(1, keepdims=True))
    return boxes, feats, (prob / prob.sum(1, keepdims=True)).astype(np.float32)


def main():
    rng = np.random.default_rng(16)
    root = os.path.join(HERE, 'vqa')
    out = os.path.join(root, 'features')
    os.makedirs(os.path.join(out, 'npz'), exist_ok=True)
    with open(os.path.join(out, 'trainval_fixture.tsv'), 'w', newline='') as f:
        writer = csv.DictWriter(f, delimiter='\t', fieldnames=FIELDNAMES)
        for image_id in NUM_BOXES:
            w, h = Image.open(os.path.join(root, 'train2014',
                                           f'COCO_train2014_{image_id:012d}.jpg')).size
            boxes, feats, prob = regions(rng, image_id, w, h)
            writer.writerow(dict(
                image_id=image_id, image_w=w, image_h=h, num_boxes=len(boxes),
                boxes=base64.b64encode(boxes.tobytes()).decode(),
                features=base64.b64encode(feats.tobytes()).decode()))
            np.savez(os.path.join(out, 'npz', f'{image_id}.npz'), boxes=boxes,
                     features=feats, cls_prob=prob, image_w=w, image_h=h)


if __name__ == '__main__':
    main()

"""Training dataloader throughput on real JPEG files (decode, resize, flip, tokenize,
mask, pack, collate): the pretraining caption pipeline of the base config."""
import copy
import json
import os
import tempfile
import time

import cv2
import numpy as np
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import DefaultScope
from torch.utils.data import DataLoader

from vlbert_e2e.registry import DATASETS

CAPTION = 'a small dog runs across the green grass next to a red ball in the park'


def write_jpegs(root: str, n: int, size=(480, 640), boxes: int = 10) -> str:
    """``n`` photo-like JPEGs (smoothed noise, quality 90) + a CC JSON-lines manifest.

    Args:
        root: the folder to write ``000000.jpg`` ... and ``manifest.jsonl`` into.
        n: number of images.
        size: ``(H, W)`` of every image in pixels.
        boxes: given boxes per image (random, x1y1x2y2 pixels, label 0).

    Returns:
        The path of ``manifest.jsonl``.
    """
    rng = np.random.default_rng(0)
    h, w = size
    with open(os.path.join(root, 'manifest.jsonl'), 'w') as f:
        for i in range(n):
            img = cv2.GaussianBlur(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), (7, 7), 2)
            cv2.imwrite(os.path.join(root, f'{i:06d}.jpg'), img,
                        [cv2.IMWRITE_JPEG_QUALITY, 90])
            xy = rng.uniform(0, [w * .6, h * .6], (boxes, 2))
            wh = rng.uniform(16, [w * .4, h * .4], (boxes, 2))
            f.write(json.dumps(dict(image=f'{i:06d}.jpg', caption=CAPTION,
                                    boxes=np.concatenate([xy, xy + wh], 1).round(1).tolist(),
                                    labels=[0] * boxes)) + '\n')
    return os.path.join(root, 'manifest.jsonl')


def bench_data_pipeline(dataset_config: str = 'configs/_base_/datasets/cc-text_pretrain.py',
                        tokenizer: str = 'pkg://minilm-l6', n_images: int = 64,
                        num_workers: int = 1, batch_size: int = 8, epochs: int = 2) -> dict:
    """Samples/s of the caption dataloader with ``num_workers`` workers (0: in the main
    process); the first epoch warms up (worker start, tokenizer load) and is not timed.

    Args:
        dataset_config: config whose ``cc_pipeline`` is run (its ``tokenizer``
            entries replaced by ``tokenizer``).
        tokenizer: HF folder, hub id or ``'pkg://<alias>'``.
        n_images: 480x640 JPEGs written to a temporary folder, each an epoch's sample.
        num_workers, batch_size: the ``DataLoader``'s.
        epochs: passes over the images; all but the first are timed (needs >= 2).

    Returns:
        ``data_workers``, ``data_samples_per_s`` and
        ``data_samples_per_s_per_worker`` (samples per second, rounded to 0.1) and
        ``data_image_shape`` (the first sample's packed ``inputs`` shape,
        ``[3, H, W]``).
    """
    cfg = Config.fromfile(dataset_config)
    pipeline = copy.deepcopy(cfg.cc_pipeline)
    for t in pipeline:
        if 'tokenizer' in t:
            t['tokenizer'] = tokenizer
    with tempfile.TemporaryDirectory() as root:
        write_jpegs(root, n_images)
        with DefaultScope.overwrite_default_scope('vlbert_e2e'):
            ds = DATASETS.build(dict(type='ConceptualCaptionsDataset', data_root=root,
                                     ann_file='manifest.jsonl', pipeline=pipeline))
        loader = DataLoader(ds, batch_size=batch_size, num_workers=num_workers,
                            collate_fn=pseudo_collate, persistent_workers=num_workers > 0,
                            worker_init_fn=_one_opencv_thread)
        _one_opencv_thread(0)
        for _ in loader:  # warm-up epoch
            pass
        t0 = time.perf_counter()
        for _ in range(epochs - 1):
            for _ in loader:
                pass
        dt = time.perf_counter() - t0
        shape = ds[0]['inputs'].shape
    n = n_images * (epochs - 1)
    return dict(data_workers=num_workers, data_samples_per_s=round(n / dt, 1),
                data_samples_per_s_per_worker=round(n / dt / max(num_workers, 1), 1),
                data_image_shape=list(shape))


def _one_opencv_thread(_worker_id: int) -> None:
    cv2.setNumThreads(1)

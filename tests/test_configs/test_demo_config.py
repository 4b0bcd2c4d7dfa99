"""The `make demo` config (grouped batches, object tags, 3-layer MiniLM) trains through
tools/train.py on a freshly generated shapes data set."""
import json
import os
import subprocess
import sys

from vlbert_e2e.testing import ROOT

DEMO_CFG = os.path.join(
    ROOT, 'configs/demo/vlbert-minilm-l3_faster-rcnn-r18-c4_1xb32-450i_shapes.py')


def test_demo_config_trains_two_iterations_on_generated_data(tmp_path):
    env = dict(os.environ, HF_HUB_OFFLINE='1', PYTHONWARNINGS='ignore')
    gen = subprocess.run(
        [sys.executable, os.path.join(ROOT, 'tools/dataset_converters/make_shapes_dataset.py'),
         '--out', 'data/shapes', '--num-train', '6', '--num-val', '2'],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert gen.returncode == 0, gen.stderr[-2000:]
    with open(tmp_path / 'data/shapes/instances_train.json') as f:
        names = [c['name'] for c in json.load(f)['categories']]
    assert names == ['circle', 'square', 'triangle']
    r = subprocess.run(
        [sys.executable, os.path.join(ROOT, 'tools/train.py'), DEMO_CFG, '--work-dir', 'w',
         '--cfg-options', 'train_cfg.max_iters=2', 'train_cfg.val_begin=3',
         'train_dataloader.batch_size=16', 'train_dataloader.num_workers=0',
         'train_dataloader.persistent_workers=False', 'default_hooks.logger.interval=1',
         'default_hooks.checkpoint.interval=2'],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    log = r.stdout + r.stderr
    assert r.returncode == 0, log[-3000:]
    assert 'Iter(train) [2/2]' in log and 'loss_vqa' in log and 'loss_ground' in log
    assert 'det_loss_cls' in log
    assert os.path.isfile(tmp_path / 'w/iter_2.pth')

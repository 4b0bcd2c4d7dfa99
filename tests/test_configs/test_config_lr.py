"""Every shipped config trains at the original VL-BERT recipe's per-sample learning rate
at the batch its file name states (``8xb32`` = 8 GPUs x 32 samples).

The original (jackroos/VL-BERT, ``{vcr,vqa,refcoco,pretrain}/function/train.py``) sets
the optimiser's lr to ``TRAIN.LR x total batch`` (GPUs x sum(BATCH_IMAGES) x
GRAD_ACCUMULATE_STEPS): ``TRAIN.LR`` is a rate per sample. The table below holds that
rate, its optimiser and the yaml file it comes from.

The tiny ``*-fixture`` configs and ``configs/demo/`` have no original recipe (their lr
is chosen to overfit a few CPU samples): only their name's batch is checked.
"""
import functools
import glob
import os
import re

import pytest

from vlbert_e2e.testing import ROOT

# (config name pattern, optimiser, lr per sample, the original yaml in jackroos/VL-BERT)
RECIPES = [
    # LR 1.0e-7, 16 GPUs x BATCH_IMAGES [8, 8] (caption + text)
    (r'^vlbert-base(-original)?_.*_cc-text$', 'AdamW', 1.0e-7,
     'cfgs/pretrain/base_e2e_16x16G_fp16.yaml'),
    # LR 1.0e-7, 16 GPUs x [4, 4] x GRAD_ACCUMULATE_STEPS 2
    (r'^vlbert-large(-original)?_.*_cc-text$', 'AdamW', 1.0e-7,
     'cfgs/pretrain/large_e2e_16x16G_fp16.yaml'),
    # LR 6.25e-7, 4 GPUs x 32
    # (the original's VQA runs on precomputed features: our -prec config is its twin)
    (r'^vlbert-base(-prec)?_.*_vqa-v2$', 'AdamW', 6.25e-7, 'cfgs/vqa/base_4x16G_fp32.yaml'),
    # LR 6.25e-7, 4 GPUs x 16 x 4 accumulated
    (r'^vlbert-large_.*_vqa-v2$', 'AdamW', 6.25e-7, 'cfgs/vqa/large_4x16G_fp32.yaml'),
    # SGD, LR 7.0e-5, 4 GPUs x 4 x 4 accumulated
    (r'^vlbert-base_.*_vcr-q2a$', 'SGD', 7.0e-5, 'cfgs/vcr/base_q2a_4x16G_fp32.yaml'),
    (r'^vlbert-base_.*_vcr-qa2r$', 'SGD', 7.0e-5, 'cfgs/vcr/base_qa2r_4x16G_fp32.yaml'),
    # SGD, LR 7.0e-5, 16 GPUs x 4
    (r'^vlbert-large_.*_vcr-q2a$', 'SGD', 7.0e-5, 'cfgs/vcr/large_q2a_16x16G_fp16.yaml'),
    (r'^vlbert-large_.*_vcr-qa2r$', 'SGD', 7.0e-5, 'cfgs/vcr/large_qa2r_16x16G_fp16.yaml'),
    # LR 8.0e-7, 4 GPUs x 4 x 2 accumulated (ground-truth boxes as RoIs, as ours)
    (r'^vlbert-base_.*_refcoco(-detloss)?$', 'AdamW', 8.0e-7,
     'cfgs/refcoco/base_gt_boxes_4x16G.yaml'),
    # LR 8.0e-7, 4 GPUs x 2 x 4 accumulated
    (r'^vlbert-large_.*_refcoco$', 'AdamW', 8.0e-7, 'cfgs/refcoco/large_gt_boxes_4x16G.yaml'),
]

CONFIGS = sorted(p for p in glob.glob(os.path.join(ROOT, 'configs', '*', '*.py'))
                 if os.sep + '_base_' + os.sep not in p)
WITHOUT_RECIPE = [p for p in CONFIGS if p.endswith('-fixture.py') or '/demo/' in p]
SHIPPED = [p for p in CONFIGS if p not in WITHOUT_RECIPE]


def _name(path):
    return os.path.splitext(os.path.basename(path))[0]


def _gpus_x_batch(path):
    m = re.search(r'_(\d+)xb(\d+)-', _name(path))
    assert m, f'{_name(path)}: no GPUsxbBATCH in the name'
    return int(m.group(1)), int(m.group(2))


def _recipe(path):
    rows = [r for r in RECIPES if re.match(r[0], _name(path))]
    assert len(rows) == 1, f'{_name(path)} matches {len(rows)} recipes'
    return rows[0]


@functools.lru_cache(maxsize=None)
def _config(path):
    from mmengine.config import Config
    return Config.fromfile(path)


@pytest.mark.parametrize('path', CONFIGS, ids=_name)
def test_name_states_the_batch_per_gpu(path):
    cfg = _config(path)
    _, batch = _gpus_x_batch(path)
    assert cfg.train_dataloader.batch_size == batch


@pytest.mark.parametrize('path', SHIPPED, ids=_name)
def test_per_sample_lr_is_the_original_recipe(path):
    cfg = _config(path)
    gpus, batch = _gpus_x_batch(path)
    _, optimizer, per_sample, yaml = _recipe(path)
    accumulate = cfg.optim_wrapper.get('accumulative_counts', 1)
    total = gpus * batch * accumulate
    lr = cfg.optim_wrapper.optimizer.lr
    scale = cfg.get('auto_scale_lr', {})

    def effective(auto_scale: bool) -> float:
        # MMEngine's Runner.scale_lr: lr x (world size x batch per GPU) / base_batch_size
        return lr * gpus * batch / scale['base_batch_size'] if auto_scale else lr

    assert cfg.optim_wrapper.optimizer.type == optimizer, yaml
    assert effective(scale.get('enable', False)) / total == pytest.approx(per_sample), yaml
    # --auto-scale-lr at the named batch keeps the rate (base_batch_size agrees with lr)
    assert effective(True) / total == pytest.approx(per_sample), yaml


def test_every_recipe_row_is_used_and_the_exempt_configs_are_the_tiny_ones():
    used = {_recipe(p)[3] for p in SHIPPED}
    assert used == {r[3] for r in RECIPES}
    assert [_name(p) for p in WITHOUT_RECIPE] == [
        'vlbert-minilm-l3_faster-rcnn-r18-c4_1xb16-pretrain_shapes',
        'vlbert-minilm-l3_faster-rcnn-r18-c4_1xb32-600i_shapes',
        'vlbert-tiny_faster-rcnn-r18-c4_1xb4-2e_refcoco-fixture',
        'vlbert-tiny_faster-rcnn-r18-c4_1xb2-2e_vcr-q2a-fixture',
        'vlbert-tiny_faster-rcnn-r18-c4_1xb4-30i_cc-text-fixture',
        'vlbert-tiny-prec_region-features_1xb2-2e_vqa-fixture',
        'vlbert-tiny_faster-rcnn-r18-c4_1xb2-2e_vqa-fixture',
    ]

# Tiny VCR Q->A for CPU tests on tests/data/vcr (official schema).
_base_ = [
    '../_base_/models/vlbert-tiny_faster-rcnn-r18-c4.py',
    '../_base_/datasets/vcr-fixture.py',
    '../_base_/schedules/vcr_sgd_20e.py',
    '../_base_/default_runtime.py',
]
model = dict(region_encoder=dict(box_source='given'), heads=dict(vcr=dict(type='VCRHead')))
optim_wrapper = dict(optimizer=dict(_delete_=True, type='AdamW', lr=1e-3),
                     paramwise_cfg=dict(bypass_duplicate=True))
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=2)]
train_cfg = dict(max_epochs=2, val_interval=2)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=2))
randomness = dict(seed=0)

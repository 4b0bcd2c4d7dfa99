# Tiny CPU pretraining on the fixture data in tests/data (used by the tests and as the
# placeholder `make demo` until the demo issue lands).
_base_ = [
    '../_base_/models/vlbert-tiny_faster-rcnn-r18-c4.py',
    '../_base_/datasets/cc-text_pretrain-fixture.py',
    '../_base_/schedules/pretrain_10e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    region_encoder=dict(need_cls_dist=True),
    heads=dict(
        mlm=dict(type='MLMHead'),
        mvrc=dict(type='MVRCHead', num_classes=9)))  # 8 detector classes + background
max_iters = 30
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=5)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters + 1)
default_hooks = dict(logger=dict(interval=5),
                     checkpoint=dict(interval=15, by_epoch=False))
log_processor = dict(by_epoch=False, window_size=5)
randomness = dict(seed=0)

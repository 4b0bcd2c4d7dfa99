# Tiny VQA for CPU tests on the fixture files in tests/data/vqa (official schema).
_base_ = [
    '../_base_/models/vlbert-tiny_faster-rcnn-r18-c4.py',
    '../_base_/datasets/vqa_v2-fixture.py',
    '../_base_/schedules/vqa_5e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    region_encoder=dict(box_source='detector', max_det_boxes=5),
    heads=dict(vqa=dict(type='VQAHead', num_answers=4, classifier_hidden=64)))
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=2)]
train_cfg = dict(max_epochs=2, val_interval=2)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=2))
randomness = dict(seed=0)

# Tiny RefCOCO for CPU tests on tests/data/refcoco (official schema).
_base_ = [
    '../_base_/models/vlbert-tiny_faster-rcnn-r18-c4.py',
    '../_base_/datasets/refcoco-fixture.py',
    '../_base_/schedules/refcoco_20e.py',
    '../_base_/default_runtime.py',
]
# The tiny detector has 8 classes, the fixture's instances.json names 1 ('square'):
# detection label 0 reads 'square', the others 'class N' (vlbert_e2e/utils/class_names.py).
detector_classes = 'dataset'
model = dict(region_encoder=dict(box_source='given'),
             heads=dict(ground=dict(type='GroundingHead')))
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=2)]
train_cfg = dict(max_epochs=2, val_interval=2)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=2))
randomness = dict(seed=0)

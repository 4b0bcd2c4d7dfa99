# Tiny RefCOCO for CPU tests on tests/data/refcoco (official schema).
_base_ = [
    '../_base_/models/vlbert-tiny_faster-rcnn-r18-c4.py',
    '../_base_/datasets/refcoco.py',
    '../_base_/schedules/refcoco_20e.py',
    '../_base_/default_runtime.py',
]
tokenizer = 'pkg://minilm-l6'
pipeline = [
    dict(type='LoadVLImage', on_bad_sample='raise'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True),
    dict(type='CheckedResize', scale=(128, 96), keep_ratio=True),
    dict(type='Tokenize', tokenizer=tokenizer, max_length=16),
    dict(type='PackVLInputs', meta_keys={{_base_.meta_keys}}, task_keys=('ref_index', )),
]
dataset = dict(type='RefCOCODataset', data_root='tests/data/refcoco/',
               ann_file='instances.json', split_file='refs(unc).p',
               data_prefix=dict(img_path='train2014/'), text_mode='original',
               pipeline=pipeline)
# The tiny detector has 8 classes, the fixture's instances.json names 1 ('square'):
# detection label 0 reads 'square', the others 'class N' (vlbert_e2e/utils/class_names.py).
detector_classes = 'dataset'
model = dict(region_encoder=dict(box_source='given'),
             heads=dict(ground=dict(type='GroundingHead')))
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                        dataset=dict(dataset, split='train'))
val_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                      dataset=dict(dataset, split='val', test_mode=True))
test_dataloader = val_dataloader
test_evaluator = dict(type='GroundingAccuracy', prefix='refcoco_val')
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=2)]
train_cfg = dict(max_epochs=2, val_interval=2)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=2))
randomness = dict(seed=0)

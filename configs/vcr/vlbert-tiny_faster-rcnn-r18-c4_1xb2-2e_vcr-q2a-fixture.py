# Tiny VCR Q->A for CPU tests on tests/data/vcr (official schema).
_base_ = [
    '../_base_/models/vlbert-tiny_faster-rcnn-r18-c4.py',
    '../_base_/datasets/vcr.py',
    '../_base_/schedules/vcr_sgd_20e.py',
    '../_base_/default_runtime.py',
]
tokenizer = 'pkg://minilm-l6'
pipeline = [
    dict(type='LoadVLImage', on_bad_sample='raise'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True),
    dict(type='CheckedResize', scale=(128, 96), keep_ratio=True),
    dict(type='TokenizeChoices', tokenizer=tokenizer, max_length=24),
    dict(type='PackVLInputs', meta_keys={{_base_.meta_keys}}, task_keys=('label', )),
]
dataset = dict(type='VCRDataset', data_root='tests/data/vcr/',
               data_prefix=dict(img='vcr1images/'), mode='q2a', pipeline=pipeline)
model = dict(region_encoder=dict(box_source='given'), heads=dict(vcr=dict(type='VCRHead')))
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(dataset, ann_file='train.jsonl'))
val_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                      dataset=dict(dataset, ann_file='val.jsonl', test_mode=True))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(_delete_=True, type='AdamW', lr=1e-3),
                     paramwise_cfg=dict(bypass_duplicate=True))
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=2)]
train_cfg = dict(max_epochs=2, val_interval=2)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=2))
randomness = dict(seed=0)

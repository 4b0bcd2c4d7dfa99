# The VCR fixture for CPU tests (tests/data/vcr, the official schema), Q->A: 128x96
# images, choices cut at 24 word pieces, MiniLM's tokenizer (nothing downloaded),
# batches of 2, no workers.
_base_ = './vcr.py'
tokenizer = 'pkg://minilm-l6'
pipeline = [
    dict(type='LoadVLImage', on_bad_sample='raise'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True),
    dict(type='CheckedResize', scale=(128, 96), keep_ratio=True),
    dict(type='TokenizeChoices', tokenizer=tokenizer, max_length=24),
    dict(type='PackVLInputs', meta_keys={{_base_.meta_keys}}, task_keys=('label', )),
]
dataset = dict(_base_.dataset, data_root='tests/data/vcr/', pipeline=pipeline)
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(dataset, ann_file='train.jsonl'))
val_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                      dataset=dict(dataset, ann_file='val.jsonl', test_mode=True))
test_dataloader = val_dataloader

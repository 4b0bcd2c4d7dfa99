# The RefCOCO fixture for CPU tests (tests/data/refcoco, the official schema): 128x96
# images, expressions cut at 16 word pieces, MiniLM's tokenizer (nothing downloaded),
# batches of 4, no workers; testing scores the val split.
_base_ = './refcoco.py'
tokenizer = 'pkg://minilm-l6'
pipeline = [
    dict(type='LoadVLImage', on_bad_sample='raise'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True),
    dict(type='CheckedResize', scale=(128, 96), keep_ratio=True),
    dict(type='Tokenize', tokenizer=tokenizer, max_length=16),
    dict(type='PackVLInputs', meta_keys={{_base_.meta_keys}}, task_keys=('ref_index', )),
]
dataset = dict(_base_.dataset, data_root='tests/data/refcoco/', pipeline=pipeline)
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                        dataset=dict(dataset, split='train'))
val_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                      dataset=dict(dataset, split='val', test_mode=True))
test_dataloader = val_dataloader
test_evaluator = dict(type='GroundingAccuracy', prefix='refcoco_val')

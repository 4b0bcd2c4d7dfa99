# RefCOCO (unc splits) on COCO train2014 images, official files read directly.
# RefCOCO+: data_root='data/refcoco+/', split_file='refs(unc).p';
# RefCOCOg: data_root='data/refcocog/', split_file='refs(umd).p', splits val/test.
tokenizer = 'bert-base-uncased'
data_root = 'data/refcoco/'
meta_keys = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'text',
             'ref_id', 'ref_bbox')
pipeline = [  # no flip: expressions say "left" and "right"
    dict(type='LoadVLImage', on_bad_sample='raise'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True),
    dict(type='CheckedResize', scale=(1000, 600), keep_ratio=True),
    dict(type='Tokenize', tokenizer=tokenizer, max_length=40),
    dict(type='PackVLInputs', meta_keys=meta_keys, task_keys=('ref_index', )),
]
dataset = dict(type='RefCOCODataset', data_root=data_root, ann_file='instances.json',
               split_file='refs(unc).p', data_prefix=dict(img_path='train2014/'),
               text_mode='original', pipeline=pipeline)
train_dataloader = dict(
    batch_size=32, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(dataset, split='train'))
val_dataloader = dict(
    batch_size=32, num_workers=4, persistent_workers=True, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='vlbert_e2e.pseudo_collate'),  # drops samples skipped at test time
    dataset=dict(dataset, split='val', test_mode=True))
test_dataloader = dict(val_dataloader, dataset=dict(dataset, split='testA', test_mode=True))
val_evaluator = dict(type='GroundingAccuracy', prefix='refcoco_val')
test_evaluator = dict(type='GroundingAccuracy', prefix='refcoco_testA')

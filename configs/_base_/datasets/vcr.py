# VCR (official jsonl + per-image metadata JSON). Train one model per mode: set
# `mode='q2a'` or `mode='qa2r'`; join them with tools/analysis_tools/vcr_joint_accuracy.py.
tokenizer = 'bert-base-uncased'
data_root = 'data/vcr/'
mode = 'q2a'
meta_keys = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
             'flip_direction', 'annot_id')
pipeline = [  # no flip: the text refers to left/right
    dict(type='LoadVLImage', on_bad_sample='raise'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True),
    dict(type='CheckedResize', scale=(1000, 600), keep_ratio=True),
    dict(type='TokenizeChoices', tokenizer=tokenizer, max_length=64),
    dict(type='PackVLInputs', meta_keys=meta_keys, task_keys=('label', )),
]
dataset = dict(type='VCRDataset', data_root=data_root, data_prefix=dict(img='vcr1images/'),
               mode=mode, pipeline=pipeline)
train_dataloader = dict(batch_size=4, num_workers=4, persistent_workers=True,
                        sampler=dict(type='DefaultSampler', shuffle=True),
                        dataset=dict(dataset, ann_file='train.jsonl'))
# pseudo_collate drops the samples skipped at test time
val_dataloader = dict(batch_size=4, num_workers=4, persistent_workers=True, drop_last=False,
                      sampler=dict(type='DefaultSampler', shuffle=False),
                      collate_fn=dict(type='vlbert_e2e.pseudo_collate'),
                      dataset=dict(dataset, ann_file='val.jsonl', test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='VCRAccuracy', mode=mode)
test_evaluator = val_evaluator

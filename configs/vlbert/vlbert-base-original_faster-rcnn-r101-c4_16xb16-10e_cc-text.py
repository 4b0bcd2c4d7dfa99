# The original VL-BERT base with its pretraining heads: what `vl-bert-base-e2e.model` /
# `vl-bert-base-prec.model` convert into (tools/model_converters/
# vlbert_original_to_mmengine.py; see docs/model_zoo.md) and the recipe to continue
# pretraining from them. As in the original, boxes and MVRC targets are given by the
# data (the CC manifest's `boxes` and `cls_dist`, from the Visual Genome detector:
# 1600 classes + background, background FIRST unless converted with
# `--mvrc-background last`); the detector inside only pools their features.
_base_ = [
    '../_base_/models/vlbert-base-original_faster-rcnn-r101-c4.py',
    '../_base_/datasets/cc-text_pretrain.py',
    '../_base_/schedules/pretrain_10e.py',
    '../_base_/default_runtime.py',
]
# The original's resize (size truncated, PIL bilinear) and flip (x' = W - 1 - x):
# OriginalResize / OriginalRandomFlip; its boxes sorted by class score and text + RoIs
# capped at 64 together: SortAndCapRoIsText (docs/model.md, "Fidelity switches").
cc_pipeline = [
    dict(type='LoadVLImage', on_bad_sample='skip'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True),
    dict(type='OriginalResize', min_size=600, max_size=1000),
    dict(type='OriginalRandomFlip', prob=0.5),
    dict(type='Tokenize', tokenizer={{_base_.tokenizer}}, max_length=512),
    dict(type='SortAndCapRoIsText', seq_len={{_base_.max_length}}),
    dict(type='MaskText', tokenizer={{_base_.tokenizer}}, prob=0.15),
    dict(type='MaskRoIs', prob=0.15, mask_ratio=0.9),
    dict(type='PackVLInputs'),
]
# Text-only samples as the original's GeneralCorpus: one per line, packed across
# documents until 64 words, fed as 64 bare word pieces (no [CLS]/[SEP]).
text_pipeline = [
    dict(type='Tokenize', tokenizer={{_base_.tokenizer}}, max_length={{_base_.max_length}},
         add_special_tokens=False),
    dict(type='MaskText', tokenizer={{_base_.tokenizer}}, prob=0.15),
    dict(type='PackVLInputs'),
]
train_dataloader = dict(dataset=dict(datasets=[
    dict(_base_.cc_dataset, pipeline=cc_pipeline),
    dict(_base_.text_dataset, packing='original', pipeline=text_pipeline)]))
model = dict(
    heads=dict(
        mlm=dict(type='MLMHead'),
        mvrc=dict(type='MVRCHead', num_classes=1601)))
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=10000, max_keep_ckpts=3),
                     logger=dict(interval=50))
log_processor = dict(by_epoch=False)

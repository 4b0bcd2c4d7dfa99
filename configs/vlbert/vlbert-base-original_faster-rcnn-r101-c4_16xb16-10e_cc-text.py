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
model = dict(
    heads=dict(
        mlm=dict(type='MLMHead'),
        mvrc=dict(type='MVRCHead', num_classes=1601)))
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=10000, max_keep_ckpts=3),
                     logger=dict(interval=50))
log_processor = dict(by_epoch=False)

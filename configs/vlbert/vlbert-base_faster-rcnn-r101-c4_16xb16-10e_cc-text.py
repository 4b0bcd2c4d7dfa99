# VL-BERT base pretraining as in the paper: Conceptual Captions + text corpus, 16 GPUs x
# (8 caption + 8 text samples), 10 epochs, AdamW, 16k warmup then linear decay, clip 10,
# fp16 (`--amp`). The R101-C4 detector (dilated res5) starts from MMDetection's
# ImageNet ResNet-101 (caffe) weights; the paper's Visual-Genome detector comes with the
# original VL-BERT checkpoints. For a detector from MMDetection's model zoo see the
# `_r50-c4-coco_` variant. Other GPU counts: add `--auto-scale-lr`.
_base_ = [
    '../_base_/models/vlbert-base_faster-rcnn-r101-c4.py',
    '../_base_/datasets/cc-text_pretrain.py',
    '../_base_/schedules/pretrain_10e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    region_encoder=dict(need_cls_dist=True, det_mask_prob=0.15),
    heads=dict(
        mlm=dict(type='MLMHead', pretrained='bert-base-uncased'),
        mvrc=dict(type='MVRCHead', num_classes=1601)))  # 1600 VG classes + background
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=10000, max_keep_ckpts=3),
                     logger=dict(interval=50))
log_processor = dict(by_epoch=False)

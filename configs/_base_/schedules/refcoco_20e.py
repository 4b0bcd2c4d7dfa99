# The original RefCOCO+ fine-tuning recipe: AdamW, 20 epochs, warmup then linear decay,
# lr 8e-7 per sample (jackroos/VL-BERT cfgs/refcoco/base_gt_boxes_4x16G.yaml and
# large_gt_boxes_4x16G.yaml: LR 8.0e-7), here for the configs' total batch of 256.
_base_ = './finetune_adamw.py'
optim_wrapper = dict(optimizer=dict(lr=8e-7 * 256))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=500),
    dict(type='LinearLR', start_factor=1.0, end_factor=0.0, by_epoch=True, begin=0,
         end=20, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=20)

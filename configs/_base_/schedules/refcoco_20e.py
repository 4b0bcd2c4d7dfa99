# The original RefCOCO+ fine-tuning recipe: AdamW, 20 epochs, warmup then linear decay.
_base_ = './finetune_adamw.py'
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=500),
    dict(type='LinearLR', start_factor=1.0, end_factor=0.0, by_epoch=True, begin=0,
         end=20, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=20)

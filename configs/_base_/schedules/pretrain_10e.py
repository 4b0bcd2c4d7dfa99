# The paper's pretraining recipe: AdamW (wd 1e-4), lr 1e-7 per sample of the total
# batch (jackroos/VL-BERT cfgs/pretrain/base_e2e_16x16G_fp16.yaml and
# large_e2e_16x16G_fp16.yaml: LR 1.0e-7; 16 GPUs x 16 = 256 -> 2.56e-5), 16k iters
# linear warmup from 0 then linear decay, grad-norm clip 10, fp16 dynamic loss scaling
# (pass --amp), 10 epochs (~250k iterations at batch 256). Use --auto-scale-lr with
# another total batch.
max_iters = 250000
warmup_iters = 16000
optim_wrapper = dict(
    type='AutocastOptimWrapper',  # bf16 autocast where the device has native bf16
    enabled='auto',
    optimizer=dict(type='AdamW', lr=2.56e-5, betas=(0.9, 0.999), eps=1e-6,
                   weight_decay=1e-4),
    clip_grad=dict(max_norm=10, norm_type=2),
    # bypass_duplicate: the MLM decoder shares its weight with the word embeddings
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, bypass_duplicate=True))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-8, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='LinearLR', start_factor=1.0, end_factor=0.0, by_epoch=False,
         begin=warmup_iters, end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters + 1)
# lr above is for a total batch of 256; --auto-scale-lr rescales it linearly
auto_scale_lr = dict(enable=False, base_batch_size=256)

# The original VCR recipe: SGD (momentum 0.9, wd 1e-4), 20 epochs, linear warmup then
# step decay; the detector learns 10x slower. lr 7e-5 per sample of a total batch of 64
# (jackroos/VL-BERT cfgs/vcr/base_q2a_4x16G_fp32.yaml: LR 7.0e-5, 4 GPUs x 4 x 4
# accumulated; large_q2a_16x16G_fp16.yaml: 16 GPUs x 4), as the configs' 16xb4;
# `--auto-scale-lr` keeps that rate at another total batch.
optim_wrapper = dict(
    type='AutocastOptimWrapper',  # bf16 autocast where the device has native bf16
    enabled='auto',
    optimizer=dict(type='SGD', lr=7e-5 * 64, momentum=0.9, weight_decay=1e-4),
    clip_grad=dict(max_norm=10, norm_type=2),
    paramwise_cfg=dict(bypass_duplicate=True,
                       custom_keys={'region_encoder.detector.': dict(lr_mult=0.1)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=1000),
    dict(type='MultiStepLR', by_epoch=True, milestones=[14, 18], gamma=0.1),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=20, val_interval=1)
# MMEngine's loops, passing over a batch whose samples were all skipped
val_cfg = dict(type='VLValLoop')
test_cfg = dict(type='VLTestLoop')
auto_scale_lr = dict(enable=False, base_batch_size=64)

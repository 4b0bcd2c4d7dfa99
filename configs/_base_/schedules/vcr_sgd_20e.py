# The original VCR recipe: SGD (momentum 0.9, wd 1e-4), 20 epochs, linear warmup then
# step decay; the detector learns 10x slower.
optim_wrapper = dict(
    type='AutocastOptimWrapper',  # bf16 autocast where the device has native bf16
    enabled='auto',
    optimizer=dict(type='SGD', lr=7e-5 * 256, momentum=0.9, weight_decay=1e-4),
    clip_grad=dict(max_norm=10, norm_type=2),
    paramwise_cfg=dict(bypass_duplicate=True,
                       custom_keys={'region_encoder.detector.': dict(lr_mult=0.1)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=1000),
    dict(type='MultiStepLR', by_epoch=True, milestones=[14, 18], gamma=0.1),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=20, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
auto_scale_lr = dict(enable=False, base_batch_size=256)

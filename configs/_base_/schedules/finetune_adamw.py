# Shared fine-tuning optimiser: AdamW, lr given per sample of a total batch of 256
# (`--auto-scale-lr` rescales), clip 10, the detector 10x slower than the VL part,
# 500 warmup iterations then linear decay to 0 at `max_epochs`.
max_epochs = 5
optim_wrapper = dict(
    type='AutocastOptimWrapper',  # bf16 autocast where the device has native bf16
    enabled='auto',
    optimizer=dict(type='AdamW', lr=1e-7 * 256, betas=(0.9, 0.999), eps=1e-6,
                   weight_decay=1e-4),
    clip_grad=dict(max_norm=10, norm_type=2),
    paramwise_cfg=dict(bypass_duplicate=True, norm_decay_mult=0.0, bias_decay_mult=0.0,
                       custom_keys={'region_encoder.detector.': dict(lr_mult=0.1)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=500),
    dict(type='LinearLR', start_factor=1.0, end_factor=0.0, by_epoch=True, begin=0,
         end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
# MMEngine's loops, passing over a batch whose samples were all skipped
val_cfg = dict(type='VLValLoop')
test_cfg = dict(type='VLTestLoop')
auto_scale_lr = dict(enable=False, base_batch_size=256)

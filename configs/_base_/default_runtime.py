default_scope = 'vlbert_e2e'
custom_imports = dict(imports=['vlbert_e2e.models', 'vlbert_e2e.datasets',
                               'vlbert_e2e.evaluation', 'vlbert_e2e.engine',
                               'mmdet.models', 'mmdet.datasets'],
                      allow_failed_imports=False)

default_hooks = dict(
    # register_all_modules(): the safe checkpoint loading, before load_from / resume
    safe_loading=dict(type='SafeLoadingHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # CheckpointHook's arguments; files written atomically (docs/reliability.md)
    checkpoint=dict(type='AtomicCheckpointHook', interval=1, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # stop at the first NaN/inf loss term, before that state can be saved
    nonfinite_loss=dict(type='NonFiniteLossHook'),
    # RNG states in checkpoints: --resume repeats the uninterrupted run's losses
    rng_state=dict(type='RNGStateHook'),
    # a checkpoint whose keys do not match the model is refused (tools/train.py logs
    # them instead when fine-tuning from load_from; tools/test.py --partial-load too)
    checkpoint_keys=dict(type='CheckpointKeysHook', partial_load=False))

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True)

log_level = 'INFO'
load_from = None
resume = False

# DDP: the detector's RPN / box classifier get no gradient when its own losses are off
# (VL losses only reach the backbone and the RoI trunk), so DDP must look for unused
# parameters; a config with detector losses on every batch may set False (faster).
find_unused_parameters = True

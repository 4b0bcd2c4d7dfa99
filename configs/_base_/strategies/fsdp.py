# Switch a config to PyTorch FSDP through MMEngine's FlexibleRunner + FSDPStrategy:
# parameters, gradients and optimizer state are sharded over the ranks (for
# VL-BERT-large + R101 on many GPUs). Add this file to a config's _base_ list;
# launch with tools/dist_train.sh as usual. See docs/reliability.md.
runner_type = 'FlexibleRunner'
strategy = dict(
    type='FSDPStrategy',
    # checkpoints: one ordinary file gathered on rank 0 (loads with weights_only=True
    # in tools/test.py, the inferencer, a non-FSDP run); 'local' writes per-rank
    # ShardedTensor files, which weights_only loading refuses
    state_dict_cfg='full',
    model_wrapper=dict(
        # one FSDP unit per BERT layer and ResNet stage; tied MLM decoder in the root
        auto_wrap_policy='vlbert_e2e.engine.fsdp_wrap_policy.vlbert_fsdp_wrap_policy',
        use_orig_params=True))  # frozen detector stages sit next to trained ones

"""Train a vlbert_e2e model (MMDetection's tools/train.py arguments)."""
import argparse
import os
import os.path as osp
import sys

import torch
from mmengine.config import Config
from mmengine.registry import RUNNERS

from vlbert_e2e.datasets.transforms.loading import BadSampleError, one_line
from vlbert_e2e.engine.hooks import NonFiniteLossError
from vlbert_e2e.engine.launch import prepare_cpu_distributed
from vlbert_e2e.engine.runner import VLRunner
from vlbert_e2e.utils import (
    CheckpointError,
    check_checkpoint_file,
    find_last_complete_checkpoint,
    register_all_modules,
)
from vlbert_e2e.utils.config_checks import (
    CfgOptionsAction,
    ConfigError,
    explain_build_errors,
    explain_config_errors,
    load_config,
    merge_cfg_options,
)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Train a VL-BERT end-to-end model')
    p.add_argument('config', help='train config file path')
    p.add_argument('--work-dir', help='the dir to save logs and models')
    p.add_argument('--amp', action='store_true',
                   help='mixed precision: fp16 + loss scaling on a GPU, bf16 on CPU')
    p.add_argument('--auto-scale-lr', action='store_true',
                   help='scale the lr by total batch / auto_scale_lr.base_batch_size')
    p.add_argument('--resume', nargs='?', type=str, const='auto',
                   help='resume from PATH, or from the latest checkpoint in work_dir '
                        'when given without a value (or "auto")')
    p.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                   help='override config keys, e.g. train_cfg.max_iters=10')
    p.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                   default='none', help='job launcher')
    p.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = p.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def build_cfg(args) -> Config:
    cfg = load_config(args.config)
    cfg.launcher = args.launcher
    merge_cfg_options(cfg, args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.amp:  # as mmdet: fp16 + dynamic loss scale on a GPU; bf16 autocast on CPU
        cfg.optim_wrapper.pop('enabled', None)
        if torch.cuda.is_available():
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        else:
            cfg.optim_wrapper.update(type='AutocastOptimWrapper', enabled=True)
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            sys.exit('error: --auto-scale-lr needs auto_scale_lr.base_batch_size in the config')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        # MMEngine would trust work_dir/last_checkpoint; take the last *complete* file
        last = find_last_complete_checkpoint(cfg.work_dir)
        if last is None:  # a first run: the config's load_from (fine-tuning) still applies
            start = f'from {cfg.load_from}' if cfg.get('load_from') else 'from scratch'
            print(f'no complete checkpoint in {cfg.work_dir}: training {start}')
            cfg.resume = False
        else:
            cfg.resume, cfg.load_from = True, last
    elif args.resume is not None:
        check_checkpoint_file(args.resume)  # a missing file, a folder, a broken file
        cfg.resume, cfg.load_from = True, args.resume
    if cfg.get('load_from') and '://' not in cfg.load_from:
        check_checkpoint_file(cfg.load_from)  # a local file, before the model is built
    # resuming needs every key; fine-tuning from load_from drops and adds heads (logged),
    # and starts the config's keep_initial prefixes afresh
    resume = cfg.get('resume', False)
    keys_hook = dict(cfg.default_hooks.get('checkpoint_keys') or {})
    keys_hook.update(type='CheckpointKeysHook', partial_load=not resume,
                     hint=' (a run resumes with the model it saved: is this its config?)')
    if resume:
        keys_hook.pop('keep_initial', None)
    if keys_hook.get('keep_initial') and 'FSDP' in str(cfg.get('strategy')):
        # measured: ranks crash in FSDP's unshard during the gathered state dict
        raise ConfigError('default_hooks.checkpoint_keys.keep_initial is not supported '
                          'with the FSDP strategy (load_from without it is)')
    cfg.default_hooks['checkpoint_keys'] = keys_hook
    return cfg


def main(argv=None):
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)  # the Runner sets cfg.default_scope
    try:
        cfg = build_cfg(args)
        prepare_cpu_distributed(cfg)
        with explain_build_errors(cfg):
            runner = RUNNERS.build(cfg) if 'runner_type' in cfg else VLRunner.from_cfg(cfg)
        with explain_config_errors(cfg):
            runner.train()
    except (ConfigError, CheckpointError) as e:  # bad input: one line, exit code 2
        print(f'error: {e}', file=sys.stderr)
        sys.exit(2)
    except NonFiniteLossError as e:
        sys.exit(f'error: {e}')
    except BadSampleError as e:  # a bad image or record under on_bad_sample='raise'
        print(f'error: {one_line(e)}', file=sys.stderr)
        sys.exit(2)


if __name__ == '__main__':
    main()

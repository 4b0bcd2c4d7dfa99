"""Evaluate a checkpoint (MMDetection's tools/test.py arguments)."""
import argparse
import json
import os
import os.path as osp
import sys

from mmengine.config import Config
from mmengine.registry import RUNNERS

from vlbert_e2e.datasets.transforms.loading import BadSampleError, one_line
from vlbert_e2e.engine.launch import prepare_cpu_distributed
from vlbert_e2e.engine.runner import VLRunner
from vlbert_e2e.utils import CheckpointError, check_checkpoint_file, register_all_modules
from vlbert_e2e.utils.config_checks import (
    CfgOptionsAction,
    ConfigError,
    explain_build_errors,
    explain_config_errors,
    load_config,
    merge_cfg_options,
)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Test (and evaluate) a VL-BERT model')
    p.add_argument('config', help='test config file path')
    p.add_argument('checkpoint', help='checkpoint file')
    p.add_argument('--work-dir', help='the dir to save the evaluation metrics')
    p.add_argument('--out', help='dump predictions to this pickle file (offline eval)')
    p.add_argument('--show-dir', help='save visualised predictions here')
    p.add_argument('--partial-load', action='store_true',
                   help='test a checkpoint whose keys do not all match the model (each '
                        'group of keys left out is logged); refused without it')
    p.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                   help='override config keys')
    p.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                   default='none', help='job launcher')
    p.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = p.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main(argv=None):
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)  # the Runner sets cfg.default_scope
    try:
        cfg = load_config(args.config)
        if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
            raise ConfigError('--out must be a .pkl or .pickle file')
        merge_cfg_options(cfg, args.cfg_options)
        check_checkpoint_file(args.checkpoint)  # before the model is built
        with explain_config_errors(cfg):
            return run_test(args, cfg)
    except (ConfigError, CheckpointError) as e:
        print(f'error: {e}', file=sys.stderr)
        sys.exit(2)
    except BadSampleError as e:  # a bad image or record under on_bad_sample='raise'
        print(f'error: {one_line(e)}', file=sys.stderr)
        sys.exit(2)


def run_test(args, cfg: Config) -> dict:
    """Build the runner of ``cfg`` and test ``args.checkpoint``."""
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    cfg.default_hooks['checkpoint_keys'] = dict(
        type='CheckpointKeysHook', partial_load=args.partial_load,
        hint=' (--partial-load tests it anyway, logging what is left out)')
    if args.show_dir:
        cfg.default_hooks.setdefault('visualization', dict(type='VLVisualizationHook'))
        cfg.default_hooks.visualization.update(draw=True, test_out_dir=args.show_dir)
    prepare_cpu_distributed(cfg)
    with explain_build_errors(cfg):
        runner = RUNNERS.build(cfg) if 'runner_type' in cfg else VLRunner.from_cfg(cfg)
    if args.out is not None:
        from mmengine.evaluator import DumpResults
        runner.test_evaluator.metrics.append(DumpResults(out_file_path=args.out))
    metrics = runner.test()
    path = osp.join(cfg.work_dir, 'test_metrics.json')
    with open(path, 'w') as f:
        json.dump({k: float(v) for k, v in metrics.items()}, f, indent=2)
    runner.logger.info(f'metrics written to {path}')
    return metrics


if __name__ == '__main__':
    main()

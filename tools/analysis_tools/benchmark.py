"""Speed and memory: one config's training/predict step, or the whole suite.

One config (samples/s, peak memory, FLOP utilisation, forward split):
    python tools/analysis_tools/benchmark.py CONFIG --img-size 600 800 --batch-size 2 \
        --cfg-options model.vl_bert.pretrained=None model.region_encoder.box_source=given
The suite (docs/benchmarks.md): encoder vs HF VisualBertModel, FLOP utilisation,
the base end-to-end step (fp32, bf16 where native, activation checkpointing), the
dataloader on JPEG files and the demo's inference latency; each part runs in its own
process (its own peak memory), results go to one table and a JSON file:
    python tools/analysis_tools/benchmark.py --suite --json work_dirs/benchmark.json
The optimiser step (AdamW, per-tensor loops vs the fused kernel) of a config's model:
    python tools/analysis_tools/benchmark.py CONFIG --part optimizer
Inference latency of one route (docs/benchmarks.md), e.g. the proposer route:
    python tools/analysis_tools/benchmark.py --part inference \
        --proposer mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import torch

from vlbert_e2e.benchmarking import (
    bench_data_pipeline,
    bench_e2e,
    bench_encoder_vs_peer,
    bench_inference,
    bench_optimizer,
)
from vlbert_e2e.engine.optimizers.autocast_optim_wrapper import native_bf16
from vlbert_e2e.utils import CheckpointError, check_checkpoint_file, register_all_modules
from vlbert_e2e.utils.config_checks import CfgOptionsAction, ConfigError, int_at_least
from vlbert_e2e.utils.device import device_problem

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BASE = 'configs/_base_/models/vlbert-base_faster-rcnn-r101-c4.py'
BASE_OPTS = ['model.vl_bert.pretrained=None', 'model.region_encoder.box_source=given']
PARTS = ('encoder', 'e2e', 'data', 'inference', 'optimizer')
PROPOSER = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'  # the proposer route

positive_int, non_negative_int = int_at_least(1), int_at_least(0)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config', nargs='?', default=BASE)
    p.add_argument('--suite', action='store_true', help='run every part, print one table')
    p.add_argument('--part', choices=PARTS, default='e2e')
    p.add_argument('--img-size', type=positive_int, nargs=2, default=(600, 800), metavar=('H', 'W'))
    p.add_argument('--batch-size', type=positive_int, default=2)
    p.add_argument('--num-boxes', type=non_negative_int, default=36, help='given boxes per image')
    p.add_argument('--num-tokens', type=positive_int, default=32)
    p.add_argument('--steps', type=positive_int, default=2)
    p.add_argument('--warmup', type=non_negative_int, default=1)
    p.add_argument('--dtype', choices=('fp32', 'bf16', 'fp16'), default='fp32')
    p.add_argument('--dtypes', nargs='+', help='suite: dtypes to run (default fp32, plus '
                   'bf16 where the device computes it natively)')
    p.add_argument('--checkpointing', action='store_true',
                   help='activation checkpointing in the encoder and the backbone')
    p.add_argument('--tokenizer', default='pkg://minilm-l6',
                   help='tokenizer of the data and inference parts (HF folder or pkg://)')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--proposer', nargs='+', metavar='CONFIG [CHECKPOINT]',
                   help='inference part: boxes from this mmdet detector (random weights '
                        'without a checkpoint)')
    p.add_argument('--json', help='also write the results here')
    p.add_argument('--checkpoint', help='weights for the e2e or inference part (default: '
                   'random); keys it lacks keep their initial values (logged)')
    p.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction)
    args = p.parse_args(argv)
    if args.checkpoint is not None and (args.suite or args.part not in ('e2e', 'inference')):
        p.error('--checkpoint applies to one e2e or inference part, not to --suite')
    return args


def run_part(args) -> dict:
    if args.part == 'encoder':
        return bench_encoder_vs_peer(args.device, args.dtype, steps=args.steps + 1,
                                     warmup=args.warmup)
    if args.part == 'data':
        return bench_data_pipeline(tokenizer=args.tokenizer)
    if args.part == 'optimizer':
        return bench_optimizer(args.config, args.device, steps=max(args.steps, 10),
                               cfg_options=args.cfg_options)
    if args.part == 'inference':
        return bench_inference(args.config, args.device, tokenizer=args.tokenizer,
                               cfg_options=args.cfg_options, checkpoint=args.checkpoint,
                               proposer=args.proposer)
    return bench_e2e(args.config, args.device, args.dtype, args.batch_size, args.img_size,
                     args.num_boxes, args.num_tokens, args.steps, args.warmup,
                     args.checkpointing, args.cfg_options, args.checkpoint)


def subprocess_part(args, part: str, dtype: str = 'fp32', extra=(), opts=()) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, 'part.json')
        cmd = [sys.executable, os.path.abspath(__file__), BASE, '--part', part, '--device',
               args.device, '--dtype', dtype, '--batch-size', str(args.batch_size),
               '--tokenizer', args.tokenizer, '--json', out, *extra,
               '--cfg-options', *BASE_OPTS, *opts]
        print('$', ' '.join(c for c in cmd[1:] if c not in (out, '--json')), flush=True)
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if r.returncode:
            sys.exit(f'error: benchmark part {part} failed:\n{r.stderr[-3000:]}')
        with open(out) as f:
            return json.load(f)


def suite(args) -> dict:
    dtypes = args.dtypes or (['fp32', 'bf16'] if native_bf16(args.device) else ['fp32'])
    res = dict(device=args.device, threads=torch.get_num_threads(), torch=torch.__version__,
               native_bf16=native_bf16(args.device), runs={})
    for dt in dtypes:
        res['runs'][f'encoder_{dt}'] = subprocess_part(args, 'encoder', dt)
        res['runs'][f'e2e_{dt}'] = subprocess_part(args, 'e2e', dt)
    res['runs'][f'e2e_{dtypes[0]}_checkpointing'] = subprocess_part(
        args, 'e2e', dtypes[0], ['--checkpointing'])
    res['runs']['data'] = subprocess_part(args, 'data')
    res['runs']['inference'] = subprocess_part(args, 'inference')  # det_boxes='proposals'
    res['runs']['inference_detections'] = subprocess_part(
        args, 'inference', opts=['model.region_encoder.det_boxes=detections'])
    res['runs']['inference_proposer'] = subprocess_part(
        args, 'inference', extra=['--proposer', PROPOSER])
    r = res['runs']
    fp, cp = r[f'e2e_{dtypes[0]}'], r[f'e2e_{dtypes[0]}_checkpointing']
    res['checkpointing_memory_saving'] = round(1 - cp['peak_memory_mb'] / fp['peak_memory_mb'], 3)
    res['checkpointing_time_cost'] = round(cp['train_s_per_step'] / fp['train_s_per_step'] - 1, 3)
    if 'e2e_bf16' in r and 'e2e_fp32' in r:
        fp = r['e2e_fp32']
        res['bf16_speedup'] = round(fp['train_s_per_step'] / r['e2e_bf16']['train_s_per_step'], 2)
        res['bf16_ours_over_fp32_peer'] = round(
            r['encoder_bf16']['encoder_ours_s'] / r['encoder_fp32']['encoder_peer_s'], 3)
    return res


def table(res: dict) -> str:
    rows = []
    for name, r in res['runs'].items():
        for k, v in r.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                rows.append(f'| {name} | {k} | {v} |')
    rows += [f'| derived | {k} | {v} |' for k, v in res.items()
             if k not in ('runs', ) and isinstance(v, (int, float, bool, str))]
    return '\n'.join(['| run | metric | value |', '|---|---|---|'] + rows)


def check_inputs(args) -> None:
    """Bad paths and an absent device raise ``CheckpointError`` / ``FileNotFoundError``
    before any model."""
    if not args.suite and not os.path.isfile(args.config):
        raise FileNotFoundError(f'config file not found: {args.config}')
    if args.json is not None and (os.path.isdir(args.json) or not os.path.isdir(
            os.path.dirname(os.path.abspath(args.json)))):
        raise FileNotFoundError(f'--json {args.json}: not a file in an existing folder')
    if args.checkpoint is not None:
        check_checkpoint_file(args.checkpoint)
    why = device_problem(args.device)
    if why:
        raise FileNotFoundError(why)


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    try:
        check_inputs(args)
        if args.proposer and len(args.proposer) > 2:
            raise FileNotFoundError('--proposer takes CONFIG [CHECKPOINT]')
        res = suite(args) if args.suite else run_part(args)
    except (FileNotFoundError, CheckpointError, ConfigError) as e:
        print(f'error: {e}', file=sys.stderr)
        sys.exit(2)
    print(table(res) if args.suite else json.dumps(res, indent=2), flush=True)
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, 'w') as f:
            json.dump(res, f, indent=2)


if __name__ == '__main__':
    main()

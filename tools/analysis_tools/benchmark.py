"""Time training steps and predict calls of a config on synthetic batches.

Example (docs/benchmarks.md has the exact commands behind its figures):
    python tools/analysis_tools/benchmark.py \
        configs/_base_/models/vlbert-base_faster-rcnn-r101-c4.py \
        --img-size 600 800 --batch-size 2 --num-boxes 36 --steps 3 \
        --cfg-options model.vl_bert.pretrained=None model.region_encoder.box_source=given
Reports samples/s, peak memory (process RSS on CPU, max allocated on CUDA) and the
forward-time split between the detector (region encoder) and the VL-BERT encoder.
"""
import argparse
import json
import resource
import time

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import DefaultScope

import vlbert_e2e.models  # noqa: F401
from vlbert_e2e.registry import MODELS
from vlbert_e2e.structures import VLDataSample


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('--img-size', type=int, nargs=2, default=(600, 1000), metavar=('H', 'W'))
    p.add_argument('--batch-size', type=int, default=2)
    p.add_argument('--num-boxes', type=int, default=36, help='given boxes per image')
    p.add_argument('--num-tokens', type=int, default=32)
    p.add_argument('--steps', type=int, default=5)
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--json', help='also write the results here')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args(argv)


def synthetic_batch(args, vocab: int):
    g = torch.Generator().manual_seed(0)
    h, w = args.img_size
    inputs, samples = [], []
    for i in range(args.batch_size):
        inputs.append(torch.randint(0, 256, (3, h, w), dtype=torch.uint8, generator=g))
        s = VLDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w),
                                       scale_factor=(1., 1.), img_id=i))
        ids = torch.randint(1000, min(vocab, 20000), (args.num_tokens,), generator=g)
        s.input_ids, s.token_type_ids = ids, torch.zeros_like(ids)
        lab = torch.full_like(ids, -100)
        lab[1::7] = ids[1::7]
        s.mlm_labels = lab
        xy = torch.rand(args.num_boxes, 2, generator=g) * torch.tensor([w * .7, h * .7])
        wh = torch.rand(args.num_boxes, 2, generator=g) * torch.tensor([w * .3, h * .3]) + 8
        s.gt_boxes = torch.cat([xy, xy + wh], 1)
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


class Timer:
    """Forward wall time of a module, accumulated through hooks."""

    def __init__(self, module, sync):
        self.total, self.sync = 0.0, sync
        module.register_forward_pre_hook(self._start)
        module.register_forward_hook(self._stop)

    def _start(self, *_):
        self.sync()
        self.t0 = time.perf_counter()

    def _stop(self, *_):
        self.sync()
        self.total += time.perf_counter() - self.t0


def peak_memory_mb(device: str) -> float:
    if device.startswith('cuda'):
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.model.setdefault('heads', {})
    cfg.model.heads.setdefault('mlm', dict(type='MLMHead'))
    with DefaultScope.overwrite_default_scope('vlbert_e2e'):
        model = MODELS.build(cfg.model).to(args.device)
    sync = torch.cuda.synchronize if args.device.startswith('cuda') else (lambda: None)
    data = synthetic_batch(args, model.vl_bert.bert.config.vocab_size)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    t_det, t_enc = Timer(model.region_encoder, sync), Timer(model.vl_bert, sync)

    def train_step():
        losses = model(**model.data_preprocessor(data, True), mode='loss')
        loss = sum(v for k, v in losses.items() if k.startswith('loss'))
        opt.zero_grad()
        loss.backward()
        opt.step()

    def predict_step():
        with torch.no_grad():
            model(**model.data_preprocessor(data, False), mode='predict')

    results = dict(config=args.config, device=args.device, img_size=list(args.img_size),
                   batch_size=args.batch_size, num_boxes=args.num_boxes,
                   threads=torch.get_num_threads(),
                   params_m=sum(p.numel() for p in model.parameters()) / 1e6)
    for name, fn, mode in (('train', train_step, True), ('predict', predict_step, False)):
        model.train(mode)
        for _ in range(args.warmup):
            fn()
        t_det.total = t_enc.total = 0.0
        sync()
        t0 = time.perf_counter()
        for _ in range(args.steps):
            fn()
        sync()
        dt = time.perf_counter() - t0
        results[name] = dict(
            samples_per_s=round(args.batch_size * args.steps / dt, 3),
            s_per_step=round(dt / args.steps, 4),
            detector_forward_share=round(t_det.total / dt, 3),
            encoder_forward_share=round(t_enc.total / dt, 3))
    results['peak_memory_mb'] = round(peak_memory_mb(args.device), 1)
    print(json.dumps(results, indent=2))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=2)


if __name__ == '__main__':
    main()

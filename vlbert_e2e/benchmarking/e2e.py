"""Full training steps and the demo's inference path of a model config.

:func:`bench_e2e` times a training step (detector + encoder + heads + AdamW) on
:func:`synthetic_batch` (``checkpointing`` turns on gradient
checkpointing in the encoder and the detector's ResNet stages) and returns the settings
(``config``, ``dtype``, ``img_size``, ``batch_size``, ``num_boxes``, ``checkpointing``,
``params_m``: parameters in millions) and ``train_s_per_step`` (seconds),
``train_samples_per_s``, ``train_gflop_per_step`` (GFLOP counted by
:func:`~.common.step_flops`), ``mm_gflops`` (GFLOP/s of a plain matmul),
``train_mm_utilisation`` (achieved / matmul FLOP/s, a fraction), ``forward_share`` and
the ``detector_``/``encoder_``/``heads_forward_share`` and ``glue_share`` (fractions of
a training step's wall time), ``predict_s_per_step`` (seconds) and ``peak_memory_mb``
(MiB).
"""
import os
import tempfile
import time
from typing import Optional, Sequence

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData

from vlbert_e2e.registry import MODELS
from vlbert_e2e.structures import VLDataSample
from vlbert_e2e.utils import load_weights

from .common import autocast_ctx, matmul_rate, peak_memory_mb, step_flops, sync_of, time_fn


def synthetic_batch(batch_size: int, img_size: Sequence[int], num_boxes: int,
                    num_tokens: int, vocab: int) -> dict:
    """Random pixels, token ids (every 7th an MLM target) and ``num_boxes`` given boxes.

    Returns:
        ``dict(inputs, data_samples)`` as the model's data preprocessor takes it:
        ``batch_size`` uint8 ``(3, H, W)`` images (``img_size = (H, W)``) and
        :class:`VLDataSample` s with ``input_ids``/``token_type_ids``/``mlm_labels``
        of shape ``(num_tokens,)`` (ids in ``[1000, min(vocab, 20000))``) and
        ``gt_boxes`` ``(num_boxes, 4)`` (x1y1x2y2 pixels, at least 8 wide and high).
    """
    g = torch.Generator().manual_seed(0)
    h, w = img_size
    inputs, samples = [], []
    for i in range(batch_size):
        inputs.append(torch.randint(0, 256, (3, h, w), dtype=torch.uint8, generator=g))
        s = VLDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w),
                                       scale_factor=(1., 1.), img_id=i))
        ids = torch.randint(1000, min(vocab, 20000), (num_tokens,), generator=g)
        s.input_ids, s.token_type_ids = ids, torch.zeros_like(ids)
        lab = torch.full_like(ids, -100)
        lab[1::7] = ids[1::7]
        s.mlm_labels = lab
        xy = torch.rand(num_boxes, 2, generator=g) * torch.tensor([w * .7, h * .7])
        wh = torch.rand(num_boxes, 2, generator=g) * torch.tensor([w * .3, h * .3]) + 8
        s.gt_rois = InstanceData(bboxes=torch.cat([xy, xy + wh], 1))
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


class SectionTimer:
    """Wall time of forward sections by category, counting only the outermost timed
    call (a detector loss that calls the RPN's forward is counted once).

    Args:
        sync: called before each clock read (:func:`~.common.sync_of`).

    Attributes:
        totals: category -> seconds summed over the timed calls.
    """

    def __init__(self, sync):
        self.sync, self.depth, self.totals = sync, 0, {}

    def _enter(self):
        if self.depth == 0:
            self.sync()
            self.t0 = time.perf_counter()
        self.depth += 1

    def _exit(self, cat):
        self.depth -= 1
        if self.depth == 0:
            self.sync()
            self.totals[cat] = self.totals.get(cat, 0.0) + time.perf_counter() - self.t0

    def module(self, module, cat):
        """Time every forward of ``module`` (forward hooks) under category ``cat``."""
        module.register_forward_pre_hook(lambda *_: self._enter())
        module.register_forward_hook(lambda *_: self._exit(cat))

    def method(self, obj, name, cat):
        """Replace ``obj.<name>`` by a wrapper that times each call under ``cat``."""
        fn = getattr(obj, name)

        def timed(*args, **kwargs):
            self._enter()
            try:
                return fn(*args, **kwargs)
            finally:
                self._exit(cat)
        setattr(obj, name, timed)


def build_model(config: str, cfg_options: Optional[dict], device: str):
    """``(cfg, model)``: ``config`` read and ``cfg_options`` merged, an
    ``MLMHead`` added when the model has no ``mlm`` head, the model built in the
    ``vlbert_e2e`` scope and moved to ``device``."""
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.model.setdefault('heads', {})
    cfg.model.heads.setdefault('mlm', dict(type='MLMHead'))
    with DefaultScope.overwrite_default_scope('vlbert_e2e'):
        return cfg, MODELS.build(cfg.model).to(device)


def instrument(model, sync) -> SectionTimer:
    """Time the detector's own work, the HF encoder and the heads; what is left of the
    forward pass is our glue (box assembly, sequence building, masking, padding)."""
    t = SectionTimer(sync)
    enc = model.region_encoder
    det = enc.detector
    for m in (det.backbone, getattr(det, 'neck', None), det.rpn_head,
              det.roi_head.bbox_roi_extractor, getattr(det.roi_head, 'shared_head', None),
              det.roi_head.bbox_head):
        if m is not None:
            t.module(m, 'detector')
    for name in ('det_loss', 'detect'):
        t.method(enc, name, 'detector')
    t.module(model.vl_bert.bert, 'encoder')
    for h in model.heads.values():
        t.module(h, 'heads')
    return t


def bench_e2e(config: str, device: str = 'cpu', dtype: str = 'fp32', batch_size: int = 2,
              img_size: Sequence[int] = (600, 800), num_boxes: int = 36, num_tokens: int = 32,
              steps: int = 2, warmup: int = 1, checkpointing: bool = False,
              cfg_options: Optional[dict] = None, checkpoint: Optional[str] = None) -> dict:
    """Samples/s, peak memory, FLOP utilisation and forward split of a training step
    and a predict call (with ``checkpoint``'s weights when given: keys it lacks keep
    their initial values, logged); keys and units: see the module docstring."""
    opts = dict(cfg_options or {})
    if checkpointing:
        opts.update({'model.vl_bert.gradient_checkpointing': True,
                     'model.region_encoder.detector.backbone.with_cp': True,
                     'model.region_encoder.detector.roi_head.shared_head.with_cp': True})
    _, model = build_model(config, opts, device)
    if checkpoint:
        load_weights(model, checkpoint, partial=True)
    sync = sync_of(device)
    data = synthetic_batch(batch_size, img_size, num_boxes, num_tokens,
                           model.vl_bert.bert.config.vocab_size)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    timer = instrument(model, sync)
    fwd = SectionTimer(sync)
    fwd.module(model, 'forward')

    def train_step():
        with autocast_ctx(device, dtype):
            losses = model(**model.data_preprocessor(data, True), mode='loss')
            loss = sum(v for k, v in losses.items() if k.startswith('loss'))
        opt.zero_grad()
        loss.backward()
        opt.step()

    def predict_step():
        with torch.no_grad(), autocast_ctx(device, dtype):
            model(**model.data_preprocessor(data, False), mode='predict')

    out = dict(config=config, dtype=dtype, img_size=list(img_size), batch_size=batch_size,
               num_boxes=num_boxes, checkpointing=checkpointing,
               params_m=round(sum(p.numel() for p in model.parameters()) / 1e6, 1))
    model.train()
    for _ in range(warmup):
        train_step()
    timer.totals, fwd.totals = {}, {}
    dt = time_fn(train_step, steps, 0, device)
    split = {k: v / steps for k, v in timer.totals.items()}
    forward = fwd.totals['forward'] / steps
    glue = forward - sum(split.values())
    flops = step_flops(train_step)
    mm = matmul_rate(dtype, device)
    out.update(train_s_per_step=round(dt, 3), train_samples_per_s=round(batch_size / dt, 3),
               train_gflop_per_step=round(flops / 1e9, 1),
               train_mm_utilisation=round(flops / dt / mm, 3), mm_gflops=round(mm / 1e9, 1),
               forward_share=round(forward / dt, 3),
               detector_forward_share=round(split.get('detector', 0) / dt, 3),
               encoder_forward_share=round(split.get('encoder', 0) / dt, 3),
               heads_forward_share=round(split.get('heads', 0) / dt, 3),
               glue_share=round(glue / dt, 4))
    model.eval()
    dt = time_fn(predict_step, steps, 1, device)
    out.update(predict_s_per_step=round(dt, 3), peak_memory_mb=round(peak_memory_mb(device), 1))
    return out


def _all_boxes(inferencer) -> None:
    """Random weights give near-uniform class scores, below every detection threshold:
    sharpen the box classifiers (x100: trained ones are confident) and drop our own
    thresholds, so that each route pools its full count of boxes (36) and mmdet's
    per-class NMS sees as few candidates as with trained weights."""
    enc = inferencer.model.region_encoder
    enc.det_score_thr = 0.0
    proposer = inferencer.proposer or enc.proposer  # the inferencer's, or the config's
    dets = [enc.detector] + ([] if proposer is None else [proposer.detector])
    with torch.no_grad():
        for det in dets:
            head = det.roi_head.bbox_head if hasattr(det, 'roi_head') else det.bbox_head
            if hasattr(head, 'fc_cls'):
                head.fc_cls.weight.mul_(100)
            else:  # single-stage: keep every candidate instead
                head.test_cfg.score_thr = 0.0
    if proposer is not None:
        proposer.score_thr = 0.0


def bench_inference(config: str, device: str = 'cpu', img_size: Sequence[int] = (480, 640),
                    steps: int = 3, tokenizer: str = 'pkg://minilm-l6',
                    cfg_options: Optional[dict] = None, checkpoint: Optional[str] = None,
                    proposer: Optional[Sequence[str]] = None) -> dict:
    """Per-image latency of the demo path (``VLBertInferencer``: decode, resize,
    boxes, one VQA answer) on a JPEG file, every route pooling its full count of boxes,
    with random weights or those of ``checkpoint`` (partial load: its VQA head may
    differ from the benchmark's). ``proposer``: ``(mmdet config[, checkpoint])``, the
    proposer route. Wall and CPU seconds (the CPU figure is less sensitive to other
    processes) and the load average around the run.

    Returns:
        ``config``, ``image`` (``[H, W]``), ``route`` (the box source),
        ``det_boxes``, ``proposer``, ``pooled_boxes`` (boxes pooled in the last
        call), ``threads`` (torch's), ``infer_s_per_image`` (wall seconds),
        ``infer_cpu_s_per_image`` (CPU seconds of this process), ``infer_model_s``
        and ``infer_preprocess_s`` (the inferencer's own timings of the last call,
        seconds) and ``load_avg_1min`` (``[before, after]``).
    """
    from vlbert_e2e.apis import VLBertInferencer
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.model.heads = dict(vqa=dict(type='VQAHead', num_answers=3129))
    cfg.tokenizer = tokenizer
    # the inferencer's pipeline then comes from these top-level keys (not a data set's)
    cfg.scale = (1000, 600)
    for key in ('test_dataloader', 'val_dataloader'):
        cfg.pop(key, None)
    with tempfile.TemporaryDirectory() as tmp:
        cfg_path, img_path = os.path.join(tmp, 'cfg.py'), os.path.join(tmp, 'img.jpg')
        cfg.dump(cfg_path)
        rng = np.random.default_rng(0)
        img = cv2.GaussianBlur(rng.integers(0, 256, (*img_size, 3), dtype=np.uint8), (9, 9), 3)
        cv2.imwrite(img_path, img)
        prop = None if proposer is None else (list(proposer) + [None])[:2]
        inferencer = VLBertInferencer(cfg_path, checkpoint, device=device,
                                      partial_load=True, proposer=prop)
        _all_boxes(inferencer)
        pooled = []
        inferencer.model.region_encoder.register_forward_hook(
            lambda m, a, out: pooled.append(len(out.boxes[0])))
        run = lambda: inferencer([img_path], 'vqa', 'what is in the picture?')  # noqa: E731
        run()
        load0, w0, c0 = os.getloadavg()[0], time.perf_counter(), time.process_time()
        for _ in range(steps):
            last = run()[0]
        wall = (time.perf_counter() - w0) / steps
        cpu = (time.process_time() - c0) / steps
    enc = inferencer.model.region_encoder
    with inferencer.settings():  # the route of a call (raw pictures: detector or proposer)
        route = enc.box_source
    return dict(config=config, image=list(img_size), route=route,
                det_boxes=enc.det_boxes, proposer=None if proposer is None else proposer[0],
                pooled_boxes=pooled[-1], threads=torch.get_num_threads(),
                infer_s_per_image=round(wall, 3), infer_cpu_s_per_image=round(cpu, 3),
                infer_model_s=round(last['timings']['model_s'], 3),
                infer_preprocess_s=round(last['timings']['preprocess_s'], 3),
                load_avg_1min=[round(load0, 2), round(os.getloadavg()[0], 2)])

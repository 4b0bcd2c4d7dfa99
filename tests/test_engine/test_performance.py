"""Mixed precision, activation checkpointing and the benchmark tool (issue 8).

Speed is measured by tools/analysis_tools/benchmark.py, never asserted here; these tests
check that the switches compute the same thing and that the benchmark keeps working.
"""
import json
import os
import subprocess
import sys

import pytest
import torch
from torch import nn

from vlbert_e2e.engine.optimizers import AutocastOptimWrapper
from vlbert_e2e.engine.optimizers.autocast_optim_wrapper import native_bf16
from vlbert_e2e.testing import (
    ROOT,
    TINY_MODEL_CFG,
    batch,
    build_tiny_model,
    make_sample,
    tiny_model_cfg,
)
from vlbert_e2e.testing.cli import run_tools_here


def _samples():
    return [make_sample(64, 64, boxes=[[5, 5, 40, 40]], masked=[True], seed=i) for i in range(2)]


def _losses(model, wrapper, steps):
    data = dict(inputs=[s[0] for s in _samples()], data_samples=[s[1] for s in _samples()])
    out = []
    for _ in range(steps):
        log = model.train_step(data, wrapper)  # MMEngine's step: optim_context + update
        out.append(float(log['loss']))
    return out


def test_bf16_autocast_training_follows_fp32():
    """The tiny model trained 3 steps under bf16 autocast (RoIAlign kept in fp32)
    gives the losses of fp32 training within 1%, and both go down."""
    curves = []
    for enabled in (False, True):
        torch.manual_seed(0)
        model = build_tiny_model(heads=dict(mlm=dict(type='MLMHead'))).train()
        wrapper = AutocastOptimWrapper(
            optimizer=torch.optim.AdamW(model.parameters(), lr=1e-3), enabled=enabled)
        curves.append(_losses(model, wrapper, 3))
    fp32, bf16 = curves
    assert fp32[-1] < fp32[0] and bf16[-1] < bf16[0]
    assert bf16 == pytest.approx(fp32, rel=1e-2)


def test_bf16_autocast_runs_the_detector_nms_in_fp32():
    """Detector boxes and detector losses (RPN/RoI-head NMS, mmcv's fp32-only kernel)
    train under bf16 autocast, as ``enabled='auto'`` does on an AVX512-BF16/AMX CPU."""
    torch.manual_seed(0)
    model = build_tiny_model(heads=dict(mlm=dict(type='MLMHead')), box_source='given+detector',
                             det_loss_weight=1.0).train()
    wrapper = AutocastOptimWrapper(
        optimizer=torch.optim.AdamW(model.parameters(), lr=1e-3), enabled=True)
    samples = [make_sample(64, 64, boxes=[[5, 5, 40, 40]], gt=True, seed=i) for i in range(2)]
    data = dict(inputs=[s[0] for s in samples], data_samples=[s[1] for s in samples])
    log = model.train_step(data, wrapper)
    assert torch.isfinite(log['loss']) and any(k.startswith('det_') for k in log)


def test_autocast_wrapper_switches():
    model = nn.Linear(4, 4)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    auto = AutocastOptimWrapper(optimizer=opt)  # 'auto': on where bf16 is native
    with auto.optim_context(model):
        assert torch.is_autocast_enabled('cpu') == native_bf16('cpu')
        assert model(torch.ones(1, 4)).dtype == (
            torch.bfloat16 if native_bf16('cpu') else torch.float32)
    with AutocastOptimWrapper(optimizer=opt, enabled=True).optim_context(model):
        assert model(torch.ones(1, 4)).dtype == torch.bfloat16
    with pytest.raises(ValueError, match='AmpOptimWrapper'):
        AutocastOptimWrapper(optimizer=opt, dtype='float16')
    with pytest.raises(ValueError, match='enabled'):
        AutocastOptimWrapper(optimizer=opt, enabled='yes')


def test_activation_checkpointing_gives_same_gradients():
    """Encoder (HF activation checkpointing), backbone and res5 head (mmdet ``with_cp``)
    recomputation change memory and time, not the loss or the gradients."""
    from mmengine.registry import DefaultScope

    from vlbert_e2e.registry import MODELS
    models = []
    for cp in (False, True):
        cfg = tiny_model_cfg()
        cfg.heads = dict(mlm=dict(type='MLMHead'))
        cfg.vl_bert.gradient_checkpointing = cp
        cfg.region_encoder.detector.backbone.with_cp = cp
        cfg.region_encoder.detector.roi_head.shared_head.with_cp = cp
        with DefaultScope.overwrite_default_scope('vlbert_e2e'):
            models.append(MODELS.build(cfg))
    ref, ckpt = models
    ckpt.load_state_dict(ref.state_dict())
    assert ckpt.vl_bert.bert.is_activation_checkpointing
    assert ckpt.region_encoder.detector.backbone.with_cp
    out = []
    for model in (ref, ckpt):
        model.train()
        for m in model.modules():
            if isinstance(m, nn.Dropout):
                m.p = 0.0
        loss = model(**batch(model, _samples()), mode='loss')['loss_mlm_vl']
        loss.backward()
        out.append((loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters()
                                    if p.grad is not None}))
    (l0, g0), (l1, g1) = out
    assert torch.allclose(l0, l1, atol=1e-6)
    assert g0.keys() == g1.keys() and any('backbone' in k for k in g0)
    for k in g0:
        assert torch.allclose(g0[k], g1[k], atol=1e-5, rtol=1e-4), k


def test_benchmark_tool_reports_a_consistent_split(tmp_path):
    out = tmp_path / 'bench.json'
    # as __main__ in this process (see vlbert_e2e.testing.cli)
    r = run_tools_here({'x': [
        'tools/analysis_tools/benchmark.py', TINY_MODEL_CFG, '--img-size', '64', '64',
        '--num-boxes', '2', '--num-tokens', '8', '--steps', '1', '--warmup', '0', '--json',
        str(out), '--cfg-options', 'model.region_encoder.box_source=given']})['x']
    assert r['code'] == 0, r['stderr'][-2000:]
    res = json.loads(out.read_text())
    assert res['train_s_per_step'] > 0 and res['predict_s_per_step'] > 0
    assert res['train_gflop_per_step'] > 0 and 0 < res['train_mm_utilisation'] < 1.5
    parts = [res[k] for k in ('detector_forward_share', 'encoder_forward_share',
                              'heads_forward_share', 'glue_share')]
    assert all(0 <= p <= 1 for p in parts[:3]) and res['detector_forward_share'] > 0
    assert sum(parts) == pytest.approx(res['forward_share'], abs=2e-3)
    assert res['forward_share'] < 1


def test_data_pipeline_benchmark_reads_real_jpegs():
    from vlbert_e2e.benchmarking import bench_data_pipeline
    res = bench_data_pipeline(n_images=4, batch_size=2, num_workers=0)
    assert res['data_image_shape'] == [3, 600, 800]  # 640x480 JPEG at short side 600
    assert res['data_samples_per_s'] > 0


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the no-GPU path')
def test_gpu_benchmark_script_stops_cleanly_without_a_gpu():
    r = subprocess.run(['bash', 'tools/gpu/benchmark.sh', '/nonexistent'], cwd=ROOT,
                       capture_output=True, text=True, timeout=120,
                       env={**os.environ, 'PYTHON': sys.executable})
    assert r.returncode == 2
    assert r.stderr.strip() == (
        f'gpu/benchmark.sh: no CUDA GPU visible to PyTorch ({sys.executable})')


def test_fused_adamw_makes_the_same_update_as_the_per_tensor_loops():
    # the demo configs switch AdamW's fused kernel on (docs/benchmarks.md): same
    # parameters after several steps, to float rounding
    g = torch.Generator().manual_seed(0)
    shapes = [(64, 32), (32,), (7, 3, 3, 3)]
    start = [torch.randn(s, generator=g) for s in shapes]
    grads = [[torch.randn(s, generator=g) for s in shapes] for _ in range(5)]
    out = {}
    for impl in ('foreach', 'fused'):
        ps = [nn.Parameter(t.clone()) for t in start]
        opt = torch.optim.AdamW(ps, lr=1e-2, weight_decay=1e-4, eps=1e-6, **{impl: True})
        for gs in grads:
            for p, gr in zip(ps, gs):
                p.grad = gr.clone()
            opt.step()
        out[impl] = ps
    for a, b in zip(out['foreach'], out['fused']):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


def test_optimizer_benchmark_part_times_both_implementations():
    from vlbert_e2e.benchmarking import bench_optimizer
    res = bench_optimizer(TINY_MODEL_CFG, steps=1, warmup=0,
                          cfg_options={'model.vl_bert.pretrained': None})
    assert res['params_M'] > 1
    assert res['adamw_foreach_s'] > 0 and res['adamw_fused_s'] > 0

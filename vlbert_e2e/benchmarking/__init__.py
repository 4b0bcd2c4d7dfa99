"""Measurement code behind ``tools/analysis_tools/benchmark.py`` (numbers, not asserts)."""
from .common import matmul_rate, peak_memory_mb, step_flops, time_fn
from .data_pipeline import bench_data_pipeline
from .e2e import bench_e2e, bench_inference
from .encoder import bench_encoder_vs_peer
from .optimizer import bench_optimizer

__all__ = ['matmul_rate', 'peak_memory_mb', 'step_flops', 'time_fn', 'bench_data_pipeline',
           'bench_e2e', 'bench_inference', 'bench_encoder_vs_peer', 'bench_optimizer']

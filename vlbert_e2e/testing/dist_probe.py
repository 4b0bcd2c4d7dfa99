"""Test-only hook for the 2-process run (tests/test_engine/test_distributed.py): each rank writes
the samples it trained on and a fingerprint of its final parameters to
``work_dir/probe/rank{N}.pt``. (It must not iterate the sampler itself: mmdet's
MultiSourceSampler shares its index generators between iterators.)"""
import os

import torch
from mmengine.hooks import Hook

from vlbert_e2e.registry import HOOKS


@HOOKS.register_module()
class DistProbeHook(Hook):
    """Records, per rank, the samples each iteration trained on and a fingerprint
    (sum, sum of squares) of every final parameter."""

    def before_train(self, runner):
        """Remember the sizes of the concatenated datasets."""
        self.sizes = [len(d) for d in runner.train_dataloader.dataset.datasets]
        self.seen = []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        """Record ``(img_path or 'text', sample_id)`` of every sample of the batch."""
        self.seen.append([(s.get('img_path') or 'text', s.get('sample_id'))
                          for s in data_batch['data_samples']])

    def after_train(self, runner):
        """Write ``work_dir/probe/rank{N}.pt`` (sizes, samples seen, fingerprints)."""
        model = getattr(runner.model, 'module', runner.model)
        params = {k: torch.stack([p.double().sum(), p.double().square().sum()])
                  for k, p in model.named_parameters()}
        os.makedirs(os.path.join(runner.work_dir, 'probe'), exist_ok=True)
        torch.save(dict(sizes=self.sizes, seen=self.seen, params=params,
                        world_size=runner.world_size),
                   os.path.join(runner.work_dir, 'probe', f'rank{runner.rank}.pt'))

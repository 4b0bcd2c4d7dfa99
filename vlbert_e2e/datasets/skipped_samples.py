"""Test-time skipping of bad samples (``on_bad_sample='skip'``).

MMEngine's ``BaseDataset`` redraws another sample when the training pipeline returns
``None`` but raises at test time. Here a test-time ``None`` reaches the collate
function (``collate_fn=dict(type='vlbert_e2e.pseudo_collate')`` in the val/test
dataloaders), which drops it: the metric covers the other samples, and the transform
that skipped the sample has logged and counted it. Written by hand: MMEngine, mmdet
and mmpretrain all refuse ``None`` at test time.
"""
from typing import List, Optional

from mmengine.dataset import pseudo_collate as mmengine_pseudo_collate

from vlbert_e2e.registry import FUNCTIONS


class SkipsBadTestSamples:
    """Mixin for an MMEngine ``BaseDataset`` (put it first among the bases): at test
    time a sample its pipeline skipped is returned as ``None`` instead of raising."""

    def __getitem__(self, idx: int) -> Optional[dict]:
        if not self.test_mode:
            return super().__getitem__(idx)
        if not self._fully_initialized:
            self.full_init()
        return self.prepare_data(idx)


@FUNCTIONS.register_module()
def pseudo_collate(data_batch: List[Optional[dict]]) -> dict:
    """MMEngine's ``pseudo_collate`` on the samples that were not skipped (``None``);
    a batch whose samples were all skipped becomes ``dict(inputs=[], data_samples=[])``
    (the model predicts nothing for it)."""
    kept = [d for d in data_batch if d is not None]
    return mmengine_pseudo_collate(kept) if kept else dict(inputs=[], data_samples=[])

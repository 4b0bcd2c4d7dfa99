"""MMEngine's validation and test loops, passing over batches with no sample left."""
from mmengine.runner import TestLoop, ValLoop

from vlbert_e2e.registry import LOOPS


def _all_skipped(data_batch) -> bool:
    """A batch whose samples a test-time pipeline all skipped (``on_bad_sample='skip'``;
    the val/test collate drops skipped samples): no input left."""
    return isinstance(data_batch, dict) and len(data_batch.get('inputs', [None])) == 0


@LOOPS.register_module()
class VLValLoop(ValLoop):
    """MMEngine's ``ValLoop``; a batch with no sample left is passed over (MMEngine's
    loop would hand the model an empty batch)."""

    def run_iter(self, idx, data_batch) -> None:
        """``ValLoop.run_iter`` unless every sample of ``data_batch`` was skipped."""
        if not _all_skipped(data_batch):
            super().run_iter(idx, data_batch)


@LOOPS.register_module()
class VLTestLoop(TestLoop):
    """MMEngine's ``TestLoop``; a batch with no sample left is passed over."""

    def run_iter(self, idx, data_batch) -> None:
        """``TestLoop.run_iter`` unless every sample of ``data_batch`` was skipped."""
        if not _all_skipped(data_batch):
            super().run_iter(idx, data_batch)

"""Shared helpers: tiny models built from the real configs, synthetic batches."""
import os
import sys

import numpy as np
import pytest
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY_MODEL_CFG = os.path.join(ROOT, 'configs/_base_/models/vlbert-tiny_faster-rcnn-r18-c4.py')
TINY_TRAIN_CFG = os.path.join(
    ROOT, 'configs/vlbert/vlbert-tiny_faster-rcnn-r18-c4_1xb4-30i_cc-text-fixture.py')
os.environ.setdefault('HF_HUB_OFFLINE', '1')
sys.path.insert(0, os.path.join(ROOT, 'tests'))


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    np.random.seed(0)


def tiny_model_cfg(**region):
    from mmengine.config import Config
    cfg = Config.fromfile(TINY_MODEL_CFG)
    cfg.model.region_encoder.update(region)
    return cfg.model


def build_tiny_model(heads=None, visual_gain=None, **region):
    from mmengine.registry import DefaultScope

    import vlbert_e2e.models  # noqa: F401 (registers)
    from vlbert_e2e.registry import MODELS
    cfg = tiny_model_cfg(**region)
    if heads is not None:
        cfg.heads = heads
    if visual_gain is not None:
        cfg.vl_bert.visual_ln_init_gain = visual_gain
    with DefaultScope.overwrite_default_scope('vlbert_e2e'):
        return MODELS.build(cfg)


def make_sample(h, w, n_tokens=8, boxes=None, masked=None, mlm=True, seed=0, gt=False):
    """(uint8 CHW image tensor, VLDataSample) as PackVLInputs produces them."""
    from mmengine.structures import InstanceData

    from vlbert_e2e.structures import VLDataSample
    g = torch.Generator().manual_seed(seed)
    img = torch.randint(0, 256, (3, h, w), dtype=torch.uint8, generator=g)
    s = VLDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w),
                                   scale_factor=(1.0, 1.0), img_id=seed))
    ids = torch.randint(1000, 2000, (n_tokens,), generator=g)
    ids[0], ids[-1] = 101, 102
    s.input_ids = ids
    s.token_type_ids = torch.zeros(n_tokens, dtype=torch.long)
    if mlm:
        lab = torch.full((n_tokens,), -100)
        lab[2] = ids[2]
        s.input_ids = ids.clone()
        s.input_ids[2] = 103
        s.mlm_labels = lab
    if boxes is not None:
        s.gt_rois = InstanceData(bboxes=torch.tensor(boxes, dtype=torch.float32).view(-1, 4))
        if masked is not None:
            s.gt_rois.masked = torch.tensor(masked, dtype=torch.bool)
    if gt:
        s.gt_instances = InstanceData(bboxes=s.gt_rois.bboxes.clone(),
                                      labels=torch.zeros(len(s.gt_rois), dtype=torch.long))
    return img, s


def batch(model, samples, training=True):
    data = dict(inputs=[x[0] for x in samples], data_samples=[x[1] for x in samples])
    return model.data_preprocessor(data, training)


def overfit(cfg_path, loss_key, steps, batch_size=None, lr=1e-3, **model_overrides):
    """Build the runner of a tiny config, take one batch and train on it alone;
    returns (runner, predicted data samples of that batch in eval mode)."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner
    cfg = Config.fromfile(cfg_path)
    cfg.work_dir = f'/tmp/vlbert_test_overfit_{loss_key}'
    cfg.merge_from_dict({f'model.{k}': v for k, v in model_overrides.items()})
    if batch_size:
        cfg.train_dataloader.batch_size = batch_size
    with DefaultScope.overwrite_default_scope('vlbert_e2e'):
        runner = Runner.from_cfg(cfg)
        data = next(iter(runner.train_dataloader))
    model = runner.model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    for _ in range(steps):
        loss = model(**model.data_preprocessor(data, True), mode='loss')[loss_key]
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        return runner, model(**model.data_preprocessor(data, False), mode='predict')


class capture_logs:
    """Collect the messages MMEngine's current logger emits inside the block."""

    def __enter__(self):
        import logging

        from mmengine.logging import MMLogger
        self.messages = []
        self.handler = logging.Handler()
        self.handler.emit = lambda rec: self.messages.append(rec.getMessage())
        self.logger = MMLogger.get_current_instance()
        self.logger.addHandler(self.handler)
        return self.messages

    def __exit__(self, *exc):
        self.logger.removeHandler(self.handler)


@pytest.fixture(scope='session')
def tiny_vl_checkpoint(tmp_path_factory):
    """``(config, checkpoint)`` files of tests/test_inferencer.py's tiny model (VQA,
    grounding and MLM heads), saved with answers and classes as tools/train.py does."""
    from test_inferencer import CFG

    from vlbert_e2e.apis import VLBertInferencer
    d = tmp_path_factory.mktemp('tiny_vl')
    cfg = d / 'cfg.py'
    cfg.write_text(CFG)
    torch.manual_seed(0)
    inf = VLBertInferencer(str(cfg))
    ckpt = d / 'model.pth'
    torch.save(dict(state_dict=inf.model.state_dict(),
                    meta=dict(dataset_meta=dict(answers=['yes', 'no', '2'],
                                                classes=[f'c{i}' for i in range(8)]))), ckpt)
    return str(cfg), str(ckpt)

"""The base pretraining config: BERT-base and R101-C4 sizes, lr scaled by the total batch."""
import os

import pytest

from vlbert_e2e.testing import ROOT


def test_base_pretraining_config_builds_with_bert_base_and_r101_c4_sizes():
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from transformers import BertConfig, BertModel

    from vlbert_e2e.registry import MODELS
    cfg = Config.fromfile(os.path.join(
        ROOT, 'configs/vlbert/vlbert-base_faster-rcnn-r101-c4_16xb16-10e_cc-text.py'))
    # no download in tests: random BERT-base (transformers' defaults) and no checkpoint
    cfg.model.vl_bert.pretrained = None
    cfg.model.heads.mlm.pretrained = None
    det = cfg.model.region_encoder.detector
    with DefaultScope.overwrite_default_scope('vlbert_e2e'):
        model = MODELS.build(cfg.model)
        ref_det = MODELS.build(dict(det, _scope_='mmdet'))
    n = model.param_summary()
    h = 768
    bert = sum(p.numel() for p in BertModel(BertConfig()).parameters())
    assert n['vl_bert'] == bert + h + 4 * h + 2 * 2 * h  # +1 segment row, 4 embeddings, 2 LN
    assert n['detector'] == sum(p.numel() for p in ref_det.parameters())
    assert 1e6 * 40 < n['detector'] < 1e6 * 70  # ResNet-101 C4 Faster R-CNN
    assert n['visual_embedding'] == (2048 + 2048) * h + h
    assert n['head.mlm'] == h * h + h + 2 * h + 30522  # decoder tied to word embeddings
    assert n['head.mvrc'] == h * h + h + h * 1601 + 1601
    assert n['total'] == sum(v for k, v in n.items() if k != 'total')
    assert model.region_encoder.out_channels == 2048
    rl = model.region_encoder.roi_head.bbox_roi_extractor.roi_layers[0]
    assert (rl.output_size, rl.sampling_ratio, rl.aligned) == ((14, 14), 1, False)


def test_auto_scale_lr_uses_total_batch():
    from mmengine.config import Config
    cfg = Config.fromfile(os.path.join(
        ROOT, 'configs/vlbert/vlbert-base_faster-rcnn-r101-c4_16xb16-10e_cc-text.py'))
    # 1e-7 per sample of the paper's total batch (16 GPUs x 16 samples)
    assert cfg.auto_scale_lr.base_batch_size == 256 == 16 * cfg.train_dataloader.batch_size
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(1e-7 * 256)
    assert cfg.train_dataloader.sampler.batch_size == cfg.train_dataloader.batch_size

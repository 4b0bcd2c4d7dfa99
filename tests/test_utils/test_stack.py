"""The installed stack works: compiled mmcv ops, an mmdet detector, our configs."""
import glob
import os

import pytest
import torch
import torchvision
from mmengine.config import Config

from vlbert_e2e.testing import ROOT


def test_mmcv_ops_are_compiled():
    from mmcv.ops import get_compiler_version, get_compiling_cuda_version
    from mmcv.utils import ext_loader
    assert get_compiler_version()  # raises / empty when the _ext module is missing
    assert get_compiling_cuda_version()
    ext = ext_loader.load_ext('_ext', ['roi_align_forward', 'nms'])
    assert ext.roi_align_forward is not None and ext.nms is not None


def test_roi_align_matches_torchvision_legacy():
    from mmcv.ops import RoIAlign
    feat = torch.randn(2, 4, 16, 16)
    rois = torch.tensor([[0, 1.0, 2.0, 9.5, 12.0], [1, 0.0, 0.0, 15.0, 15.0]])
    ours = RoIAlign(output_size=7, spatial_scale=1.0, sampling_ratio=1, aligned=False)(
        feat, rois)
    ref = torchvision.ops.roi_align(feat, rois, 7, 1.0, sampling_ratio=1, aligned=False)
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=1e-5)


def test_nms_matches_torchvision():
    from mmcv.ops import nms
    boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30.]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    _, keep = nms(boxes, scores, iou_threshold=0.5)
    assert keep.tolist() == torchvision.ops.nms(boxes, scores, 0.5).tolist() == [0, 2]


def test_tiny_faster_rcnn_from_our_config_trains_and_predicts():
    from mmdet.structures import DetDataSample
    from mmengine.registry import DefaultScope

    from vlbert_e2e.registry import MODELS
    from vlbert_e2e.testing import make_sample
    cfg = Config.fromfile(os.path.join(
        ROOT, 'configs/_base_/models/detectors/faster-rcnn_r18-c4_tiny.py'))
    with DefaultScope.overwrite_default_scope('vlbert_e2e'):
        det = MODELS.build(cfg.detector)
    assert type(det).__name__ == 'FasterRCNN'
    img, s = make_sample(96, 128, boxes=[[10, 10, 60, 50]], gt=True)
    ds = DetDataSample(metainfo=s.metainfo)
    ds.gt_instances = s.gt_instances
    data = det.data_preprocessor(dict(inputs=[img], data_samples=[ds]), True)
    losses = det(**data, mode='loss')
    total = sum(v for k, v in losses.items() if 'loss' in k and torch.is_tensor(v)) + sum(
        sum(v) for k, v in losses.items() if 'loss' in k and isinstance(v, list))
    assert torch.isfinite(total)
    total.backward()
    det.eval()
    with torch.no_grad():
        out = det(**det.data_preprocessor(dict(inputs=[img], data_samples=[ds])),
                  mode='predict')
    assert out[0].pred_instances.bboxes.shape[-1] == 4


CONFIGS = sorted(glob.glob(os.path.join(ROOT, 'configs', '**', '*.py'), recursive=True))


@pytest.mark.parametrize('path', CONFIGS, ids=[os.path.relpath(p, ROOT) for p in CONFIGS])
def test_every_config_parses(path):
    cfg = Config.fromfile(path)
    if 'model' in cfg and cfg.model:
        assert cfg.model.type == 'VLBertE2E'
        assert 'FasterRCNN' not in str(cfg.model.get('type'))


def test_registry_is_child_of_mmengine():
    from mmengine.registry import MODELS as ROOT_MODELS

    from vlbert_e2e.registry import MODELS
    assert MODELS.parent is ROOT_MODELS and MODELS.scope == 'vlbert_e2e'
    assert Config.fromfile(os.path.join(
        ROOT, 'configs/_base_/default_runtime.py')).default_scope == 'vlbert_e2e'

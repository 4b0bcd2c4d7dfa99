"""A separate, frozen mmdet detector proposes the boxes; VL-BERT's trunk pools them.

Tiny two-stage (Faster R-CNN FPN) and single-stage (RetinaNet) proposers are built from
mmdet's real model-zoo configs (ResNet-18, 32 channels, no init_cfg), their random
weights saved to a checkpoint file; the reference is mmdet's own ``init_detector`` +
``inference_detector`` on the raw image, filtered here by hand.
"""
import copy
import json
import os
import subprocess
import sys

import cv2
import pytest
import torch

from vlbert_e2e.testing import (
    ROOT,
    TINY_MODEL_CFG,
    batch,
    build_tiny_model,
    greedy_nms,
    make_sample,
    run_tools_here,
)

IMG = os.path.join(ROOT, 'tests/data/cc/images/000001.jpg')  # 128 x 96
# the proposer's own test pipeline (mmdet's, at a small scale): another resize than ours
_PIPELINE = '''
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(200, 150), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))]
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
'''
PROPOSER_CFGS = {
    'two-stage': '''_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'
model = dict(
    backbone=dict(depth=18, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=32),
    rpn_head=dict(in_channels=32, feat_channels=32),
    roi_head=dict(bbox_roi_extractor=dict(out_channels=32),
                  bbox_head=dict(in_channels=32, fc_out_channels=64)),
    test_cfg=dict(rcnn=dict(score_thr=0.0)))
''' + _PIPELINE,
    'single-stage': '''_base_ = 'mmdet::retinanet/retinanet_r18_fpn_1x_coco.py'
model = dict(backbone=dict(init_cfg=None), neck=dict(out_channels=32),
             bbox_head=dict(in_channels=32, feat_channels=32), test_cfg=dict(score_thr=0.0))
''' + _PIPELINE,
}
KINDS = list(PROPOSER_CFGS)
CLASSES = [f'thing{i}' for i in range(80)]
OUR_SCALE = (176, 132)  # 128 x 96 -> 176 x 132 (x 1.375)
VL_CFG = f'''
_base_ = ['{TINY_MODEL_CFG}']
tokenizer = 'pkg://minilm-l6'
scale = {OUR_SCALE}
model = dict(heads=dict(_delete_=True,
                        vqa=dict(type='VQAHead', num_answers=3, classifier_type='mlm')))
'''


def _build_mmdet(cfg_path):
    import mmdet.models  # noqa: F401
    from mmdet.registry import MODELS as MMDET_MODELS
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmdet'):
        return MMDET_MODELS.build(Config.fromfile(cfg_path).model)


@pytest.fixture(scope='module')
def proposers(tmp_path_factory):
    """kind -> (config file, checkpoint file) of a tiny random mmdet detector."""
    d = tmp_path_factory.mktemp('proposers')
    out = {}
    for kind, text in PROPOSER_CFGS.items():
        cfg = d / f'{kind}.py'
        cfg.write_text(text)
        torch.manual_seed(1)
        det = _build_mmdet(str(cfg))
        with torch.no_grad():  # spread the (near uniform) softmax scores of fc_cls
            for name, p in det.named_parameters():
                if 'fc_cls' in name:
                    p.copy_(torch.randn_like(p) * (3.0 if name.endswith('weight') else 0))
        ckpt = d / f'{kind}.pth'
        torch.save(dict(state_dict=det.state_dict(),
                        meta=dict(dataset_meta=dict(classes=CLASSES))), ckpt)
        out[kind] = (str(cfg), str(ckpt))
    return out


def _reference_boxes(cfg, ckpt, raw, scale, hw, score_thr, iou, topk):
    """mmdet's own inference on the raw image; threshold, class-agnostic NMS, top-K
    (by hand); scaled onto our image, clipped."""
    from mmdet.apis import inference_detector, init_detector
    from mmengine.registry import DefaultScope

    from vlbert_e2e.models.region_encoders.box_ops import clip_and_fix_boxes
    with DefaultScope.overwrite_default_scope('mmdet'):
        det = init_detector(cfg, ckpt, device='cpu')
        r = inference_detector(det, raw).pred_instances
    r = r[r.scores >= score_thr]
    keep = greedy_nms(r.bboxes, r.scores, iou)[:topk]
    boxes = r.bboxes[keep] * torch.tensor([scale, scale, scale, scale])
    return clip_and_fix_boxes(boxes, hw), r[keep]


@pytest.mark.parametrize('kind', KINDS)
def test_pooled_boxes_are_the_proposers(proposers, kind, tmp_path):
    """Whole image first, then exactly the proposer's boxes (after its own resize and
    normalisation, score threshold, class-agnostic NMS, top-K), rescaled to our image;
    the reported detections carry its class names and scores."""
    from vlbert_e2e.apis import VLBertInferencer
    cfg, ckpt = proposers[kind]
    vl_cfg = tmp_path / 'vl.py'
    vl_cfg.write_text(VL_CFG)
    inf = VLBertInferencer(str(vl_cfg), score_thr=0.0, proposer=dict(
        config=cfg, checkpoint=ckpt, topk=5, nms_iou=0.4, score_thr=0.01))
    data = inf.pipeline(dict(img=IMG, task='vqa', text='what is it?'))
    s = data['data_samples']
    assert s.scale_factor == (1.375, 1.375) and s.img_shape == (132, 176)
    with torch.no_grad(), inf.settings():  # the proposer's boxes for this block only
        assert inf.model.region_encoder.box_source == 'given+proposer'
        b = inf.model.data_preprocessor(dict(inputs=[data['inputs']], data_samples=[s]))
        region = inf.model.encode(b['inputs'], b['data_samples']).region
    assert inf.model.region_encoder.box_source == 'given'
    expect, inst = _reference_boxes(cfg, ckpt, cv2.imread(IMG), 1.375, (132, 176),
                                    0.01, 0.4, 5)
    assert len(expect) == 5
    assert region.boxes[0][0].tolist() == [0, 0, 175, 131]
    assert torch.equal(region.boxes[0][1:], expect)
    (r, ) = inf([IMG], 'vqa', 'what is it?')
    assert r['answer'] in ('0', '1', '2')
    assert [d['label'] for d in r['detections']] == [CLASSES[i] for i in inst.labels]
    assert [d['score'] for d in r['detections']] == [round(float(v), 4) for v in inst.scores]
    for d, box in zip(r['detections'], inst.bboxes.tolist()):  # the raw image's pixels
        assert d['box'] == pytest.approx([round(v, 1) for v in box], abs=0.11)


def test_proposer_is_frozen_and_outside_the_state_dict(proposers):
    """Not in state_dict / parameters; no gradient after a training step; stays in eval
    under model.train(); a checkpoint without it loads strictly; EMA copies share it."""
    cfg, ckpt = proposers['two-stage']
    heads = dict(mlm=dict(type='MLMHead'))
    model = build_tiny_model(heads=heads, box_source='proposer',
                             proposer=dict(config=cfg, checkpoint=ckpt, score_thr=0.0))
    plain = build_tiny_model(heads=heads)
    prop = model.region_encoder.proposer
    assert list(model.state_dict()) == list(plain.state_dict())
    model.load_state_dict(plain.state_dict(), strict=True)
    own = {id(p) for p in model.parameters()}
    assert not any(id(p) in own for p in prop.detector.parameters())
    assert copy.deepcopy(model).region_encoder.proposer is prop

    model.train()
    assert not prop.detector.training
    img, s = make_sample(96, 128, seed=3)
    s.ori_img = img.permute(1, 2, 0).contiguous()  # scale 1: our image is the raw one
    losses = model(**batch(model, [(img, s)]), mode='loss')
    losses['loss_mlm_vl'].backward()
    assert all(not p.requires_grad and p.grad is None for p in prop.detector.parameters())
    assert any(p.grad is not None for p in model.region_encoder.parameters())
    assert not prop.detector.training

    del s.ori_img
    with pytest.raises(ValueError, match='KeepOriginalImage'):
        model(**batch(model, [(img, s)]), mode='loss')


def test_proposer_class_scores_become_mvrc_targets_where_classes_fit(proposers):
    """(label, score) -> score on the label, 1 - score on the background (last); used
    for the proposer's boxes when its classes are as many as our box head's (8)."""
    from vlbert_e2e.models.region_encoders.box_proposer import proposer_class_distribution
    got = proposer_class_distribution(torch.tensor([2, 0]), torch.tensor([0.9, 0.25]), 3)
    assert torch.allclose(got, torch.tensor([[0, 0, 0.9, 0.1], [0.25, 0, 0, 0.75]]))

    cfg, _ = proposers['two-stage']
    img, s = make_sample(96, 128, seed=4, boxes=[[10, 10, 60, 50]])
    s.ori_img = img.permute(1, 2, 0).contiguous()
    for n_cls, fits in ((8, True), (80, False)):
        model = build_tiny_model(
            need_cls_dist=True, box_source='given+proposer', proposer=dict(
                config=cfg, score_thr=0.0, topk=4,
                cfg_options={'model.roi_head.bbox_head.num_classes': n_cls})).eval()
        with torch.no_grad():
            b = batch(model, [(img, s)], training=False)
            region = model.region_encoder(b['inputs']['imgs'], b['data_samples'])
        det = region.detections[0]
        dist = region.cls_dist[0]
        assert dist.shape == (6, 9) and len(det) == 4  # image, 1 given, 4 proposed
        assert (dist[:2] > 0).all()  # whole image and the given box: our softmax
        if fits:
            mine = proposer_class_distribution(det.labels, det.scores, 8)
            assert torch.equal(dist[2:], mine)
        else:
            assert (dist[2:] > 0).all() and torch.allclose(dist.sum(-1), torch.ones(6))


def test_bad_proposer_files_are_clear_errors(proposers, tmp_path):
    from vlbert_e2e.apis import InferenceError, VLBertInferencer
    vl_cfg = tmp_path / 'vl.py'
    vl_cfg.write_text(VL_CFG)
    cfg, ckpt = proposers['two-stage']
    with pytest.raises(InferenceError, match='proposer config file not found: .*nope.py'):
        VLBertInferencer(str(vl_cfg), proposer=(str(tmp_path / 'nope.py'), ckpt))
    with pytest.raises(InferenceError, match='proposer checkpoint .*: no such file'):
        VLBertInferencer(str(vl_cfg), proposer=(cfg, str(tmp_path / 'nope.pth')))
    other, _ = proposers['single-stage']
    with pytest.raises(InferenceError, match=r'proposer checkpoint .*two-stage.pth does '
                                             r'not fit its config .*single-stage.py'):
        VLBertInferencer(str(vl_cfg), proposer=(other, ckpt))


def test_config_route_trains_and_tests_with_a_proposer(proposers, tmp_path):
    """A config: box_source='proposer' + proposer=dict(...), KeepOriginalImage in the
    pipeline; the Runner trains an epoch and tests on the VQA fixture files; the
    saved checkpoint holds no proposer key."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner
    pcfg, pckpt = proposers['single-stage']
    cfg = Config.fromfile(os.path.join(
        ROOT, 'configs/vqa/vlbert-tiny_faster-rcnn-r18-c4_1xb2-2e_vqa-fixture.py'))
    pipe = cfg.pipeline
    pipe.insert(1, dict(type='KeepOriginalImage'))
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.pipeline = pipe
    cfg.model.region_encoder.update(box_source='proposer', proposer=dict(
        config=pcfg, checkpoint=pckpt, topk=4, score_thr=0.0))
    cfg.train_cfg.update(max_epochs=1, val_interval=1)
    cfg.default_hooks.checkpoint.interval = 1
    cfg.work_dir = str(tmp_path)
    with DefaultScope.overwrite_default_scope('vlbert_e2e'):
        runner = Runner.from_cfg(cfg)
        runner.train()
        metrics = runner.test()
    assert 0 <= metrics['vqa/accuracy'] <= 100
    ckpt = torch.load(tmp_path / 'epoch_1.pth', map_location='cpu', weights_only=True)
    assert not any('proposer' in k for k in ckpt['state_dict'])
    assert set(ckpt['state_dict']) == set(runner.model.state_dict())


def test_benchmark_measures_the_proposer_route(proposers):
    """tools/analysis_tools/benchmark.py --part inference --proposer keeps working
    (timings are never asserted)."""
    from vlbert_e2e.benchmarking import bench_inference
    cfg, ckpt = proposers['single-stage']
    res = bench_inference(TINY_MODEL_CFG, img_size=(48, 64), steps=1, proposer=[cfg, ckpt])
    assert res['route'] == 'given+proposer' and res['proposer'] == cfg
    assert 1 < res['pooled_boxes'] <= 1 + 36 and res['infer_cpu_s_per_image'] > 0


# ------------------------------------------------- original checkpoint -> raw photo
def _run(args, timeout=600):
    env = dict(os.environ, HF_HUB_OFFLINE='1', PYTHONWARNINGS='ignore',
               PYTHONPATH=ROOT + os.pathsep + os.environ.get('PYTHONPATH', ''))
    return subprocess.run([sys.executable] + args, cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def _at_trained_scale(src: dict) -> dict:
    """The fixture's N(0, 1) values rescaled as trained weights are (convolutions by
    1/sqrt(fan-in), dense layers and embeddings by 0.02, norms around 1), so that a
    forward pass stays finite; tied and duplicated tensors stay equal."""
    out = {}
    for k, v in src.items():
        if not v.is_floating_point():
            out[k] = v
        elif v.dim() == 4:
            out[k] = v / v[0].numel() ** 0.5
        elif v.dim() == 2:
            out[k] = v * 0.02
        elif k.endswith('running_var'):
            out[k] = v
        else:  # norm gains, biases, running means
            out[k] = (1 if k.endswith('.weight') else 0) + 0.1 * v
    return out


@pytest.fixture(scope='module')
def converted_original(tmp_path_factory):
    """A synthetic fine-tuned VQA checkpoint in the original VL-BERT's layout (tiny
    size, its "mlm" answer classifier), converted by the converter CLI into a config
    with that VQA head, then loaded strictly."""
    from vlbert_e2e.testing import build_model_from_cfg, tiny_original_state_dict
    d = tmp_path_factory.mktemp('original')
    src = d / 'vl-bert-tiny-e2e.model'
    original = _at_trained_scale(tiny_original_state_dict(task_head='vqa_mlm', num_answers=3))
    torch.save({'state_dict': original}, src)
    cfg = d / 'vqa.py'
    tiny_train = os.path.join(
        ROOT, 'configs/vlbert/vlbert-tiny_faster-rcnn-r18-c4_1xb4-30i_cc-text-fixture.py')
    cfg.write_text(f'''_base_ = ['{tiny_train}']
scale = {OUR_SCALE}
model = dict(visual_embedding=dict(geometry_dim=2048),
             heads=dict(_delete_=True,
                        vqa=dict(type='VQAHead', num_answers=3, classifier_type='mlm')))
''')
    out = d / 'converted.pth'
    r = run_tools_here({'x': ['tools/model_converters/vlbert_original_to_mmengine.py',
                              str(src), str(out), '--config', str(cfg)]})['x']
    assert r['code'] == 0, r['stderr'][-3000:]
    model = build_model_from_cfg(str(cfg))
    state = torch.load(out, map_location='cpu', weights_only=True)['state_dict']
    model.load_state_dict(state, strict=True)
    # every tensor of the original's answer classifier is placed in our VQA head
    head = [v for k, v in state.items() if k.startswith('heads.vqa.')]
    src_head = [v for k, v in original.items() if '.final_mlp.' in k or
                k.startswith('final_mlp.')]
    assert len(src_head) == 6 and all(  # dense, LayerNorm, Linear: weight + bias
        any(t.shape == h.shape and torch.equal(t.float(), h) for h in head) for t in src_head)
    return str(cfg), str(out)


@pytest.fixture(scope='module')
def demo_runs(proposers, converted_original, tmp_path_factory):
    """tools/demo.py with each kind of proposer, as ``__main__`` in this process (its real
    start-up: test_demo_proposer_missing_file_is_one_line): kind -> (result, --out-dir)."""
    cfg, ckpt = converted_original
    outs = {kind: tmp_path_factory.mktemp(kind) for kind in KINDS}
    runs = run_tools_here({kind: [
        'tools/demo.py', IMG, '--config', cfg, '--checkpoint', ckpt, '--task', 'vqa',
        '--text', 'what is on the table?', '--out-dir', str(outs[kind]),
        '--score-thr', '0', '--proposer', *proposers[kind]] for kind in KINDS})
    return {kind: (runs[kind], outs[kind]) for kind in KINDS}


@pytest.mark.parametrize('kind', KINDS)
def test_demo_answers_with_a_proposer_from_a_converted_original(demo_runs, kind):
    """tools/demo.py --proposer CONFIG CHECKPOINT on a raw JPEG: exit 0, JSON written,
    the answer and the proposer's detections in it."""
    r, tmp_path = demo_runs[kind]
    assert r['code'] == 0, r['stderr'][-3000:]
    res = json.load(open(tmp_path / '000001.json'))
    assert res['answer'] in ('0', '1', '2') and 0 <= res['score'] <= 1
    assert res['detections'] and all(d['label'] in CLASSES for d in res['detections'])
    assert (tmp_path / '000001.jpg').stat().st_size > 0


def test_demo_proposer_missing_file_is_one_line(converted_original, tmp_path):
    cfg, ckpt = converted_original
    r = _run(['tools/demo.py', IMG, '--config', cfg, '--checkpoint', ckpt, '--task', 'vqa',
              '--text', 'q', '--proposer', str(tmp_path / 'det.py'), 'det.pth'])
    assert r.returncode == 2 and 'Traceback' not in r.stderr
    assert r.stderr.strip().splitlines()[-1] == (
        f'error: proposer config file not found: {tmp_path / "det.py"}')

"""Class names and detector classes that disagree (issue 14, kind 6): labels by name
where known, ``class N`` otherwise, in the inferencer's results, its pictures and the
visualization hook; every shipped config either has as many names as its detector has
classes or declares ``detector_classes``."""
import glob
import json
import os
import runpy

import torch
from mmengine.config import Config

from vlbert_e2e.testing import ROOT, TINY_MODEL_CFG
from vlbert_e2e.utils import detector_class_names, label_name

IMG = os.path.join(ROOT, 'tests/data/cc/images/000001.jpg')
REF = os.path.join(ROOT,
                   'configs/refcoco/vlbert-tiny_faster-rcnn-r18-c4_1xb4-2e_refcoco-fixture.py')


def test_label_name_uses_the_name_where_known():
    assert label_name(('square', ), 0) == 'square'
    assert label_name(('square', ), 5) == 'class 5'
    assert label_name(None, 3) == 'class 3'
    assert label_name(('a', 'b'), torch.tensor(1)) == 'b'


def test_where_the_names_come_from():
    meta = dict(classes=('square', ))
    assert detector_class_names({}, meta) == ('square', )  # mmdet's convention
    assert detector_class_names({}, {}) is None
    assert detector_class_names(dict(detector_classes=None), meta) is None
    assert detector_class_names(dict(detector_classes=['x', 'y']), meta) == ('x', 'y')
    coco = detector_class_names(dict(detector_classes='coco'), meta)
    assert len(coco) == 80 and coco[0] == 'person'
    tags = dict(model=dict(object_tags=dict(names=['circle', 'square', 'triangle'])))
    assert detector_class_names(tags, meta) == ('circle', 'square', 'triangle')


def test_demo_labels_eight_classes_with_one_name(tmp_path):
    """A checkpoint whose dataset_meta names 1 class for an 8-class detector: demo
    --score-thr 0 labels label 0 'square', the others 'class N' (was: IndexError)."""
    from vlbert_e2e.apis import VLBertInferencer
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(f"_base_ = ['{TINY_MODEL_CFG}']\ntokenizer = 'pkg://minilm-l6'\n"
                   "scale = (128, 96)\nmodel = dict(region_encoder=dict(det_score_thr=0.0))\n")
    model = VLBertInferencer(str(cfg)).model
    with torch.no_grad():  # the box classifier favours class 0, so labels 0 and >0 both occur
        model.region_encoder.roi_head.bbox_head.fc_cls.bias[0] += 1.0
    ckpt = tmp_path / 'one_name.pth'
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=dict(classes=('square', )))), ckpt)
    demo = runpy.run_path(os.path.join(ROOT, 'tools/demo.py'))
    out = tmp_path / 'out'
    assert demo['main']([IMG, '--config', str(cfg), '--checkpoint', str(ckpt), '--task',
                         'detect', '--score-thr', '0', '--out-dir', str(out)]) == 0
    dets = json.loads((out / '000001.json').read_text())['detections']
    ids = {d['label_id'] for d in dets}
    assert 0 in ids and len(ids) > 1, ids
    for d in dets:
        assert d['label'] == ('square' if d['label_id'] == 0 else f'class {d["label_id"]}')
    assert (out / '000001.jpg').stat().st_size > 0


def test_visualization_hook_labels_as_the_inferencer(tmp_path, monkeypatch):
    from mmengine.structures import InstanceData

    from vlbert_e2e.engine.hooks import VLVisualizationHook
    from vlbert_e2e.engine.hooks import vl_visualization_hook as hook_module
    from vlbert_e2e.structures import VLDataSample

    class Runner:
        cfg = Config(dict(detector_classes='dataset'))
        work_dir = str(tmp_path)

        class test_dataloader:
            class dataset:
                metainfo = dict(classes=('square', ))

    hook = VLVisualizationHook(draw=True, test_out_dir=str(tmp_path), score_thr=0.0)
    hook.before_test(Runner)
    s = VLDataSample(metainfo=dict(img_path=IMG, text='is it a square?',
                                   gt_answers=['yes'] * 7 + ['no'] * 3))
    s.pred_instances = InstanceData(bboxes=torch.tensor([[1., 1., 20., 20.], [5., 5., 30., 30.]]),
                                    scores=torch.tensor([0.9, 0.8]), labels=torch.tensor([0, 7]))
    s.pred_answer, s.pred_answer_score = 'no', torch.tensor(0.6)
    drawn = []
    draw = hook_module.draw_answer
    monkeypatch.setattr(hook_module, 'draw_answer',
                        lambda *a, **k: drawn.append(k) or draw(*a, **k))
    s2 = s.clone()  # a second question about the same picture keeps its own drawing
    s.set_metainfo(dict(question_id=11))
    s2.set_metainfo(dict(question_id=12))
    hook.after_test_iter(Runner, 0, {}, [s, s2])
    assert [lab for _, lab in drawn[0]['detections']] == ['square 0.90', 'class 7 0.80']
    assert drawn[0]['lines'] == ['is it a square?', '-> no (score 0.600)']
    assert drawn[0]['truth'] == 'yes' and drawn[0]['right'] is False
    assert (tmp_path / '000001_11.jpg').stat().st_size > 0
    assert (tmp_path / '000001_12.jpg').stat().st_size > 0


def _num_detector_classes(cfg):
    det = (cfg.model.get('region_encoder') or {}).get('detector')
    return det.roi_head.bbox_head.num_classes if det else None


def _datasets(cfg):
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        todo = [(cfg.get(key) or {}).get('dataset')]
        while todo:
            ds = todo.pop()
            if ds:
                todo += list(ds.get('datasets', [])) + [ds.get('dataset')]
                yield ds


def _dataset_classes(ds):
    """(has classes, the names or None when they live in files not shipped)."""
    names = (ds.get('metainfo') or {}).get('classes')
    if names:
        return True, tuple(names)
    if ds.get('type') == 'RefCOCODataset':  # the categories of its COCO instances.json
        path = os.path.join(ROOT, ds.get('data_root', ''), ds.ann_file)
        if not os.path.isfile(path):
            return True, None
        with open(path) as f:
            return True, tuple(c['name'] for c in json.load(f)['categories'])
    return False, None


SHIPPED = sorted(p for p in glob.glob(os.path.join(ROOT, 'configs/**/*.py'), recursive=True)
                 if '/_base_/' not in p)


def test_every_shipped_config_names_its_detector_classes_or_says_why_not():
    checked, problems = [], []
    for path in SHIPPED:
        cfg = Config.fromfile(path)
        n = _num_detector_classes(cfg)
        with_names = [c for has, c in map(_dataset_classes, _datasets(cfg)) if has]
        if n is None or not with_names:
            continue
        checked.append(os.path.relpath(path, ROOT))
        spec = cfg.get('detector_classes', 'undeclared')
        own = detector_class_names(cfg)  # the config's or object_tags' names, if any
        if own is not None:  # as many as the detector has classes
            if len(own) != n:
                problems.append(f'{path}: {len(own)} names for {n} detector classes')
        elif spec == 'undeclared':
            for names in with_names:
                if names is None or len(names) != n:
                    problems.append(f'{path}: {n} detector classes, data set names '
                                    f'{"unknown" if names is None else len(names)}')
    assert not problems, problems
    # RefCOCO base, large, detloss, fixture; the demo's fine-tuning and pretraining (its
    # captions name the classes their labels index)
    assert len(checked) == 6, checked


def test_refcoco_with_the_visual_genome_detector_never_borrows_coco_names():
    cfg = Config.fromfile(os.path.join(
        ROOT, 'configs/refcoco/vlbert-base_faster-rcnn-r101-c4_8xb32-20e_refcoco.py'))
    assert _num_detector_classes(cfg) == 1600
    coco = detector_class_names(dict(detector_classes='coco'))
    assert detector_class_names(cfg, dict(classes=coco)) is None
    assert label_name(detector_class_names(cfg, dict(classes=coco)), 0) == 'class 0'
    assert detector_class_names(Config.fromfile(REF), dict(classes=('square', ))) == (
        'square', )
    detloss = Config.fromfile(os.path.join(
        ROOT, 'configs/refcoco/vlbert-base_faster-rcnn-r50-c4-coco_8xb32-20e_refcoco-detloss.py'))
    assert detector_class_names(detloss) == coco and _num_detector_classes(detloss) == 80

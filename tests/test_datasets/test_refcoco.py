"""RefCOCO: official files, grounding head wiring, acc@0.5 metric, tools."""
import os

from vlbert_e2e.datasets import RefCOCODataset
from vlbert_e2e.testing import ROOT

REF = os.path.join(ROOT, 'tests/data/refcoco')
TINY_REF = os.path.join(
    ROOT, 'configs/refcoco/vlbert-tiny_faster-rcnn-r18-c4_1xb4-2e_refcoco-fixture.py')


def _ds(split='train', **kw):
    return RefCOCODataset(data_root=REF, ann_file='instances.json',
                          split_file='refs(unc).p', data_prefix=dict(img_path='train2014/'),
                          split=split, pipeline=[], **kw)


def test_one_sample_per_sentence_with_candidates_and_referred_box():
    ds = _ds()
    assert len(ds) == 3 * 2 * 2  # 3 train images x 2 refs x 2 sentences
    info = ds.get_data_info(2)  # image 1, second ref ("right" square), first sentence
    assert info['text'].endswith('square') and info['ref_index'] == 1
    assert [i['bbox'] for i in info['instances']] == [[8, 20, 48, 60], [72, 30, 118, 76]]
    assert info['ref_bbox'] == [72, 30, 118, 76]
    assert len(_ds('val')) == 4


def test_attributes_of_the_candidate_boxes(tmp_path):
    """With ``metainfo.attributes``, every sample carries one multi-hot row per
    candidate box (``instances``' order), from the COCO file's PACO-style attributes."""
    import json
    import shutil
    coco = json.loads(open(os.path.join(REF, 'instances.json')).read())
    coco['attributes'] = [dict(id=1, name='red'), dict(id=2, name='blue')]
    for a in coco['annotations']:
        a['attribute_ids'] = [1 + a['id'] % 2]
    shutil.copy(os.path.join(REF, 'refs(unc).p'), tmp_path / 'refs(unc).p')
    (tmp_path / 'instances.json').write_text(json.dumps(coco))
    ds = RefCOCODataset(data_root=str(tmp_path), ann_file='instances.json',
                        split_file='refs(unc).p', data_prefix=dict(img_path='train2014/'),
                        split='train', pipeline=[], metainfo=dict(attributes=('red', 'blue')))
    ids = {a['image_id']: [] for a in coco['annotations']}
    for a in coco['annotations']:
        ids[a['image_id']].append(a['id'])
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        want = [[1.0, 0.0] if k % 2 == 0 else [0.0, 1.0] for k in ids[info['img_id']]]
        assert info['roi_attributes'] == want
        assert len(info['roi_attributes']) == len(info['instances'])


def test_coco_boxes_train_the_detector_jointly(tmp_path):
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner

    from vlbert_e2e.utils.config_checks import load_config
    cfg = load_config(TINY_REF)
    cfg.work_dir = str(tmp_path)
    cfg.model.region_encoder.det_loss_weight = 1.0
    cfg.train_dataloader.dataset.pipeline[-1].with_det_gt = True
    with DefaultScope.overwrite_default_scope('vlbert_e2e'):
        runner = Runner.from_cfg(cfg)
        data = next(iter(runner.train_dataloader))
    assert runner.train_dataloader.dataset.metainfo['classes'] == ('square', )
    model = runner.model.train()
    losses = model(**model.data_preprocessor(data, True), mode='loss')
    assert {'loss_ground', 'det_loss_cls', 'det_loss_bbox', 'det_loss_rpn_cls'} <= set(losses)

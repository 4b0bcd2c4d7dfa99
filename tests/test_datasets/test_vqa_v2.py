"""VQA v2: official accuracy on hand-computed cases, dataset, head wiring, tools."""
import json
import os
import re

import pytest

from vlbert_e2e.datasets import VQAv2Dataset
from vlbert_e2e.datasets.transforms import BadSampleError
from vlbert_e2e.testing import ROOT, run_tools_in_one_process

VQA = os.path.join(ROOT, 'tests/data/vqa')
TINY_VQA = os.path.join(ROOT, 'configs/vqa/vlbert-tiny_faster-rcnn-r18-c4_1xb2-2e_vqa-fixture.py')


def _dataset(**kw):
    args = dict(data_root=VQA, ann_file='v2_OpenEnded_mscoco_train2014_questions.json',
                answer_file='v2_mscoco_train2014_annotations.json',
                answer_vocab=os.path.join(VQA, 'answers.txt'),
                data_prefix=dict(img='train2014/'), pipeline=[])
    args.update(kw)
    return VQAv2Dataset(**args)


def test_dataset_reads_official_files_with_soft_targets():
    ds = _dataset()
    assert len(ds) == 6 and ds.metainfo['answers'] == ['yes', 'no', '2', '3']
    info = ds.get_data_info(1)  # "how many shapes": 6x "2", 3x "two", 1x "3"
    assert info['img_path'].endswith('train2014/COCO_train2014_000000000001.jpg')
    targets = dict(zip(info['answer_indices'], info['answer_weights']))
    assert targets == {2: pytest.approx(1.0), 3: pytest.approx(0.3)}


def test_malformed_question_names_file_and_record(tmp_path):
    qs = json.load(open(os.path.join(VQA, 'v2_OpenEnded_mscoco_train2014_questions.json')))
    qs['questions'][2]['question'] = '   '
    bad = tmp_path / 'questions.json'
    bad.write_text(json.dumps(qs))
    qid = qs['questions'][2]['question_id']
    with pytest.raises(BadSampleError, match=f'questions.json, question_id {qid}: empty'):
        _dataset(ann_file=str(bad),
                 answer_file=os.path.join(VQA, 'v2_mscoco_train2014_annotations.json'))


def test_tiny_vqa_trains_and_tests_through_the_tools(tmp_path):
    work, out = str(tmp_path / 'w'), str(tmp_path / 'preds.pkl')
    runs = run_tools_in_one_process({  # train, then test: one start-up
        'train': ['tools/train.py', TINY_VQA, '--work-dir', work, '--cfg-options',
                  'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
                  'default_hooks.checkpoint.interval=1'],
        'test': ['tools/test.py', TINY_VQA, f'{work}/epoch_1.pth', '--work-dir', work,
                 '--out', out, '--cfg-options', f'test_evaluator.outfile_prefix={tmp_path}/vqa']})
    r = runs['train']
    assert r['code'] == 0, r['stderr'][-3000:]
    assert 'vqa/accuracy' in r['stdout'] + r['stderr']
    r = runs['test']
    assert r['code'] == 0, r['stderr'][-3000:]
    assert 'vqa/accuracy' in r['stdout'] + r['stderr'] and os.path.isfile(out)
    res = json.load(open(tmp_path / 'vqa.json'))
    assert len(res) == 6 and set(res[0]) == {'question_id', 'answer'}


def test_coco_instances_become_given_boxes_and_detector_targets(tmp_path):
    coco = dict(images=[dict(id=i, file_name=f'{i}.jpg', width=128, height=96)
                        for i in (1, 2, 3)],
                categories=[dict(id=7, name='b'), dict(id=3, name='a')],
                annotations=[dict(id=1, image_id=1, category_id=7, bbox=[10, 20, 30, 40],
                                  iscrowd=0, area=1200)])
    path = tmp_path / 'instances.json'
    path.write_text(json.dumps(coco))
    ds = _dataset(instances_file=str(path))
    assert ds.get_data_info(0)['instances'] == [
        dict(bbox=[10, 20, 40, 60], bbox_label=1, ignore_flag=0)]  # category 7 sorts second
    assert ds.get_data_info(2)['instances'] == []  # image 2 has no box in that file
    # the configured classes must be the file's categories, in id order: labels are
    # category indices, so another label set would be learnt under the wrong names
    assert len(_dataset(instances_file=str(path), metainfo=dict(classes=('a', 'b')))) == 6
    with pytest.raises(ValueError, match=r"instances.json: its categories \['a', 'b'\] are "
                                         r"not the classes of the config \['circle'"):
        _dataset(instances_file=str(path), metainfo=dict(classes=('circle', 'square')))


def test_attributes_become_multi_hot_rows_of_the_given_boxes(tmp_path):
    """PACO-style attributes (top-level ``attributes``, each annotation's
    ``attribute_ids``): with ``metainfo.attributes`` each box gets the multi-hot row of
    its ids, in the file's id order (none: a row of zeros); an id the file does not
    list names the file and the annotation; other names than the config's are refused."""
    coco = dict(images=[dict(id=i, file_name=f'{i}.jpg', width=128, height=96)
                        for i in (1, 2, 3)],
                categories=[dict(id=1, name='a')],
                attributes=[dict(id=9, name='green'), dict(id=4, name='red')],
                annotations=[dict(id=5, image_id=1, category_id=1, bbox=[0, 0, 9, 9],
                                  attribute_ids=[9]),
                             dict(id=6, image_id=1, category_id=1, bbox=[9, 9, 9, 9],
                                  attribute_ids=[4, 9]),
                             dict(id=7, image_id=1, category_id=1, bbox=[1, 1, 9, 9])])
    path = tmp_path / 'instances.json'
    path.write_text(json.dumps(coco))
    ds = _dataset(instances_file=str(path), metainfo=dict(attributes=('red', 'green')))
    assert ds.get_data_info(0)['roi_attributes'] == [[0.0, 1.0], [1.0, 1.0], [0.0, 0.0]]
    assert 'roi_attributes' not in _dataset(instances_file=str(path)).get_data_info(0)
    with pytest.raises(ValueError, match=r"its attributes \['red', 'green'\] are not the "
                                         r"attributes of the config \['green', 'red'\]"):
        _dataset(instances_file=str(path), metainfo=dict(attributes=('green', 'red')))
    # a string (--cfg-options ...attributes=red) would be read letter by letter
    with pytest.raises(ValueError, match=r"instances.json: metainfo.attributes must be a "
                                         r"list of names, got 'red'"):
        _dataset(instances_file=str(path), metainfo=dict(attributes='red'))
    for ids, says in (([4, 3], 'attribute id 3 is not in the "attributes" of'),
                      ([True], 'attribute id True is not in'),  # JSON true is not id 1
                      (4, 'attribute_ids must be a list of ids, got 4')):
        coco['annotations'][1]['attribute_ids'] = ids
        path.write_text(json.dumps(coco))
        with pytest.raises(BadSampleError, match=r'instances.json, annotation 6: '
                                                 + re.escape(says)):
            _dataset(instances_file=str(path), metainfo=dict(attributes=('red', 'green')))
    coco['annotations'][1]['attribute_ids'] = [4]
    # a repeated id would label its objects with whichever name sorts last
    for attrs in ([dict(id=4, name='red'), dict(id=4, name='green')], [dict(name='red')],
                  {'4': 'red'}):
        coco['attributes'] = attrs
        path.write_text(json.dumps(coco))
        with pytest.raises(ValueError, match=r'"attributes" must be a list of \{"id": int, '
                                             r'"name": str\} with distinct ids'):
            _dataset(instances_file=str(path), metainfo=dict(attributes=('red', 'green')))

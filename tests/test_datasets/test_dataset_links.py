"""Annotations that point at things that are not there (issue 14, kind 2), and
img2dataset output as people have it (kind 5): every bad record is skipped and
counted under ``on_bad_sample='skip'``, or raised naming its file and id."""
import json
import pickle

import cv2
import numpy as np
import pytest

from vlbert_e2e.datasets import (
    ConceptualCaptionsDataset,
    RefCOCODataset,
    VCRDataset,
    VQAv2Dataset,
)
from vlbert_e2e.datasets.transforms import BadSampleError, LoadVLImage
from vlbert_e2e.testing import capture_logs

H, W = 20, 30


def _coco(path, image_ids, anns):
    """A COCO instances file: ``anns`` as (ann id, image id)."""
    path.write_text(json.dumps(dict(
        images=[dict(id=i, file_name=f'{i}.jpg', width=W, height=H) for i in image_ids],
        categories=[dict(id=1, name='shape')],
        annotations=[dict(id=a, image_id=i, category_id=1, bbox=[1, 1, 5, 5], iscrowd=0)
                     for a, i in anns])))


# ----------------------------------------------------------------- RefCOCO
def _ref(ref_id, ann_id, image_id, n_sents=1, split='train'):
    return dict(ref_id=ref_id, ann_id=ann_id, image_id=image_id, split=split, category_id=1,
                sentences=[dict(raw=f'shape {k}', sent=f'shape {k}', sent_id=ref_id * 10 + k)
                           for k in range(n_sents)])


REFS = [_ref(1, 10, 1, n_sents=2),  # good
        _ref(2, 20, 1),             # ann_id 20 not in the cut instances.json
        _ref(3, 30, 3),             # neither image 3 nor ann 30
        _ref(4, 11, 1),             # good
        _ref(5, 10, 2),             # ann 10 is on image 1, not on image 2
        _ref(6, 40, 4, split='val')]  # broken, but of another split: not looked at


def _refcoco(tmp_path, refs, on_bad):
    _coco(tmp_path / 'instances.json', [1, 2], [(10, 1), (11, 1)])
    (tmp_path / 'refs(unc).p').write_bytes(pickle.dumps(refs))
    return RefCOCODataset(data_root=str(tmp_path), ann_file='instances.json',
                          split_file='refs(unc).p', split='train',
                          data_prefix=dict(img_path=''), pipeline=[], on_bad_sample=on_bad)


def test_refcoco_refs_into_a_cut_instances_file_are_skipped_and_counted(tmp_path):
    with capture_logs() as msgs:
        ds = _refcoco(tmp_path, REFS, 'skip')
    assert len(ds) == 3 and ds.bad_samples.num_skipped == 3
    assert [ds.get_data_info(i)['ref_id'] for i in range(3)] == [1, 1, 4]
    assert ds.get_data_info(2)['ref_index'] == 1  # ann 11 is the 2nd box of image 1
    assert sorted(ds.refs) == [1, 4] and ds.ref_to_ann[4]['id'] == 11  # mmdet's index
    assert any('refs(unc).p (split train): 3 samples; skipped 3 bad records' in m
               for m in msgs)


@pytest.mark.parametrize('ref,match', [
    (_ref(2, 20, 1), r'refs\(unc\).p, ref_id 2: ann_id 20 not in .*instances.json'),
    (_ref(3, 30, 3), r'refs\(unc\).p, ref_id 3: image_id 3 not in .*instances.json'),
    (_ref(5, 10, 2), r'refs\(unc\).p, ref_id 5: ann_id 10 is on image 1 of .*instances.json, '
                     r'not on image_id 2'),
])
def test_refcoco_ref_into_a_cut_instances_file_is_named(tmp_path, ref, match):
    with pytest.raises(BadSampleError, match=match):
        _refcoco(tmp_path, [REFS[0], ref], 'raise')


def test_refcoco_with_every_ref_dangling_says_so(tmp_path):
    with pytest.raises(BadSampleError, match=r'all 2 records are bad.*no sample left'):
        _refcoco(tmp_path, [REFS[1], REFS[2]], 'skip')


# ----------------------------------------------------------------- VQA v2
def _vqa(tmp_path, questions, answered, on_bad):
    """Questions as (question id, image id); annotations for the ``answered`` ids;
    instances.json holds images 1 and 2."""
    (tmp_path / 'q.json').write_text(json.dumps(dict(data_subtype='train2014', questions=[
        dict(question_id=q, image_id=i, question=f'what {q}?') for q, i in questions])))
    (tmp_path / 'a.json').write_text(json.dumps(dict(annotations=[
        dict(question_id=q, image_id=1 if q < 3 else 2, answer_type='other',
             answers=[dict(answer='yes')] * 10) for q in answered])))
    _coco(tmp_path / 'inst.json', [1, 2], [(10, 1)])
    (tmp_path / 'answers.txt').write_text('yes\n')
    return VQAv2Dataset(data_root=str(tmp_path), ann_file='q.json', answer_file='a.json',
                        instances_file='inst.json', answer_vocab=str(tmp_path / 'answers.txt'),
                        pipeline=[], on_bad_sample=on_bad)


GOOD_Q = [(1, 1), (3, 2)]


@pytest.mark.parametrize('questions,answered,match', [
    (GOOD_Q, [1, 3, 7], r'a.json, question_id 7: question_id 7 not in .*q.json'),
    (GOOD_Q + [(2, 1)], [1, 3], r'q.json, question_id 2: question_id 2 not in .*a.json'),
    (GOOD_Q + [(4, 99)], [1, 3, 4], r'q.json, question_id 4: image_id 99 not in .*inst.json'),
], ids=['annotation without question', 'question without annotation',
        'question with image not in instances'])
def test_vqa_links_between_questions_annotations_instances(tmp_path, questions, answered,
                                                           match):
    with pytest.raises(BadSampleError, match=match):
        _vqa(tmp_path, questions, answered, 'raise')
    ds = _vqa(tmp_path, questions, answered, 'skip')
    assert ds.bad_samples.num_skipped == 1
    assert [ds.get_data_info(i)['question_id'] for i in range(len(ds))] == [1, 3]
    assert [len(ds.get_data_info(i)['instances']) for i in range(2)] == [1, 0]


def test_vqa_all_three_dangling_links_counted_together(tmp_path):
    ds = _vqa(tmp_path, GOOD_Q + [(2, 1), (4, 99)], [1, 3, 4, 7], 'skip')
    assert len(ds) == 2 and ds.bad_samples.num_skipped == 3


# ----------------------------------------------------------------- VCR
def _vcr(tmp_path, on_bad, break_record=None):
    """Two records over images a.jpg/b.jpg with metadata; ``break_record(folder)``
    damages the second one's files."""
    img = tmp_path / 'img'
    img.mkdir(exist_ok=True)
    lines = []
    for k, stem in enumerate(('a', 'b')):
        cv2.imwrite(str(img / f'{stem}.jpg'), np.full((H, W, 3), 128, np.uint8))
        (img / f'{stem}.json').write_text(json.dumps(dict(boxes=[[1, 1, 9, 9, 0.9]],
                                                          names=['circle'])))
        lines.append(json.dumps(dict(
            annot_id=f'train-{k}', objects=['circle'], img_fn=f'{stem}.jpg',
            metadata_fn=f'{stem}.json', question=['What', 'is', [0], '?'],
            answer_choices=[['a', str(i)] for i in range(4)], answer_label=0)))
    if break_record is not None:
        break_record(img)
    (tmp_path / 'train.jsonl').write_text('\n'.join(lines) + '\n')
    return VCRDataset(ann_file=str(tmp_path / 'train.jsonl'), data_prefix=dict(img=str(img)),
                      pipeline=[], on_bad_sample=on_bad)


@pytest.mark.parametrize('damage,match', [
    (lambda d: (d / 'b.json').unlink(), 'metadata file not found: .*b.json'),
    (lambda d: (d / 'b.json').write_bytes(b''), r'metadata file .*b.json is not valid JSON'),
    (lambda d: (d / 'b.json').write_text('[]'), r'metadata file .*b.json has no "boxes"'),
    (lambda d: (d / 'b.jpg').unlink(), 'image file not found: .*b.jpg'),
], ids=['metadata missing', 'metadata empty', 'metadata without boxes', 'image missing'])
def test_vcr_record_whose_metadata_or_image_is_not_there(tmp_path, damage, match):
    with pytest.raises(BadSampleError, match=r'train.jsonl, annot_id train-1: ' + match):
        _vcr(tmp_path, 'raise', damage)
    ds = _vcr(tmp_path, 'skip', damage)
    assert len(ds) == 1 and ds.bad_samples.num_skipped == 1
    assert ds.get_data_info(0)['annot_id'] == 'train-0'


# ----------------------------------------------------------------- CC manifest
def test_cc_manifest_record_with_missing_image_is_counted_in_one_line(tmp_path):
    cv2.imwrite(str(tmp_path / 'good.jpg'), np.full((H, W, 3), 128, np.uint8))
    (tmp_path / 'm.jsonl').write_text(''.join(json.dumps(dict(image=i, caption='c')) + '\n'
                                              for i in ('good.jpg', 'gone.jpg', 'good.jpg')))
    with pytest.raises(BadSampleError, match=r'm.jsonl, line 2: image file not found.*gone'):
        ConceptualCaptionsDataset(ann_file=str(tmp_path / 'm.jsonl'), on_bad_sample='raise',
                                  data_prefix=dict(img=str(tmp_path)), pipeline=[])
    with capture_logs() as msgs:
        ds = ConceptualCaptionsDataset(ann_file=str(tmp_path / 'm.jsonl'), pipeline=[],
                                       data_prefix=dict(img=str(tmp_path)))
    assert len(ds) == 2 and ds.bad_samples.num_skipped == 1
    assert sum('2 samples; skipped 1 bad records' in m for m in msgs) == 1


# ------------------------------------------------- img2dataset ``files`` folders
def _img2dataset(root, samples, tsv=True):
    """An img2dataset ``files`` folder under ``root/out`` (+ ``root/cc.tsv``).

    ``samples``: key -> dict(ext=image extension or None, txt=caption or None,
    json=dict, or bytes for a raw side file, or None)."""
    shard = root / 'out' / '00000'
    shard.mkdir(parents=True, exist_ok=True)
    lines = []
    for key, s in samples.items():
        url = f'http://example.com/{key}'
        lines.append(f'caption of {key}\t{url}')
        if s.get('ext'):  # written by OpenCV in the format of the extension
            assert cv2.imwrite(str(shard / f'{key}{s["ext"]}'),
                               np.full((H, W, 3), 100, np.uint8))
        if s.get('txt') is not None:
            (shard / f'{key}.txt').write_bytes(s['txt'] if isinstance(s['txt'], bytes)
                                               else s['txt'].encode())
        meta = s.get('json', dict(url=url, key=key, status='success', caption=f'cap {key}'))
        if meta is not None:
            (shard / f'{key}.json').write_bytes(meta if isinstance(meta, bytes)
                                                else json.dumps(meta).encode())
    (root / 'cc.tsv').write_text('\n'.join(lines) + '\n')
    return (root / 'cc.tsv') if tsv else (root / 'out')


def _cc(ann, on_bad, root=None):
    return ConceptualCaptionsDataset(
        ann_file=str(ann), data_prefix=dict(img=str(root / 'out') if root else ''),
        on_bad_sample=on_bad, pipeline=[LoadVLImage(on_bad_sample='raise')],
        serialize_data=False)


GOOD = {'000000000': dict(ext='.webp', txt='a webp picture'),
        '000000001': dict(ext='.png', txt='a png picture')}


@pytest.mark.parametrize('tsv', [True, False], ids=['tsv + folder', 'folder alone'])
def test_img2dataset_webp_and_png_are_found_by_the_extension_on_disk(tmp_path, tsv):
    ann = _img2dataset(tmp_path, dict(GOOD, **{'000000002': dict(ext='.jpeg', txt='jpeg')}),
                       tsv=tsv)
    ds = _cc(ann, 'raise', tmp_path if tsv else None)
    assert len(ds) == 3 and ds.bad_samples.num_skipped == 0
    exts = [ds[i]['img_path'].rsplit('.', 1)[1] for i in range(3)]
    assert exts == ['webp', 'png', 'jpeg'] and ds[0]['img'].shape == (H, W, 3)
    texts = [ds.get_data_info(i)['text'] for i in range(3)]
    assert texts == (['caption of 000000000', 'caption of 000000001', 'caption of 000000002']
                     if tsv else ['a webp picture', 'a png picture', 'jpeg'])


BAD_SIDE = [  # key 000000009: (its files, the error named)
    (dict(ext='.webp', txt='x', json=b''), r'000000009.json: empty side file \(0 bytes\)'),
    (dict(ext='.png', txt='x', json=b'{"url": "http://exa'), r'000000009.json: not valid JSON'),
    (dict(ext='.jpg', txt='x', json=b'[1, 2]'), '000000009.json: expected a JSON object'),
    (dict(ext=None, txt='x'), r'000000009.json: no image file 000000009.\{jpg,jpeg,png,webp'),
]
BAD_CAPTION = [  # only read when the folder alone is the annotation
    (dict(ext='.png', txt=b'caf\xe9'), r'000000009.txt: not UTF-8'),
    (dict(ext='.png', txt='  \n'), r'000000009.txt: empty caption'),
    (dict(ext='.webp', json=dict(status='success')), r'000000009.json: no caption'),
]


# with the TSV, the caption comes from the TSV: the .txt is not read
@pytest.mark.parametrize('tsv,bad,match', [(True, *c) for c in BAD_SIDE] +
                         [(False, *c) for c in BAD_SIDE + BAD_CAPTION])
def test_img2dataset_bad_side_file_is_named_or_skipped(tmp_path, tsv, bad, match):
    ann = _img2dataset(tmp_path, dict(GOOD, **{'000000009': bad}), tsv=tsv)
    with pytest.raises(BadSampleError, match=match):
        _cc(ann, 'raise', tmp_path if tsv else None)
    ds = _cc(ann, 'skip', tmp_path if tsv else None)
    assert len(ds) == 2 and ds[1]['img_path'].endswith('000000001.png')
    # the TSV line of the dropped sample is counted too: its url is not downloaded
    assert ds.bad_samples.num_skipped == (2 if tsv else 1)


def test_img2dataset_failed_download_is_not_a_sample_but_its_tsv_line_is_counted(tmp_path):
    failed = dict(json=dict(url='http://example.com/000000009', status='failed_to_download'))
    ann = _img2dataset(tmp_path, dict(GOOD, **{'000000009': failed}))
    with pytest.raises(BadSampleError, match=r'cc.tsv, line 3: url http://example.com/000000009 '
                                             r'not in the img2dataset folder .*not downloaded'):
        _cc(ann, 'raise', tmp_path)
    assert len(_cc(tmp_path / 'out', 'raise')) == 2  # the folder alone: nothing is bad
    ds = _cc(ann, 'skip', tmp_path)
    assert len(ds) == 2 and ds.bad_samples.num_skipped == 1

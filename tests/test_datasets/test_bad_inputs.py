"""Bad dataset input in the real formats: a clear error naming the file and record,
or a counted skip with ``on_bad_sample='skip'``; never a crash without a name."""
import json
import pickle

import cv2
import numpy as np
import pytest

from vlbert_e2e.datasets import (
    ConceptualCaptionsDataset,
    RefCOCODataset,
    TextCorpusDataset,
    VCRDataset,
    VQAv2Dataset,
)
from vlbert_e2e.datasets.transforms import BadSampleError, LoadVLImage, Tokenize

TOK = 'pkg://minilm-l6'
H, W = 20, 30


def _images(root):
    """good.jpg (20x30), truncated.jpg, zero.jpg (0 bytes); missing.jpg is absent."""
    root.mkdir(exist_ok=True)
    cv2.imwrite(str(root / 'good.jpg'), np.full((H, W, 3), 128, np.uint8))
    data = (root / 'good.jpg').read_bytes()
    (root / 'truncated.jpg').write_bytes(data[:len(data) // 2])
    (root / 'zero.jpg').write_bytes(b'')


def _cc(tmp_path, records, on_bad='raise', raw_lines=()):
    """A CC JSON-lines manifest of ``records`` (+ raw byte lines) and its dataset."""
    _images(tmp_path / 'images')
    lines = [json.dumps(r).encode() for r in records] + list(raw_lines)
    (tmp_path / 'manifest.jsonl').write_bytes(b'\n'.join(lines) + b'\n')
    return ConceptualCaptionsDataset(
        data_root=str(tmp_path), ann_file='manifest.jsonl', data_prefix=dict(img='images/'),
        on_bad_sample=on_bad, pipeline=[LoadVLImage(on_bad_sample=on_bad)],
        serialize_data=False)


GOOD = dict(image='good.jpg', caption='a grey picture')


@pytest.mark.parametrize('image,match', [
    ('truncated.jpg', 'truncated JPEG|cannot decode'), ('zero.jpg', r'empty \(0 bytes\)')])
def test_unreadable_image_names_file_and_record_or_is_skipped(tmp_path, image, match):
    ds = _cc(tmp_path, [GOOD, dict(image=image, caption='broken')])
    with pytest.raises(BadSampleError, match=match) as e:
        ds[1]
    assert image in str(e.value) and 'record 2' in str(e.value)  # manifest line 2
    ds = _cc(tmp_path, [GOOD, dict(image=image, caption='broken')], on_bad='skip')
    assert ds[1]['img_path'].endswith('good.jpg')  # MMEngine draws another sample
    assert ds.pipeline.transforms[0].policy.num_skipped >= 1


@pytest.mark.parametrize('record,match', [
    (dict(image='missing.jpg', caption='gone'), 'line 2: image file not found.*missing.jpg'),
    (dict(image='good.jpg', caption='   '), 'line 2: empty caption'),
])
def test_missing_image_and_empty_caption_are_named_at_load_time(tmp_path, record, match):
    with pytest.raises(BadSampleError, match=match):
        _cc(tmp_path, [GOOD, record])
    ds = _cc(tmp_path, [GOOD, record, GOOD], on_bad='skip')
    assert len(ds) == 2 and ds.bad_samples.num_skipped == 1


def test_non_utf8_caption_line_is_named_or_skipped(tmp_path):
    bad = b'{"image": "good.jpg", "caption": "caf\xe9"}'  # Latin-1, not UTF-8
    with pytest.raises(BadSampleError, match=r'manifest.jsonl, line 2: not UTF-8'):
        _cc(tmp_path, [GOOD], raw_lines=[bad])
    ds = _cc(tmp_path, [GOOD], on_bad='skip', raw_lines=[bad, json.dumps(GOOD).encode()])
    assert len(ds) == 2 and ds.bad_samples.num_skipped == 1


def test_non_utf8_corpus_line_is_named_or_skipped(tmp_path):
    (tmp_path / 'corpus.txt').write_bytes(b'first line of text.\n\xff\xfe broken\nlast one.\n')
    with pytest.raises(BadSampleError, match=r'corpus.txt, line 2: not UTF-8'):
        TextCorpusDataset(ann_file=str(tmp_path / 'corpus.txt'), tokenizer=TOK, pipeline=[])
    ds = TextCorpusDataset(ann_file=str(tmp_path / 'corpus.txt'), tokenizer=TOK, pipeline=[],
                           on_bad_sample='skip')
    assert ds.bad_samples.num_skipped == 1
    assert ds.get_data_info(0)['text'] == 'first line of text. last one.'


@pytest.mark.parametrize('box,expect', [
    ([-5, -5, 10, 50], [0, 0, 10, H]),  # partly outside: clipped and kept
    ([40, 0, 60, 10], 'box 0 .* has no area inside the 30x20 image'),  # entirely outside
    ([5, 5, 5, 15], 'has no area'),  # zero width
    ([10, 10, 5, 15], 'has no area'),  # reversed
    ([0, 0, float('nan'), 5], 'not 4 finite numbers'),
])
def test_boxes_are_clipped_or_the_sample_rejected(tmp_path, box, expect):
    rec = dict(GOOD, boxes=[box], labels=[1])
    ds = _cc(tmp_path, [GOOD, rec])
    if isinstance(expect, list):
        assert ds[1]['instances'][0]['bbox'] == expect
        return
    with pytest.raises(BadSampleError, match=expect) as e:
        ds[1]
    assert 'good.jpg (record 2)' in str(e.value)
    ds = _cc(tmp_path, [GOOD, rec], on_bad='skip')
    assert 'instances' not in ds[1] and ds.pipeline.transforms[0].policy.num_skipped >= 1


def test_2000_word_caption_is_cut_at_max_length(tmp_path):
    ds = _cc(tmp_path, [dict(image='good.jpg', caption=' '.join(['word'] * 2000))])
    out = Tokenize(TOK, max_length=32)(ds[0])
    assert len(out['input_ids']) == 32 and out['input_ids'][-1] == 102  # ends in [SEP]


def test_vqa_question_with_unknown_image_id_is_named(tmp_path):
    qs = dict(data_subtype='train2014', questions=[
        dict(question_id=5, image_id=1, question='what?'),
        dict(question_id=6, image_id=99, question='where?')])
    coco = dict(images=[dict(id=1, file_name='1.jpg', width=W, height=H)], categories=[],
                annotations=[])
    (tmp_path / 'q.json').write_text(json.dumps(qs))
    (tmp_path / 'inst.json').write_text(json.dumps(coco))
    (tmp_path / 'answers.txt').write_text('yes\n')
    with pytest.raises(BadSampleError, match=r'q.json, question_id 6: image_id 99 not in'):
        VQAv2Dataset(ann_file=str(tmp_path / 'q.json'), answer_vocab=str(tmp_path / 'answers.txt'),
                     instances_file=str(tmp_path / 'inst.json'), pipeline=[])


def test_refcoco_ref_with_unknown_image_id_is_named(tmp_path):
    coco = dict(images=[dict(id=1, file_name='1.jpg', width=W, height=H)],
                categories=[dict(id=1, name='shape')],
                annotations=[dict(id=10, image_id=1, category_id=1, bbox=[1, 1, 5, 5])])
    refs = [dict(ref_id=3, ann_id=10, image_id=42, split='train', category_id=1,
                 sentences=[dict(raw='the shape', sent='the shape', sent_id=0)])]
    (tmp_path / 'instances.json').write_text(json.dumps(coco))
    (tmp_path / 'refs.p').write_bytes(pickle.dumps(refs))
    with pytest.raises(BadSampleError, match=r'refs.p, ref_id 3: image_id 42 not in'):
        RefCOCODataset(data_root=str(tmp_path), ann_file='instances.json',
                       split_file='refs.p', split='train', data_prefix=dict(img_path=''),
                       pipeline=[])


def test_vcr_record_with_unknown_image_is_named(tmp_path):
    item = dict(annot_id='train-7', objects=['circle'], img_fn='m/none.jpg',
                metadata_fn='m/none.json', question=['What', '?'],
                answer_choices=[['a']] * 4, answer_label=0)
    (tmp_path / 'train.jsonl').write_text(json.dumps(item) + '\n')
    with pytest.raises(BadSampleError, match=r'train.jsonl, annot_id train-7: metadata file '
                                             r'not found: .*m/none.json'):
        VCRDataset(ann_file=str(tmp_path / 'train.jsonl'), data_prefix=dict(img=str(tmp_path)),
                   pipeline=[])

"""VCR: official files, object references as visual clues, Q->AR join, head wiring."""
import json
import os

import numpy as np
import pytest

from vlbert_e2e.datasets import VCRDataset
from vlbert_e2e.datasets.transforms import BadSampleError, TokenizeChoices, build_tokenizer
from vlbert_e2e.testing import ROOT

VCR = os.path.join(ROOT, 'tests/data/vcr')
TINY_VCR = os.path.join(
    ROOT, 'configs/vcr/vlbert-tiny_faster-rcnn-r18-c4_1xb2-2e_vcr-q2a-fixture.py')


def _ds(mode='q2a', ann='train.jsonl'):
    return VCRDataset(data_root=VCR, ann_file=ann, data_prefix=dict(img='vcr1images/'),
                      mode=mode, pipeline=[])


def test_object_references_become_names_with_their_roi():
    info = _ds().get_data_info(0)  # objects: circle, square; question "What is [0, 1] ?"
    assert info['words_a'] == ['What', 'is', 'circle1', 'and', 'square1', '?']
    assert info['word_boxes_a'] == [0, 0, 1, 0, 2, 0]
    assert len(info['choices_words']) == 4 and len(info['instances']) == 2
    r = TokenizeChoices('pkg://minilm-l6', max_length=32)(dict(info))
    tok = build_tokenizer('pkg://minilm-l6')
    ids, boxes = r['input_ids'][0], r['text_box_index'][0]
    assert r['input_ids'].shape[0] == 4
    pieces = tok.convert_ids_to_tokens(ids.tolist())
    # every piece of "circle1" takes RoI 1, of "square1" RoI 2
    start = pieces.index('circle')
    assert boxes[start] == 1 and boxes[pieces.index('square')] == 2
    assert np.all(boxes[:start] == 0)


def test_qa2r_appends_the_right_answer_to_the_question():
    q = _ds('qa2r').get_data_info(0)
    a = _ds('q2a').get_data_info(0)
    right = a['label']
    assert q['words_a'] == a['words_a'] + a['choices_words'][right]
    assert q['label'] != right  # fixture rationale label is (answer + 1) % 4


def test_malformed_record_names_file_and_annot_id(tmp_path):
    lines = open(os.path.join(VCR, 'train.jsonl')).read().splitlines()
    item = json.loads(lines[1])
    item['question'] = ['Who', 'is', [7], '?']  # object 7 does not exist
    (tmp_path / 'bad.jsonl').write_text(lines[0] + '\n' + json.dumps(item) + '\n')
    with pytest.raises(BadSampleError, match=r'bad.jsonl, annot_id train-1: object index 7'):
        VCRDataset(data_root=VCR, ann_file=str(tmp_path / 'bad.jsonl'),
                   data_prefix=dict(img='vcr1images/'), pipeline=[])

"""VQA v2's official accuracy on hand-computed cases and the VQAAccuracy metric."""
import json

import pytest

from vlbert_e2e.evaluation import VQAAccuracy, vqa_accuracy


@pytest.mark.parametrize('pred,gts,expected', [
    ('two', ['2'] * 10, 1.0),                        # digits: "two" -> "2"
    ('3', ['2'] * 6 + ['two'] * 3 + ['3'], 0.3),     # 9 subsets hold one "3": 1/3 each
    ('a dog', ['dog'] * 2 + ['cat'] * 8, 0.6),       # article dropped; (2/3*8 + 1/3*2)/10
    ('yes.', ['yes'] * 10, 1.0),                     # the prediction's period is stripped
    ('dog?', ['dog'] * 10, 1.0),                     # trailing '?' removed
    ('yes', ['yes.'] * 9 + ['yes'], 1.0),            # mixed answers are normalised too
    ('yes', ['yes.'] * 10, 0.0),                     # ...unanimous ones are not (official)
    ('no', ['yes'] * 10, 0.0),
])
def test_official_vqa_accuracy_hand_computed(pred, gts, expected):
    assert vqa_accuracy(pred, gts) == pytest.approx(expected, abs=1e-6)


def test_metric_per_type_and_results_file(tmp_path):
    m = VQAAccuracy(outfile_prefix=str(tmp_path / 'res'))
    m.dataset_meta = dict(answers=['yes', 'no', '2'])
    m.process(None, [
        dict(question_id=1, pred_answer_index=0, gt_answers=['yes'] * 10,
             answer_type='yes/no'),
        dict(question_id=2, pred_answer='3', gt_answers=['2'] * 6 + ['two'] * 3 + ['3'],
             answer_type='number'),
    ])
    out = m.evaluate(2)
    assert out['vqa/accuracy'] == pytest.approx(65.0)
    assert out['vqa/accuracy_yes_no'] == pytest.approx(100.0)
    assert out['vqa/accuracy_number'] == pytest.approx(30.0)
    assert json.load(open(tmp_path / 'res.json')) == [
        dict(question_id=1, answer='yes'), dict(question_id=2, answer='3')]


def test_metric_per_question_type_hand_computed():
    m = VQAAccuracy(per_question_type=True)
    m.dataset_meta = dict(answers=['yes', 'no', '2'])
    m.process(None, [
        dict(question_id=1, pred_answer='yes', gt_answers=['yes'] * 10,
             answer_type='yes/no', question_type='is there'),
        dict(question_id=2, pred_answer='no', gt_answers=['yes'] * 10,
             answer_type='yes/no', question_type='is there'),
        dict(question_id=3, pred_answer='2', gt_answers=['2'] * 2 + ['3'] * 8,
             answer_type='number', question_type='how many'),
    ])
    out = m.evaluate(3)
    assert out['vqa/accuracy_qtype_is_there'] == pytest.approx(50.0)
    assert out['vqa/accuracy_qtype_how_many'] == pytest.approx(60.0)  # 2 of 10 agree: 0.6
    assert 'vqa/accuracy_qtype_how_many' not in VQAAccuracy().compute_metrics(m.results)

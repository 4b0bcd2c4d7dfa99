"""VCR's joint Q->AR accuracy on a hand case."""
import pytest

from vlbert_e2e.evaluation import vcr_joint_accuracy


def test_joint_q2ar_hand_case():
    q2a = {'a': dict(pred=1, label=1), 'b': dict(pred=0, label=2), 'c': dict(pred=3, label=3)}
    qa2r = {'a': dict(pred=2, label=2), 'b': dict(pred=1, label=1), 'c': dict(pred=0, label=1)}
    acc = vcr_joint_accuracy(q2a, qa2r)
    assert acc == pytest.approx(dict(q2a=200 / 3, qa2r=200 / 3, q2ar=100 / 3))
    with pytest.raises(KeyError, match='only one'):
        vcr_joint_accuracy(q2a, {'a': qa2r['a']})

"""VCR accuracies, including Q->AR joined from the Q->A and QA->R predictions."""
from typing import Dict, Mapping


def vcr_joint_accuracy(q2a: Mapping[str, Mapping], qa2r: Mapping[str, Mapping]
                       ) -> Dict[str, float]:
    """Q->A, QA->R and Q->AR accuracy (percent).

    ``q2a`` / ``qa2r`` map ``annot_id`` -> ``{'pred': int, 'label': int}``. Q->AR counts
    a question right only when both its answer and its rationale are right; it is
    computed over the ``annot_id`` present in both (an id missing from either raises).

    Args:
        q2a: the Q->A results (``VCRAccuracy(mode='q2a', outfile_prefix=...)``'s file).
        qa2r: the QA->R results of the same questions.

    Returns:
        ``{'q2a': float, 'qa2r': float, 'q2ar': float}``, each in percent (0 when
        both are empty).

    Raises:
        KeyError: an ``annot_id`` is in only one of ``q2a`` and ``qa2r``.
    """
    missing = set(q2a) ^ set(qa2r)
    if missing:
        raise KeyError(f'{len(missing)} annot_id in only one of the two result sets, '
                       f'e.g. {sorted(missing)[:3]}')
    ids = sorted(q2a)
    ok_a = {i: q2a[i]['pred'] == q2a[i]['label'] for i in ids}
    ok_r = {i: qa2r[i]['pred'] == qa2r[i]['label'] for i in ids}
    n = max(len(ids), 1)
    return {'q2a': 100.0 * sum(ok_a.values()) / n,
            'qa2r': 100.0 * sum(ok_r.values()) / n,
            'q2ar': 100.0 * sum(ok_a[i] and ok_r[i] for i in ids) / n}

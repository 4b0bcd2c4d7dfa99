"""tools/analysis_tools/fill_accuracy.py: which caption words it masks, bad manifests."""
import os
import sys

from vlbert_e2e.testing import ROOT
from vlbert_e2e.testing.cli import run_tools_here

TOOL = os.path.join(ROOT, 'tools/analysis_tools/fill_accuracy.py')
sys.path.insert(0, os.path.join(ROOT, 'tools/analysis_tools'))


def test_first_word_of_each_kind_is_masked_once():
    from fill_accuracy import masked_questions
    got = masked_questions('2 shapes: a red circle on the left and a blue square on the right')
    assert got == {
        'colour': ('2 shapes: a [MASK] circle on the left and a blue square on the right', 'red'),
        'shape': ('2 shapes: a red [MASK] on the left and a blue square on the right', 'circle'),
        'count': ('[MASK] shapes: a red circle on the left and a blue square on the right', '2'),
        'place': ('2 shapes: a red circle on the [MASK] and a blue square on the right', 'left'),
    }
    assert masked_questions('1 shape: a green triangle in the middle')['place'] == (
        '1 shape: a green triangle in the [MASK]', 'middle')


def test_bad_manifest_line_is_one_line_exit_2(tmp_path):
    bad = tmp_path / 'captions.jsonl'
    bad.write_text('{"image": "a.jpg", "caption": "1 shape: a red circle"}\n{"image": 1}\n')
    # run as __main__ in this process (see vlbert_e2e.testing.cli)
    r = run_tools_here({'x': [TOOL, 'cfg.py', 'ckpt.pth', '--captions', str(bad)]})['x']
    assert r['code'] == 2
    assert r['stderr'].strip().splitlines() == [
        f'error: {bad}, line 2: not a caption record (needs "image" and "caption" strings)']


def test_batched_questions_score_as_one_by_one(tiny_vl_checkpoint):
    """Pictures of one size: the batched path (the default) gives the table that asking
    each masked caption alone gives, on a real (tiny) model."""
    from fill_accuracy import fill_accuracy
    captions = [('000001.jpg', '2 shapes: a green circle on the right and a green circle'),
                ('000003.jpg', '1 shape: a red square in the middle'),
                ('000005.jpg', '2 shapes: a blue triangle on the left and a red circle')]
    images = os.path.join(ROOT, 'tests/data/cc/images')  # all three 128x96
    batched = fill_accuracy(*tiny_vl_checkpoint, captions, images)
    assert batched == fill_accuracy(*tiny_vl_checkpoint, captions, images, batch_size=1)
    assert set(batched) == {'colour', 'shape', 'count', 'place'}
    assert all(n == 3 for _, _, n in batched.values())

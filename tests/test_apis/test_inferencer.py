"""The raw-image inferencer and tools/demo.py: each task, each bad input."""
import json
import os
import subprocess
import sys

import pytest

from vlbert_e2e.apis import InferenceError, VLBertInferencer
from vlbert_e2e.testing import ROOT, TINY_VL_CFG, run_tools_here
from vlbert_e2e.utils import CheckpointError

IMG = os.path.join(ROOT, 'tests/data/cc/images/000001.jpg')


@pytest.fixture(scope='module')
def tiny(tiny_vl_checkpoint, tmp_path_factory):
    """The session's tiny checkpoint (conftest.py) and a folder of this module."""
    return (*tiny_vl_checkpoint, tmp_path_factory.mktemp('inf'))


@pytest.mark.parametrize('task,text,key', [
    ('vqa', 'what colour is the circle?', 'answer'),
    ('ground', 'the red circle', 'box'),
    ('fill', 'a [MASK] circle on a grey background', 'words'),
    ('detect', None, 'detections'),
])
def test_each_task_on_a_raw_image(tiny, task, text, key):
    cfg, ckpt, d = tiny
    inf = VLBertInferencer(cfg, ckpt, score_thr=0.0)
    (r, ) = inf([IMG], task, text)
    assert key in r and r['task'] == task
    if task == 'vqa':
        assert r['answer'] in ('yes', 'no', '2')
    if task == 'ground':
        x1, y1, x2, y2 = r['box']
        assert 0 <= x1 < x2 <= 128 and 0 <= y1 < y2 <= 96  # original image coordinates
    if task == 'fill':
        assert len(r['words']) == 1
    out = d / f'{task}.jpg'
    inf.visualize(r, str(out))
    assert out.stat().st_size > 0


def test_bad_inputs_raise_clear_errors(tiny, tmp_path):
    cfg, ckpt, d = tiny
    inf = VLBertInferencer(cfg, ckpt)
    with pytest.raises(InferenceError, match='not found'):
        inf([str(tmp_path / 'nope.jpg')], 'vqa', 'what?')
    txt = tmp_path / 'notes.jpg'
    txt.write_text('this is not a picture')
    with pytest.raises(InferenceError, match='cannot decode'):
        inf([str(txt)], 'vqa', 'what?')
    with pytest.raises(InferenceError, match='non-empty --text'):
        inf([IMG], 'vqa', '   ')
    with pytest.raises(InferenceError, match='unknown task'):
        inf([IMG], 'caption', 'x')
    with pytest.raises(InferenceError, match=r'needs \[MASK\]'):
        inf([IMG], 'fill', 'no mask here')
    other = d / 'other.py'
    other.write_text(TINY_VL_CFG.replace('num_answers=3', 'num_answers=5'))
    with pytest.raises(CheckpointError, match=f'checkpoint {ckpt} does not match the model: '
                       r'other shapes: heads.vqa.final_mlp.4.weight \[3, 32\] vs \[5, 32\]'):
        VLBertInferencer(str(other), ckpt)


def test_demo_cli_writes_files_and_fails_in_one_line(tiny, tmp_path):
    cfg, ckpt, _ = tiny
    env = dict(os.environ, HF_HUB_OFFLINE='1', PYTHONWARNINGS='ignore')
    base = [sys.executable, 'tools/demo.py', '--config', cfg, '--checkpoint', ckpt]
    r = subprocess.run(base + [IMG, '--task', 'vqa', '--text', 'is there a circle?',
                               '--out-dir', str(tmp_path)], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.load(open(tmp_path / '000001.json'))['answer'] in ('yes', 'no', '2')
    assert (tmp_path / '000001.jpg').stat().st_size > 0
    # the bad command lines as __main__ in this process (the real start-up: above)
    cases = {msg: base[1:] + args for args, msg in (
        ([str(tmp_path / 'missing.png'), '--task', 'vqa', '--text', 'q'],
         'image file not found'),
        ([IMG, '--task', 'nope', '--text', 'q'], 'unknown task'),
        ([IMG, '--task', 'vqa', '--text', ''], 'non-empty --text'))}
    for msg, r in run_tools_here(cases).items():
        assert r['code'] == 2 and msg in r['stderr'] and 'Traceback' not in r['stderr']

"""Every CLI entry point that reads images (tools/demo.py, tools/train.py, tools/test.py)
against every kind of image that cannot be decoded or resized: a PNG over OpenCV's 2^30
pixel limit, a truncated JPEG, a 0-byte file, a text file named .jpg, a 3000x1 banner
(a side would resize to 0 pixels); and a GIF, which this OpenCV (5.x) decodes, so it is
accepted.

Under ``on_bad_sample='raise'`` (the fixture config's default) each bad image stops the
run with exit code 2 and one line naming the file, no traceback; under ``'skip'`` the
run goes on and names each skipped file in its log; tools/test.py then predicts the
good samples only (counted in its ``--out`` dump). The demo on a folder names each file
it skips and answers the others.

All runs share one subprocess (tools run as ``__main__``, see ``vlbert_e2e.testing.cli``).
"""
import io
import json
import os
import pickle
import re
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest

from vlbert_e2e.testing import DRIVER, ROOT, huge_png, tool_env

VQA = os.path.join(ROOT, 'tests/data/vqa')
CFG = 'configs/vqa/vlbert-tiny_faster-rcnn-r18-c4_1xb2-2e_vqa-fixture.py'
QUESTION = 'is there a circle?'


def _gif() -> bytes:
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(np.full((64, 80, 3), 200, np.uint8)).save(buf, format='GIF')
    return buf.getvalue()


GOOD_JPG = open(os.path.join(VQA, 'train2014/COCO_train2014_000000000001.jpg'), 'rb').read()
# kind -> (file name for the demo, bytes, what the one line must say; None: accepted)
KINDS = {
    'huge_png': ('huge.png', huge_png, 'image too large to decode and resize in memory'),
    'truncated_jpeg': ('truncated.jpg', lambda: GOOD_JPG[:len(GOOD_JPG) // 2],
                       'truncated JPEG|cannot decode'),
    'zero_bytes': ('empty.jpg', lambda: b'', r'image file is empty \(0 bytes\)'),
    'text_as_jpg': ('notes.jpg', lambda: b'shopping list: eggs, milk\n',
                    r'cannot decode image \(corrupt or not an image\)'),
    'banner_3000x1': ('banner.png', lambda: cv2.imencode('.png', np.zeros((1, 3000), np.uint8))[1]
                      .tobytes(), r'cannot resize image of 3000x1 pixels'),
    'gif': ('picture.gif', _gif, None),
}
BAD = [k for k, v in KINDS.items() if v[2] is not None]


def _image_id(kind):
    return 100 + list(KINDS).index(kind)


def _image_name(kind):
    return f'COCO_train2014_{_image_id(kind):012d}.jpg'


def _write_vqa(root, contents):
    """The fixture's VQA files + one question per kind on its own image; q_all.json
    holds every question, q_<kind>.json only that kind's."""
    shutil.copytree(VQA, root)
    qs = json.load(open(os.path.join(VQA, 'v2_OpenEnded_mscoco_train2014_questions.json')))
    ans = json.load(open(os.path.join(VQA, 'v2_mscoco_train2014_annotations.json')))
    all_q, all_a = list(qs['questions']), list(ans['annotations'])
    for kind, data in contents.items():
        (root / 'train2014' / _image_name(kind)).write_bytes(data)
        i = _image_id(kind)
        q = dict(qs['questions'][2], image_id=i, question_id=i)
        a = dict(ans['annotations'][2], image_id=i, question_id=i)
        _write_split(root, kind, qs, ans, [q], [a])
        all_q.append(q)
        all_a.append(a)
    _write_split(root, 'all', qs, ans, all_q, all_a)


def _write_split(root, name, qs, ans, questions, annotations):
    (root / f'q_{name}.json').write_text(json.dumps(dict(qs, questions=questions)))
    (root / f'a_{name}.json').write_text(json.dumps(dict(ans, annotations=annotations)))


def _data(split, root, name, on_bad):
    d = f'{split}_dataloader.dataset'
    # fp32: mmcv's NMS has no bf16 kernel, and 'auto' turns bf16 on on AMX CPUs
    return ['--cfg-options', '+optim_wrapper.enabled=False',
            f'{d}.data_root={root}/', f'{d}.ann_file=q_{name}.json',
            f'{d}.answer_file=a_{name}.json', f'{d}.pipeline.0.on_bad_sample={on_bad}',
            f'{d}.pipeline.1.on_bad_sample={on_bad}']


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('bad_images')
    contents = {k: make() for k, (_, make, _) in KINDS.items()}
    _write_vqa(tmp / 'vqa', contents)
    (tmp / 'imgs').mkdir()
    (tmp / 'imgs' / 'good.jpg').write_bytes(GOOD_JPG)
    for kind, data in contents.items():
        (tmp / 'imgs' / KINDS[kind][0]).write_bytes(data)
    ckpt = f'{tmp}/w/epoch_1.pth'
    demo = ['--config', CFG, '--checkpoint', ckpt, '--task', 'vqa', '--text', QUESTION,
            '--out-dir', f'{tmp}/demo']
    argvs = {  # in order: the skip run writes the checkpoint the others use
        'train skip': ['tools/train.py', CFG, '--work-dir', f'{tmp}/w']
        + _data('train', tmp / 'vqa', 'all', 'skip')
        + ['train_cfg.max_epochs=1', 'default_hooks.checkpoint.interval=1'],
        'test skip': ['tools/test.py', CFG, ckpt, '--work-dir', f'{tmp}/t', '--out',
                      f'{tmp}/preds.pkl'] + _data('test', tmp / 'vqa', 'all', 'skip'),
        'demo folder': ['tools/demo.py', f'{tmp}/imgs'] + demo,
    }
    for kind in KINDS:
        argvs[f'train raise {kind}'] = (
            ['tools/train.py', CFG, '--work-dir', f'{tmp}/w_{kind}']
            + _data('train', tmp / 'vqa', kind, 'raise') + ['train_cfg.max_epochs=1'])
        argvs[f'test raise {kind}'] = (['tools/test.py', CFG, ckpt, '--work-dir', f'{tmp}/t']
                                       + _data('test', tmp / 'vqa', kind, 'raise'))
        argvs[f'demo {kind}'] = ['tools/demo.py', f'{tmp}/imgs/{KINDS[kind][0]}'] + demo
    r = subprocess.run([sys.executable, '-c', DRIVER, json.dumps(argvs)], cwd=ROOT, env=tool_env(),
                       capture_output=True, text=True, timeout=1200)
    assert 'RESULTS' in r.stdout, r.stderr[-3000:]
    return tmp, json.loads(r.stdout.split('RESULTS', 1)[1])


def _one_error_line(got):
    assert 'Traceback' not in got['stderr'], got['stderr']
    lines = [ln for ln in got['stderr'].splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith('error: '), got['stderr']
    return lines[0]


@pytest.mark.parametrize('tool', ['train', 'test', 'demo'])
@pytest.mark.parametrize('kind', list(KINDS))
def test_each_bad_image_is_one_line_naming_the_file(runs, tool, kind):
    tmp, results = runs
    got = results[f'{tool} raise {kind}' if tool != 'demo' else f'demo {kind}']
    name = KINDS[kind][0] if tool == 'demo' else _image_name(kind)
    if KINDS[kind][2] is None:  # decodable: answered / trained on
        assert got['code'] in (0, None) and 'Traceback' not in got['stderr'], got
        return
    line = _one_error_line(got)
    assert got['code'] == 2, got
    assert re.search(KINDS[kind][2], line) and name in line, line


def test_skip_runs_train_and_test_on_the_good_images(runs):
    tmp, results = runs
    for run in ('train skip', 'test skip'):
        got = results[run]
        assert got['code'] in (0, None) and 'Traceback' not in got['stderr'], got
        for kind in BAD:  # each skipped file is named in the log
            assert _image_name(kind) in got['stdout'], (run, kind, got['stdout'][-2000:])
        assert _image_name('gif') not in got['stdout']
    # the test run predicted the 6 fixture questions + the GIF's, no bad one, none twice
    with open(tmp / 'preds.pkl', 'rb') as f:
        preds = pickle.load(f)
    qids = sorted(p['question_id'] for p in preds)
    assert qids == [10, 11, 20, 21, 30, 31, _image_id('gif')]


def test_demo_on_a_folder_names_each_skipped_file_and_answers_the_rest(runs):
    tmp, results = runs
    got = results['demo folder']
    assert got['code'] in (0, None) and 'Traceback' not in got['stderr'], got
    lines = [ln for ln in got['stderr'].splitlines() if ln.strip()]
    assert len(lines) == len(BAD) and all(ln.startswith('skipped: ') for ln in lines), lines
    for kind in BAD:
        assert any(KINDS[kind][0] in ln for ln in lines), (kind, lines)
    answered = [ln for ln in got['stdout'].splitlines() if "{'answer'" in ln]
    assert sorted(os.path.basename(ln.split(':')[0]) for ln in answered) == [
        'good.jpg', 'picture.gif']

"""The raw-image inferencer and tools/demo.py: each task, each bad input, batches, the
config's pipeline, the model left as it was, the batch path of the demo."""
import json
import os
import runpy

import cv2
import numpy as np
import pytest
import torch

from vlbert_e2e.apis import InferenceError, UnreadableImageError, VLBertInferencer
from vlbert_e2e.testing import ROOT, TINY_VL_CFG
from vlbert_e2e.testing.cli import run_tools_here
from vlbert_e2e.utils import CheckpointError

IMG = os.path.join(ROOT, 'tests/data/cc/images/000001.jpg')
FOLDER = os.path.join(ROOT, 'tests/data/cc/images')  # 6 pictures and truncated.jpg
CFG = TINY_VL_CFG  # the config of the session's tiny checkpoint (conftest.py)
# the same model with a VQA test pipeline of its own (scale, max_length): what the
# inferencer must use instead of anything of its own
PIPELINE_CFG = CFG + '''
max_length = {max_length}
test_dataloader = dict(dataset=dict(type='VQAv2Dataset', pipeline=[
    dict(type='LoadVLImage', on_bad_sample='raise'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True),
    dict(type='CheckedResize', scale={scale}, keep_ratio=True),
    dict(type='Tokenize', tokenizer=tokenizer, max_length=max_length, mask_as_text_b=True),
    dict(type='PackVLInputs', meta_keys=('img_path', 'gt_answers'), task_keys=('x', )),
]))
'''
LONG_QUESTION = 'is there a red circle to the left of the small blue square in the picture?'


@pytest.fixture(scope='module')
def inf(tiny_vl_checkpoint):
    return VLBertInferencer(*tiny_vl_checkpoint, score_thr=0.0)


@pytest.mark.parametrize('task,text,key', [
    ('vqa', 'what colour is the circle?', 'answer'),
    ('ground', 'the red circle', 'box'),
    ('fill', 'a [MASK] circle on a grey background', 'words'),
    ('detect', None, 'detections'),
])
def test_each_task_on_a_raw_image(inf, task, text, key, tmp_path):
    (r, ) = inf([IMG], task, text)
    assert key in r and r['task'] == task
    assert r['img_shape'] == [96, 128]  # the config's scale (128, 96) on a 128x96 file
    if task == 'vqa':
        assert r['answer'] in ('yes', 'no', '2')
        assert r['tokens'][-3:] == ['[SEP]', '[MASK]', '[SEP]']
    if task == 'ground':
        x1, y1, x2, y2 = r['box']
        assert 0 <= x1 < x2 <= 128 and 0 <= y1 < y2 <= 96  # original image coordinates
    if task == 'fill':
        assert len(r['words']) == 1
    enc = inf.model.region_encoder
    if task != 'detect':  # on a raw picture the RoIs are detections: which ones
        rois = [d for d in r['detections'] if d['roi']]
        assert 0 < len(rois) <= enc.max_det_boxes
        assert all(d['score'] >= enc.det_score_thr for d in rois)
    else:
        assert all('roi' not in d for d in r.get('detections', []))
    out = tmp_path / f'{task}.jpg'
    inf.write_drawing(r, str(out))
    assert out.stat().st_size > 0
    (arr, ) = inf([cv2.imread(IMG)], task, text)  # a BGR array answers as its file
    assert arr['image'] == '<array 0>'
    assert {k: v for k, v in arr.items() if k not in ('image', 'timings')} == {
        k: v for k, v in r.items() if k not in ('image', 'timings')}


def test_bad_inputs_raise_clear_errors(inf, tiny_vl_checkpoint, tmp_path):
    cfg, ckpt = tiny_vl_checkpoint
    with pytest.raises(UnreadableImageError, match='not found'):
        inf([str(tmp_path / 'nope.jpg')], 'vqa', 'what?')
    txt = tmp_path / 'notes.jpg'
    txt.write_text('this is not a picture')
    with pytest.raises(UnreadableImageError, match='cannot decode'):
        inf([str(txt)], 'vqa', 'what?')
    with pytest.raises(InferenceError, match=r'\(3, 5\) and dtype uint8 is not an \(H, W, 3\)'):
        inf([np.zeros((3, 5), np.uint8)], 'vqa', 'what?')
    with pytest.raises(InferenceError, match='non-empty --text'):
        inf([IMG], 'vqa', '   ')
    with pytest.raises(InferenceError, match='unknown task'):
        inf([IMG], 'caption', 'x')
    with pytest.raises(InferenceError, match=r'needs \[MASK\]'):
        inf([IMG], 'fill', 'no mask here')
    other = tmp_path / 'other.py'
    other.write_text(CFG.replace('num_answers=3', 'num_answers=5'))
    with pytest.raises(CheckpointError, match=f'checkpoint {ckpt} does not match the model: '
                       r'other shapes: heads.vqa.final_mlp.4.weight \[3, 32\] vs \[5, 32\]'):
        VLBertInferencer(str(other), ckpt)


def _model_state(model):
    """Everything inference could change: weights and buffers, the attributes the
    inferencer sets for a call, every module's train/eval flag."""
    enc = model.region_encoder
    return dict(state={k: v.clone() for k, v in model.state_dict().items()},
                attrs=(model.predict_detections, enc.box_source, enc.proposer,
                       model.heads.vqa.answers, model.heads.mlm.mask_token_id),
                modes=[m.training for m in model.modules()])


def _assert_same_state(before, after):
    assert before['attrs'] == after['attrs']
    assert before['modes'] == after['modes']
    assert before['state'].keys() == after['state'].keys()
    for k, v in before['state'].items():
        assert torch.equal(v, after['state'][k]), k


def test_inference_leaves_the_model_as_it_was(inf):
    """The model's attributes, modes and state dict after each task, after an error in
    the middle of a call and in train mode are what they were before."""
    model = inf.model
    before = _model_state(model)
    assert before['attrs'] == (False, 'given', None, None, None)  # as the config built it
    for task, text in (('vqa', 'what?'), ('ground', 'the circle'), ('fill', 'a [MASK]'),
                       ('detect', None)):
        inf([IMG], task, text, return_attention=task != 'detect')
        _assert_same_state(before, _model_state(model))
    with pytest.raises(UnreadableImageError):  # fails after the first batch ran
        inf([IMG, os.path.join(FOLDER, 'truncated.jpg')], 'vqa', 'what?')
    _assert_same_state(before, _model_state(model))
    model.train()
    try:
        training = _model_state(model)
        inf([IMG], 'vqa', 'what?')
        _assert_same_state(training, _model_state(model))
    finally:
        model.eval()


def test_folder_in_batches_answers_as_one_by_one(inf):
    one = inf(FOLDER, 'vqa', 'how many shapes are there?', on_error='skip')
    three = inf(FOLDER, 'vqa', 'how many shapes are there?', batch_size=3, on_error='skip')
    assert [r['image'] for r in one] == sorted(
        os.path.join(FOLDER, f) for f in os.listdir(FOLDER))
    assert 'cannot decode image' in one[-1]['error'] and 'truncated.jpg' in one[-1]['error']
    assert three[-1] == one[-1]
    for a, b in zip(one[:-1], three[:-1]):
        assert a['answer'] == b['answer'] and a['score'] == pytest.approx(b['score'], abs=1e-4)
    # pictures of one size (no batch padding, which moves the RPN's proposals, as in
    # mmdet): the same detections
    same = [os.path.join(FOLDER, f'00000{i}.jpg') for i in (0, 2, 4)]
    for a, b in zip(inf(same, 'detect'), inf(same, 'detect', batch_size=3)):
        assert a['img_shape'] == [128, 96] and len(a['detections']) == len(b['detections'])
        for x, y in zip(a['detections'], b['detections']):
            assert x['label'] == y['label'] and x['score'] == pytest.approx(y['score'], abs=1e-4)
            assert x['box'] == pytest.approx(y['box'], abs=0.2)


def test_demo_reads_max_length_scale_and_tokenizer_from_the_config(tiny_vl_checkpoint,
                                                                   tmp_path):
    """The config's test pipeline decides what the model reads: a smaller max_length
    truncates the question, another scale changes the resized picture, and the
    config's tokenizer makes the word pieces."""
    _, ckpt = tiny_vl_checkpoint
    demo = runpy.run_path(os.path.join(ROOT, 'tools/demo.py'))
    seen = {}
    for name, max_length, scale in (('a', 32, (128, 96)), ('b', 10, (256, 192))):
        cfg = tmp_path / f'{name}.py'
        cfg.write_text(PIPELINE_CFG.format(max_length=max_length, scale=scale))
        out = tmp_path / name
        assert demo['main']([IMG, '--config', str(cfg), '--checkpoint', ckpt, '--task', 'vqa',
                             '--text', LONG_QUESTION, '--out-dir', str(out)]) == 0
        seen[name] = json.loads((out / '000001.json').read_text())
    a, b = seen['a'], seen['b']
    assert len(b['tokens']) == 10 and len(a['tokens']) > 10
    assert b['tokens'][:4] == a['tokens'][:4] == ['[CLS]', 'is', 'there', 'a']  # MiniLM's
    assert b['tokens'][-3:] == ['[SEP]', '[MASK]', '[SEP]']
    assert a['img_shape'] == [96, 128] and b['img_shape'] == [192, 256]


def test_demo_cli_writes_files_and_fails_in_one_line(tiny_vl_checkpoint, tmp_path, capsys):
    cfg, ckpt = tiny_vl_checkpoint
    base = ['--config', cfg, '--checkpoint', ckpt]
    # as __main__ in this process (tests/test_tools/test_cli_bad_input.py runs a real one)
    r = run_tools_here({'x': ['tools/demo.py'] + base + [
        IMG, '--task', 'vqa', '--text', 'is there a circle?', '--out-dir', str(tmp_path)]})['x']
    assert r['code'] == 0, r['stderr'][-2000:]
    assert json.load(open(tmp_path / '000001.json'))['answer'] in ('yes', 'no', '2')
    assert (tmp_path / '000001.jpg').stat().st_size > 0
    demo = runpy.run_path(os.path.join(ROOT, 'tools/demo.py'))
    capsys.readouterr()
    assert demo['main'](base + [IMG, '--task', 'detect', '--out-dir', str(tmp_path / 'd')]) == 0
    line = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith(IMG)]
    dets = json.load(open(tmp_path / 'd' / '000001.json'))['detections']
    # task detect: the line names the detections, not an empty answer dict
    assert line == [f'{IMG}: {len(dets)} detections' + (': ' + ', '.join(
        f'{d["label"]} {d["score"]:.2f}' for d in dets[:5]) if dets else '') + (
        ', ...' if len(dets) > 5 else '')], line
    good = json.dumps(dict(image=IMG, question='how many?'))
    (tmp_path / 'bad_line.jsonl').write_text(good + '\n{"image": oops}\n')
    (tmp_path / 'no_image.jsonl').write_text(good + '\n\n' + json.dumps(dict(question='q')))
    for name, record in (('blank', dict(image=IMG, question='  ')),
                         ('bogus', dict(image=IMG, question='q', task='bogus')),
                         ('folder', dict(image=str(tmp_path), question='q'))):
        (tmp_path / f'{name}.jsonl').write_text(good + '\n' + json.dumps(record) + '\n')
    for args, msg in (
            (['--questions', str(tmp_path / 'bad_line.jsonl')], 'bad_line.jsonl, line 2: not JSON'),
            (['--questions', str(tmp_path / 'no_image.jsonl')],
             'no_image.jsonl line 3: needs an "image" path'),
            (['--questions', str(tmp_path / 'blank.jsonl')],
             'blank.jsonl line 2: needs a non-empty "question" (or "text")'),
            (['--questions', str(tmp_path / 'bogus.jsonl')],
             "bogus.jsonl line 2: unknown task 'bogus'; choose from"),
            (['--questions', str(tmp_path / 'folder.jsonl')],
             f'folder.jsonl line 2: "image" {tmp_path} is a folder, not an image'),
            ([str(tmp_path / 'missing.png'), '--task', 'vqa', '--text', 'q'],
                       'image file not found'),
                      ([IMG, '--task', 'nope', '--text', 'q'], 'unknown task'),
                      ([IMG, '--task', 'vqa', '--text', ''], 'non-empty --text'),
                      ([IMG, '--text', 'q'], '--task is required'),
                      (['--questions', str(tmp_path / 'no.jsonl')], 'questions file not found')):
        assert demo['main'](base + args) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith('error: ') and msg in err[0], err


def test_demo_batch_path_answers_a_questions_file(tiny_vl_checkpoint, tmp_path):
    """--questions: one process, every record answered and judged, drawings, one
    montage and answers.json; an unreadable picture skipped, a bad record one line."""
    cfg, ckpt = tiny_vl_checkpoint
    demo = runpy.run_path(os.path.join(ROOT, 'tools/demo.py'))
    records = [dict(image=os.path.join(FOLDER, f'00000{i}.jpg'), question='is it a circle?',
                    answer='yes' if i % 2 else 'no') for i in range(5)]
    records += [dict(image=IMG, text='the red circle', task='ground', id='pointing'),
                dict(image=os.path.join(FOLDER, 'truncated.jpg'), question='what?')]
    pairs = tmp_path / 'pairs.jsonl'
    pairs.write_text('\n'.join(json.dumps(r) for r in records))
    out = tmp_path / 'out'
    assert demo['main'](['--questions', str(pairs), '--config', cfg, '--checkpoint', ckpt,
                         '--out-dir', str(out), '--batch-size', '2']) == 0
    got = json.loads((out / 'answers.json').read_text())
    res = got['results']
    assert len(res) == 7 and 'truncated.jpg' in res[6]['error']
    assert [r['truth'] for r in res[:5]] == [r['answer'] for r in records[:5]]
    assert got['judged'] == 5 and got['right'] == sum(r['correct'] for r in res[:5])
    assert all(r['correct'] == (r['answer'] == r['truth']) for r in res[:5])
    assert res[5]['task'] == 'ground' and len(res[5]['box']) == 4
    assert sorted(os.listdir(out)) == sorted(
        ['answers.json', 'montage.jpg', '005_pointing.jpg'] +
        [f'{i:03d}_00000{i}.jpg' for i in range(5)])
    montage = cv2.imread(str(out / 'montage.jpg'))
    cell = cv2.imread(str(out / '000_000000.jpg'))
    assert montage.shape[1] > 3 * 480 and montage.shape[0] > cell.shape[0]  # 4 x 2 grid
    pairs.write_text(json.dumps([dict(image=IMG)]))
    assert demo['main'](['--questions', str(pairs), '--config', cfg, '--checkpoint', ckpt,
                         '--out-dir', str(out)]) == 2


def test_grounding_with_no_region_found_says_so():
    from vlbert_e2e.apis.results import answer_line
    assert answer_line(dict(task='ground', box=None, score=0.0)) == (
        'no region found (the detector found nothing to choose from)')
    assert answer_line(dict(task='ground', box=[1.0, 2.0, 3.0, 4.0], score=0.5)) == (
        'box [1.0, 2.0, 3.0, 4.0] (score 0.500)')

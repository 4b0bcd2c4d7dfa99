"""tools/analysis_tools/roi_threshold.py: the RoI count / recall / precision table by
score threshold (hand-computed), a real model's run, a bad annotation file."""
import json
import os
import sys

import pytest
import torch

from vlbert_e2e.testing import ROOT
from vlbert_e2e.testing.cli import run_tools_here

TOOL = os.path.join(ROOT, 'tools/analysis_tools/roi_threshold.py')
sys.path.insert(0, os.path.join(ROOT, 'tools/analysis_tools'))


def _dets(scores, boxes):
    return (torch.tensor(scores), torch.zeros(len(scores), dtype=torch.long),
            torch.tensor(boxes, dtype=torch.float32))


def test_table_counts_recall_and_precision_by_threshold():
    from roi_threshold import roi_table
    # picture 1: two objects, found at 0.9 and 0.45, and a spurious box at 0.35;
    # picture 2: one object, found at 0.6 (IoU 0.81)
    dets = [_dets([0.9, 0.45, 0.35], [[0, 0, 10, 10], [20, 20, 30, 30], [50, 50, 60, 60]]),
            _dets([0.6], [[1, 1, 10, 10]])]
    truths = [[[0, 0, 10, 10], [20, 20, 30, 30]], [[0, 0, 10, 10]]]
    t = roi_table(dets, truths, (0.3, 0.4, 0.5), None, 6)
    assert t[0.4] == dict(count_exact=100.0, recall=100.0, precision=100.0)
    assert t[0.3] == dict(count_exact=50.0, recall=100.0, precision=75.0)  # 3 RoIs in 1
    assert t[0.5]['count_exact'] == 50.0 and t[0.5]['precision'] == 100.0
    assert t[0.5]['recall'] == pytest.approx(200 / 3)
    # at most 2 RoIs a picture: the spurious third is cut by count, not by score
    assert roi_table(dets, truths, (0.3, ), None, 2)[0.3]['count_exact'] == 100.0


def test_runs_on_a_trained_model_and_refuses_a_bad_annotation_file(tiny_vl_checkpoint,
                                                                     tmp_path):
    cfg, ckpt = tiny_vl_checkpoint
    bad = tmp_path / 'bad.json'
    bad.write_text('{"images": []}')
    empty = tmp_path / 'empty.json'
    empty.write_text('{"images": [], "annotations": []}')
    proposals = tmp_path / 'proposals.py'  # RoIs = RPN proposals by objectness
    proposals.write_text(f"_base_ = [{cfg!r}]\n"
                         "model = dict(region_encoder=dict(det_boxes='proposals'))\n")
    strings = tmp_path / 'strings.json'  # x + w would concatenate: '1' + '3' = '13'
    strings.write_text(json.dumps({'images': [{'id': 1, 'file_name': 'a.jpg'}], 'annotations': [
        {'id': 7, 'image_id': 1, 'bbox': ['1', '2', '3', '4']}]}))
    out = tmp_path / 'table.json'
    data = 'tests/data/refcoco'
    r = run_tools_here({
        'ok': [TOOL, cfg, ckpt, '--ann-file', f'{data}/instances.json', '--img-dir',
               f'{data}/train2014', '--thresholds', '0.0', '1.0', '--out', str(out)],
        'bad': [TOOL, cfg, ckpt, '--ann-file', str(bad)],
        'no pictures': [TOOL, cfg, ckpt, '--ann-file', str(empty)],
        'threshold': [TOOL, cfg, ckpt, '--thresholds', '1.5'],
        'limit': [TOOL, cfg, ckpt, '--limit', '-1'],
        'out is a folder': [TOOL, cfg, ckpt, '--out', str(tmp_path)],
        'bbox': [TOOL, cfg, ckpt, '--ann-file', str(strings)],
        'proposals': [TOOL, str(proposals), ckpt, '--ann-file', f'{data}/instances.json',
                      '--img-dir', f'{data}/train2014'],
    })
    assert r['ok']['code'] == 0, r['ok']['stderr'][-2000:]
    table = json.loads(out.read_text())
    assert table['pictures'] == 4
    # the tiny model's scores are below 1: no RoIs, no exact count (every picture has
    # an object)
    assert table['table']['1.0'] == dict(count_exact=0.0, recall=0.0, precision=None)
    assert table['table']['0.0']['count_exact'] <= 100
    assert 'count exact' in r['ok']['stdout']
    assert r['bad']['code'] == 2
    assert r['bad']['stderr'].strip().splitlines() == [
        f"error: {bad}: not COCO instances JSON (KeyError: 'annotations')"]
    assert r['no pictures']['code'] == 2
    assert r['no pictures']['stderr'].strip() == f'error: {empty}: no pictures'
    # argparse's usage errors: exit 2, the last line names the value
    assert r['threshold']['code'] == 2 and r['threshold']['stderr'].strip().endswith(
        '1.5 is not a score threshold in [0, 1]')
    assert r['limit']['code'] == 2 and r['limit']['stderr'].strip().endswith(
        '-1 is not an integer >= 1')
    # refused before the model loads, not after the table
    assert r['out is a folder']['code'] == 2 and r['out is a folder']['stderr'].strip(
        ).endswith(f'{tmp_path} is a folder, not a file to write')
    assert 'count exact' not in r['out is a folder']['stdout']
    assert r['proposals']['code'] == 2 and "this tool measures det_boxes='detections'" in \
        r['proposals']['stderr'] and len(r['proposals']['stderr'].strip().splitlines()) == 1
    assert r['bbox']['code'] == 2 and r['bbox']['stderr'].strip() == (
        f"error: {strings}: not COCO instances JSON (ValueError: annotation 7: bbox "
        "['1', '2', '3', '4'] is not [x, y, width, height] of finite numbers)")

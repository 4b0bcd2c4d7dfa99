"""tools/analysis_tools/plot_curves.py: MMEngine json logs -> loss / accuracy curves."""
import json
import os
import sys

from vlbert_e2e.testing import ROOT
from vlbert_e2e.testing.cli import run_tools_here

TOOL = os.path.join(ROOT, 'tools/analysis_tools/plot_curves.py')
sys.path.insert(0, os.path.join(ROOT, 'tools/analysis_tools'))


def write_log(path, rows):
    with open(path, 'w') as f:
        f.writelines(json.dumps(r) + '\n' for r in rows)
    return str(path)


def test_training_lines_become_curves_and_validation_lines_are_left_out(tmp_path):
    from plot_curves import load_json_log
    log = write_log(tmp_path / 'scalars.json', [
        dict(lr=1e-4, loss=3.0, loss_vqa=2.0, acc_vqa=0.25, det_acc=60.0, iter=10, step=10),
        dict(lr=1e-4, loss=2.0, loss_vqa=1.5, acc_vqa=0.5, det_acc=80.0, iter=20, step=20),
        {'vqa/accuracy': 55.0, 'step': 20},
    ])
    curves = load_json_log(log)
    assert curves['loss_vqa'] == ([10, 20], [2.0, 1.5])
    assert curves['acc_vqa'] == ([10, 20], [0.25, 0.5])
    assert set(curves) == {'loss', 'loss_vqa', 'acc_vqa', 'det_acc'}


def test_cli_writes_one_png_for_both_stages(tmp_path):
    rows = [dict(loss=2.0 / i, loss_mlm_vl=1.0 / i, acc_mlm_vl=0.1 * i, iter=i) for i in (1, 2)]
    a = write_log(tmp_path / 'a.json', rows)
    b = write_log(tmp_path / 'b.json', rows)
    out = tmp_path / 'curves.png'
    # run as __main__ in this process (see vlbert_e2e.testing.cli)
    r = run_tools_here({'x': [TOOL, a, b, '--titles', 'pretraining', 'fine-tuning',
                              '--out', str(out)]})['x']
    assert r['code'] == 0, r['stderr']
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n' and out.stat().st_size > 10000


def test_cli_bad_log_is_one_line_exit_2(tmp_path):
    bad = tmp_path / 'bad.json'
    bad.write_text('{"loss": 1.0, "iter": 1}\nnot json\n')
    r = run_tools_here({'x': [TOOL, str(bad), '--out', str(tmp_path / 'c.png')]})['x']
    assert r['code'] == 2
    assert r['stderr'].strip().splitlines() == [f'error: {bad}, line 2: not JSON '
                                             f'(Expecting value: line 1 column 1 (char 0))']

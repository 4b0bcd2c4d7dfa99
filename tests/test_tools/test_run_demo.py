"""tools/run_demo.py: the recorded ablation column and --ablation-only's input check."""
import json
import os
import sys

from vlbert_e2e.testing import ROOT
from vlbert_e2e.testing.cli import run_tools_here

TOOL = os.path.join(ROOT, 'tools/run_demo.py')
sys.path.insert(0, os.path.join(ROOT, 'tools'))


def test_recorded_ablation_becomes_a_labelled_column(tmp_path, monkeypatch):
    import run_demo
    rec = tmp_path / 'ablation.json'
    rec.write_text(json.dumps(dict(command='tools/run_demo.py --ablation', iterations=523,
                                   config=run_demo.CFG,
                                   config_digest=run_demo.config_digest(run_demo.CFG),
                                   metrics={'vqa/accuracy': 41.5})))
    monkeypatch.setattr(run_demo, 'ABLATION_RECORD', str(rec))
    rows = {'pretrained + fine-tuned': {'vqa/accuracy': 50.0}}
    run_demo.recorded_ablation(rows)
    assert rows['scratch 523it (recorded)'] == {'vqa/accuracy': 41.5}


def test_record_of_an_edited_config_is_not_shown_as_this_demos_ablation(
        tmp_path, monkeypatch, capsys):
    """Same config path, other content (here: another fine-tuning length)."""
    import run_demo
    digest = run_demo.config_digest(run_demo.CFG)
    edited = tmp_path / 'demo.py'
    edited.write_text(f"_base_ = ['{os.path.join(ROOT, run_demo.CFG)}']\n"
                      "train_cfg = dict(max_iters=7)\n")
    assert run_demo.config_digest(str(edited)) != digest
    assert run_demo.config_digest(run_demo.CFG) == digest  # stable across calls
    rec = tmp_path / 'ablation.json'
    rec.write_text(json.dumps(dict(iterations=523, config=run_demo.CFG,
                                   config_digest='0123456789ab', metrics={})))
    monkeypatch.setattr(run_demo, 'ABLATION_RECORD', str(rec))
    rows = {}
    run_demo.recorded_ablation(rows)
    assert rows == {}
    assert (f'recorded for another version of {run_demo.CFG} (config digest 0123456789ab, '
            f'now {digest})') in capsys.readouterr().out


def test_record_of_another_config_is_not_shown_as_this_demos_ablation(
        tmp_path, monkeypatch, capsys):
    import run_demo
    rec = tmp_path / 'ablation.json'
    rec.write_text(json.dumps(dict(iterations=508, config='configs/demo/old_recipe.py',
                                   metrics={'vqa/accuracy': 60.0})))
    monkeypatch.setattr(run_demo, 'ABLATION_RECORD', str(rec))
    rows = {}
    run_demo.recorded_ablation(rows)
    assert rows == {}
    assert 'recorded for configs/demo/old_recipe.py' in capsys.readouterr().out


def test_missing_record_adds_no_column_and_says_how_to_measure(tmp_path, monkeypatch, capsys):
    import run_demo
    monkeypatch.setattr(run_demo, 'ABLATION_RECORD', str(tmp_path / 'absent.json'))
    rows = {}
    run_demo.recorded_ablation(rows)
    assert rows == {}
    assert 'run tools/run_demo.py --ablation' in capsys.readouterr().out


def test_ablation_only_without_a_finished_run_is_one_line_exit_2(tmp_path):
    # run as __main__ in this process (the usage checks need no fresh interpreter)
    r = run_tools_here({'x': [TOOL, '--ablation-only', '--work-dir', str(tmp_path)]})['x']
    assert r['code'] == 2
    lines = r['stderr'].strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f'error: --ablation-only needs a finished two-stage run in {tmp_path}')


def test_ablation_only_refuses_malformed_records_before_training(tmp_path):
    import pytest
    import run_demo
    (tmp_path / 'test_metrics.json').write_text('{"vqa/accuracy": 50.0}')
    for bad in ('{}', '[]', '{"times": {"fine-tune": 0, "pretrain": 5}, "fine_tune_iters": 300}',
                '{"times": {"fine-tune": "399", "pretrain": 5}, "fine_tune_iters": 300}',
                '{"times": {"fine-tune": 399}, "fine_tune_iters": 300}'):  # no pretraining
        (tmp_path / 'times.json').write_text(bad)
        with pytest.raises(ValueError, match='times.json lacks'):
            run_demo.finished_run(str(tmp_path))
    (tmp_path / 'times.json').write_text(
        '{"times": {"fine-tune": 399.0, "pretrain": 277.0}, "fine_tune_iters": 150}')
    times, iters, rows = run_demo.finished_run(str(tmp_path))
    assert iters == 150 and rows == {'pretrained + fine-tuned': {'vqa/accuracy': 50.0}}
    (tmp_path / 'test_metrics.json').write_text('[1, 2]')
    with pytest.raises(ValueError, match='not a metrics dict'):
        run_demo.finished_run(str(tmp_path))


def test_bad_stage_lengths_are_usage_errors_before_anything_runs():
    """--iters below 1 or --pretrain-iters below 0 exit 2 at once (no pretraining first)."""
    argvs = (['--iters', '-5'], ['--iters', '0'], ['--pretrain-iters', '-1'],
             ['--iters', 'many'])
    results = run_tools_here({' '.join(a): [TOOL] + a for a in argvs})
    for argv in argvs:
        r = results[' '.join(argv)]
        assert r['code'] == 2, argv
        assert r['stderr'].strip().splitlines()[-1].endswith(
            f"{argv[1]} is not an integer >= {0 if argv[0] == '--pretrain-iters' else 1}"
        ), r['stderr']

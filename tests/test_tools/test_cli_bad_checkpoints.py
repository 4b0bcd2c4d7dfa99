"""Checkpoint files at every entry point (issue 14, kind 1).

Every CLI that reads a checkpoint (train --resume PATH / --resume / load_from, test,
demo, the converter's source and --detector, the benchmark), given every kind of bad
file, exits 2 with one line naming the file and what is wrong: no traceback, no advice
to turn the safe load off. Another task's checkpoint is refused by test, demo and
resume (fine-tuning and --partial-load log it instead). A full checkpoint written by
stock MMEngine (its ``HistoryBuffer`` pickled with the statistics methods) resumes and
tests under ``weights_only``.

The files are made once: one subprocess trains the RefCOCO fixture for an epoch with
stock MMEngine pickling and saves the tiny VQA model. Every CLI case then runs in one
driver subprocess (test_cli_bad_input's harness) whose own stderr must stay empty; three
real processes check how the tools end.
"""
import json
import os
import pickletools
import subprocess
import sys
import zipfile

import pytest
import torch

from vlbert_e2e.testing import (
    DRIVER,
    ROOT,
    TINY_TRAIN_CFG,
    capture_logs,
    tiny_original_state_dict,
    tool_env,
)

VQA = 'configs/vqa/vlbert-tiny_faster-rcnn-r18-c4_1xb2-2e_vqa-fixture.py'
REF = 'configs/refcoco/vlbert-tiny_faster-rcnn-r18-c4_1xb4-2e_refcoco-fixture.py'
IMG = 'tests/data/cc/images/000001.jpg'
CONVERTER = 'tools/model_converters/vlbert_original_to_mmengine.py'
BENCH = 'tools/analysis_tools/benchmark.py'
YAML = 'model:\n  type: VLBertE2E\n  heads:\n    - vqa\ntrain:\n  lr: 1.0e-4\n  epochs: 5\n'

# A full checkpoint as stock MMEngine writes it (HistoryBuffer's own __getstate__, which
# pickles its statistics methods as builtins.getattr calls): one epoch of the RefCOCO
# fixture through tools/train.py; and another task's weights: the tiny VQA model's.
WRITER = r'''
import runpy, sys, torch
from mmengine.logging.history_buffer import HistoryBuffer
stock_getstate = HistoryBuffer.__getstate__
import vlbert_e2e.utils.setup_env as setup_env
setup_env.history_buffer_getstate = stock_getstate  # register_all_modules keeps the stock one
from mmengine.config import Config
from mmengine.registry import DefaultScope
from vlbert_e2e.registry import MODELS
ref, vqa, out = sys.argv[1:]
with DefaultScope.overwrite_default_scope('vlbert_e2e'):
    model = MODELS.build(Config.fromfile(vqa).model)
torch.save(dict(meta=dict(dataset_meta=dict(answers=['yes', 'no', '2', '3'])),
                state_dict=model.state_dict()), f'{out}/vqa.pth')
sys.argv = ['tools/train.py', ref, '--work-dir', f'{out}/stock', '--cfg-options',
            'train_cfg.max_epochs=1', 'default_hooks.checkpoint.interval=1']
runpy.run_path('tools/train.py', run_name='__main__')
'''

# kind -> what the one line must say
BAD = {
    'text': 'not a PyTorch checkpoint: a text file beginning',
    'truncated': 'truncated archive',
    'empty': 'an empty file (0 bytes)',
    'zip': 'a zip archive without data.pkl',
    'code': 'refused: its pickle calls posix.system',
    'missing': 'no such file',
    'folder': 'a folder, not a checkpoint file',
}
ENTRY_POINTS = {  # name -> argv, {ckpt} the bad file, {w} a fresh folder
    'train --resume PATH': ['tools/train.py', REF, '--work-dir', '{w}', '--resume', '{ckpt}'],
    'train load_from': ['tools/train.py', REF, '--work-dir', '{w}', '--cfg-options',
                        'load_from={ckpt}'],
    'test': ['tools/test.py', REF, '{ckpt}', '--work-dir', '{w}'],
    'demo': ['tools/demo.py', IMG, '--config', REF, '--checkpoint', '{ckpt}', '--task',
             'ground', '--text', 'the square', '--out-dir', '{w}'],
    'converter': [CONVERTER, '{ckpt}', '{w}/out.pth', '--config', TINY_TRAIN_CFG],
    'converter --detector': [CONVERTER, '{original}', '{w}/out.pth', '--config', TINY_TRAIN_CFG,
                             '--detector', '{ckpt}'],
    'benchmark': [BENCH, REF, '--part', 'inference', '--checkpoint', '{ckpt}'],
}
MISMATCH = 'does not match the model: missing heads.ground.* ('


# Real processes for the three ways a tool ends (sys.exit in train, sys.exit from inside
# MMEngine's runner in test, demo's return code). The driver's own stderr is checked
# empty, so what each case printed there is its whole stderr too; one import of
# torch + mmdet costs ~13 s of CPU, hence not one process per case.
REAL = {
    'train': (['tools/train.py', REF, '--work-dir', '{tmp}/real_w', '--resume',
               '{tmp}/text.pth'], 'not a PyTorch checkpoint'),
    'test: refused inside MMEngine': (['tools/test.py', REF, '{vqa}', '--work-dir',
                                       '{tmp}/real_t'], MISMATCH),
    'demo': (['tools/demo.py', IMG, '--config', REF, '--checkpoint', '{tmp}/code.pth',
              '--task', 'ground', '--text', 'the square'],
             'refused: its pickle calls posix.system'),
}


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}',))


def _make_files(tmp) -> dict:
    """The stock checkpoint, the VQA one, a converter source, one file per bad kind."""
    r = subprocess.run([sys.executable, '-c', WRITER, REF, VQA, str(tmp)], cwd=ROOT,
                       env=dict(tool_env(), OMP_NUM_THREADS='1'), capture_output=True, text=True,
                       timeout=600)
    stock = tmp / 'stock' / 'epoch_1.pth'
    assert r.returncode == 0 and stock.is_file(), r.stdout[-2000:] + r.stderr[-2000:]
    whole = stock.read_bytes()
    (tmp / 'truncated.pth').write_bytes(whole[:min(2 << 20, len(whole) // 2)])
    (tmp / 'text.pth').write_text(YAML)
    (tmp / 'empty.pth').write_bytes(b'')
    (tmp / 'folder.pth').mkdir()  # and no 'missing.pth'
    with zipfile.ZipFile(tmp / 'zip.pth', 'w') as z:
        z.writestr('weights/readme.txt', 'the weights are elsewhere')
    torch.save({'state_dict': {}, 'meta': _RunsCode(tmp / 'pwned')}, tmp / 'code.pth')
    torch.save({'state_dict': tiny_original_state_dict()}, tmp / 'original.model')
    auto = tmp / 'auto'
    auto.mkdir()
    (auto / 'last_checkpoint').write_text(str(tmp / 'code.pth'))
    return dict(stock=str(stock), vqa=str(tmp / 'vqa.pth'), original=str(tmp / 'original.model'),
                auto=str(auto))


def _cases(tmp, files) -> dict:
    cases = {}
    for ep, argv in ENTRY_POINTS.items():
        for kind in BAD:
            name = f'{ep} | {kind}'
            cases[name] = [a.format(ckpt=tmp / f'{kind}.pth', w=tmp / 'w' / name.replace(
                ' ', '_'), **files) for a in argv]
    cases['train --resume (auto) | code'] = ['tools/train.py', REF, '--work-dir', files['auto'],
                                             '--resume']
    stock, vqa, w = files['stock'], files['vqa'], tmp / 'w'
    cases.update({
        'stock: resume': ['tools/train.py', REF, '--work-dir', f'{w}/resume', '--resume', stock,
                          '--cfg-options', 'train_cfg.max_epochs=2', 'train_cfg.val_interval=3'],
        'stock: test': ['tools/test.py', REF, stock, '--work-dir', f'{w}/test'],
        'other task: test': ['tools/test.py', REF, vqa, '--work-dir', f'{w}/x'],
        'other task: test --partial-load': ['tools/test.py', REF, vqa, '--partial-load',
                                            '--work-dir', f'{w}/partial'],
        'other task: demo': ['tools/demo.py', IMG, '--config', REF, '--checkpoint', vqa,
                             '--task', 'ground', '--text', 'the square', '--out-dir', f'{w}/d'],
        'other task: resume': ['tools/train.py', REF, '--work-dir', f'{w}/y', '--resume', vqa],
        'converter: already converted': [CONVERTER, vqa, f'{w}/conv.pth', '--config',
                                         TINY_TRAIN_CFG],
    })
    return cases


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('ckpt')
    files = _make_files(tmp)
    cases = _cases(tmp, files)
    real = {name: subprocess.Popen(  # alongside the driver
        [sys.executable] + [a.format(tmp=tmp, **files) for a in argv], cwd=ROOT,
        env=dict(tool_env(), OMP_NUM_THREADS='1'), stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True) for name, (argv, _) in REAL.items()}
    r = subprocess.run([sys.executable, '-c', DRIVER, json.dumps(cases)], cwd=ROOT,
                       env=dict(tool_env(), OMP_NUM_THREADS='1'), capture_output=True, text=True,
                       timeout=900)
    assert 'RESULTS' in r.stdout, r.stderr[-3000:]
    assert not r.stderr.strip(), r.stderr[-3000:]  # no case wrote around the capture
    real = {name: (p.communicate(timeout=600)[1], p.returncode) for name, p in real.items()}
    return tmp, files, json.loads(r.stdout.split('RESULTS', 1)[1]), real


def _one_line(got) -> str:
    lines = [ln for ln in got['stderr'].splitlines() if ln.strip()]
    assert got['code'] == 2, got
    assert len(lines) == 1 and lines[0].startswith('error: '), got['stderr'][-3000:]
    assert 'weights_only' not in lines[0] and 'Traceback' not in got['stderr']
    return lines[0]


@pytest.mark.parametrize('entry_point', list(ENTRY_POINTS))
def test_every_bad_checkpoint_kind_exits_2_with_one_line(run, entry_point):
    tmp, _, results, _ = run
    for kind, says in BAD.items():
        line = _one_line(results[f'{entry_point} | {kind}'])
        assert f'checkpoint {tmp / kind}.pth: {says}' in line, line
    assert not (tmp / 'pwned').exists()


def test_converter_names_a_checkpoint_that_needs_no_conversion(run):
    _, files, results, _ = run
    line = _one_line(results['converter: already converted'])
    assert f'{files["vqa"]} is already in vlbert_e2e\'s layout' in line, line
    assert 'load it directly' in line


def test_resume_auto_stops_at_a_checkpoint_that_runs_code(run):
    tmp, _, results, _ = run
    line = _one_line(results['train --resume (auto) | code'])
    assert f'{tmp / "code.pth"}: refused: its pickle calls posix.system' in line


def test_another_tasks_checkpoint_is_refused_with_its_key_groups(run):
    _, files, results, _ = run
    for case in ('other task: test', 'other task: demo', 'other task: resume'):
        line = _one_line(results[case])
        assert f'checkpoint {files["vqa"]} {MISMATCH}' in line, line
        assert 'unexpected heads.vqa.* (' in line, line
    assert _one_line(results['other task: test']).endswith(
        ' (--partial-load tests it anyway, logging what is left out)')


def test_partial_load_is_asked_for_and_then_tested(run):
    tmp, _, results, _ = run
    assert results['other task: test --partial-load']['code'] in (0, None), results
    assert (tmp / 'w' / 'partial' / 'test_metrics.json').is_file()


def test_stock_mmengine_checkpoint_resumes_and_tests(run):
    """The file really holds what stock MMEngine writes: HistoryBuffer's statistics
    methods as builtins.getattr calls; it resumes (epoch 2 trained) and tests."""
    tmp, files, results, _ = run
    with zipfile.ZipFile(files['stock']) as z:
        pkl = z.read(next(n for n in z.namelist() if n.endswith('/data.pkl')))
    globals_ = {arg for op, arg, _ in pickletools.genops(pkl) if op.name == 'GLOBAL'}
    assert '__builtin__ getattr' in globals_  # protocol 2 names Python 2's module
    assert 'mmengine.logging.history_buffer HistoryBuffer' in globals_
    assert results['stock: resume']['code'] in (0, None), results['stock: resume']
    assert (tmp / 'w' / 'resume' / 'epoch_2.pth').is_file()
    assert not (tmp / 'w' / 'resume' / 'epoch_1.pth').exists()  # resumed after epoch 1
    assert results['stock: test']['code'] in (0, None), results['stock: test']
    metrics = json.loads((tmp / 'w' / 'test' / 'test_metrics.json').read_text())
    assert metrics and all(0 <= v <= 100 for v in metrics.values())


def test_fine_tuning_load_from_logs_one_line_per_key_group(run):
    """load_from for fine-tuning drops the VQA head and starts the grounding head: each
    group in one logged line, nothing refused."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner
    tmp, files, *_ = run
    cfg = Config.fromfile(os.path.join(ROOT, REF))
    cfg.work_dir, cfg.load_from = str(tmp / 'w' / 'finetune'), files['vqa']
    cfg.default_hooks.checkpoint_keys.partial_load = True  # as tools/train.py sets it
    with DefaultScope.overwrite_default_scope('vlbert_e2e'):
        runner = Runner.from_cfg(cfg)
        with capture_logs() as logs:
            runner.load_or_resume()
    ours = [m for m in logs if m.startswith(f'partial load of {files["vqa"]}')]
    assert [m.split(': ', 1)[1] for m in ours] == [
        'missing from the checkpoint (left as initialised): heads.ground.* (4)',
        'in the checkpoint but not in the model (ignored): heads.vqa.* (4)']


def test_real_stderr_of_the_tools_is_one_line(run):
    *_, real = run
    for name, (err, code) in real.items():
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1, (name, err[-3000:])
        assert lines[0].startswith('error: checkpoint ') and REAL[name][1] in lines[0], err


def test_resume_auto_on_a_first_run_keeps_the_fine_tuning_load_from(tmp_path):
    """--resume in a restart loop: nothing saved yet, so fine-tune from the config's
    load_from (was: dropped, training from random weights); then resume, strictly."""
    import runpy
    train = runpy.run_path(os.path.join(ROOT, 'tools/train.py'))
    pre, work = tmp_path / 'pretrain.pth', tmp_path / 'w'
    torch.save({'state_dict': {}}, pre)
    args = train['parse_args']([REF, '--work-dir', str(work), '--resume', '--cfg-options',
                                f'load_from={pre}'])
    cfg = train['build_cfg'](args)
    assert (cfg.load_from, cfg.resume, cfg.default_hooks.checkpoint_keys.partial_load) == (
        str(pre), False, True)
    work.mkdir()
    torch.save({'state_dict': {}}, work / 'epoch_1.pth')
    cfg = train['build_cfg'](args)
    assert (cfg.load_from, cfg.resume, cfg.default_hooks.checkpoint_keys.partial_load) == (
        str(work / 'epoch_1.pth'), True, False)


def test_keep_initial_with_fsdp_is_refused_in_one_line(tmp_path):
    """keep_initial under FSDP crashed the ranks (test_distributed covers load_from)."""
    import runpy

    import pytest

    from vlbert_e2e.utils.config_checks import ConfigError
    train = runpy.run_path(os.path.join(ROOT, 'tools/train.py'))
    args = train['parse_args']([REF, '--work-dir', str(tmp_path), '--cfg-options',
                                '+strategy.type=FSDPStrategy',
                                'default_hooks.checkpoint_keys.keep_initial=[region_encoder.]'])
    with pytest.raises(ConfigError, match='keep_initial is not supported with the FSDP'):
        train['build_cfg'](args)

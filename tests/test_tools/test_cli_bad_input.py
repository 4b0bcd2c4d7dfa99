"""Bad command lines of every tool that takes paths, task names or config keys: exit
code != 0, a one-line message naming the culprit, no traceback.

The cases run in one subprocess (one start-up of torch/MMEngine): each tool runs as
``__main__`` with its ``sys.argv``; an exception other than ``SystemExit`` escaping it
is exactly what would print a traceback, and is reported as such. One case also runs as
a plain subprocess to check the real stderr.
"""
import json
import os
import shutil
import subprocess
import sys

import pytest

from vlbert_e2e.testing import DRIVER, ROOT, TINY_TRAIN_CFG, tool_env

CFG = os.path.relpath(TINY_TRAIN_CFG, ROOT)
VOCAB = 'tools/dataset_converters/build_vqa_answer_vocab.py'
ORIGINAL = 'tools/model_converters/vlbert_original_to_mmengine.py'
CASES = {
    'train: missing config': (['tools/train.py', 'configs/nope.py'],
                              'config file not found: configs/nope.py'),
    'train: unparsable config': (['tools/train.py', '{tmp}/bad_cfg.py'],
                                 "SyntaxError: '(' was never closed"),
    'train: unknown --cfg-options key': (
        ['tools/train.py', CFG, '--cfg-options', 'model.vl_bert.pretraind=None'],
        'unknown config key model.vl_bert.pretraind; did you mean model.vl_bert.pretrained?'),
    'train: unknown top-level key': (
        ['tools/train.py', CFG, '--cfg-options', 'trian_cfg.max_iters=2'],
        'unknown config key trian_cfg; did you mean train_cfg?'),
    'train: wrong type (int)': (['tools/train.py', CFG, '--cfg-options', 'train_cfg.max_iters=abc'],
                                "train_cfg.max_iters expects int (config: 30), got 'abc'"),
    'train: wrong type (model)': (
        ['tools/train.py', CFG, '--cfg-options', 'model.region_encoder.max_det_boxes=x'],
        'model.region_encoder.max_det_boxes expects int'),
    'train: argument the class does not take': (
        ['tools/train.py', CFG, '--work-dir', '{tmp}/w', '--cfg-options', '+model.vl_bert.foo=1'],
        "unknown config key model.vl_bert.foo: VLBert takes no argument 'foo'"),
    'train: a value the model refuses (ValueError while building)': (
        ['tools/train.py', CFG, '--work-dir', '{tmp}/w', '--cfg-options',
         'model.region_encoder.box_source=givn'],
        "a config value was refused while building: box_source must be one of"),
    'train: missing resume checkpoint': (['tools/train.py', CFG, '--resume', '/no/ckpt.pth'],
                                         'checkpoint /no/ckpt.pth: no such file'),
    'train: bad launcher': (['tools/train.py', CFG, '--launcher', 'mpii'],
                            "argument --launcher: invalid choice: 'mpii'"),
    'test: missing checkpoint': (['tools/test.py', CFG, '/no/such.pth'],
                                 'checkpoint /no/such.pth: no such file'),
    'test: missing config': (['tools/test.py', 'nope.py', '/no/such.pth'],
                             'config file not found: nope.py'),
    'test: unknown key': (['tools/test.py', CFG, '{tmp}/ckpt.pth', '--cfg-options',
                           'test_dataloader.batch_sise=2'], 'unknown config key test_dataloader'),
    'test: bad --out': (['tools/test.py', CFG, '{tmp}/ckpt.pth', '--out', 'x.txt'],
                        '--out must be a .pkl or .pickle file'),
    'demo: missing image': (['tools/demo.py', '/no/img.jpg', '--config', CFG, '--checkpoint',
                             '{tmp}/ckpt.pth', '--task', 'vqa', '--text', 'q'],
                            'image file not found: /no/img.jpg'),
    'demo: blank --text (refused before the model loads)': (
        ['tools/demo.py', '{tmp}/imgs', '--config', CFG, '--checkpoint', '{tmp}/ckpt.pth',
         '--task', 'vqa', '--text', '  '], "task 'vqa' needs a non-empty --text"),
    'demo: bad task': (['tools/demo.py', '/no/img.jpg', '--config', CFG, '--checkpoint',
                        '{tmp}/ckpt.pth', '--task', 'vqaa', '--text', 'q'],
                       "unknown task 'vqaa'; choose from vqa, ground, fill, detect"),
    'demo: --out-dir is the input folder (would overwrite the pictures)': (
        ['tools/demo.py', '{tmp}/one', '--config', CFG, '--checkpoint', '{tmp}/ckpt.pth',
         '--task', 'vqa', '--text', 'q', '--out-dir', '{tmp}/one'],
        'would overwrite an input image; choose another folder'),
    'demo: --out-dir is a file': (
        ['tools/demo.py', '{tmp}/imgs', '--config', CFG, '--checkpoint', '{tmp}/ckpt.pth',
         '--task', 'vqa', '--text', 'q', '--out-dir', '{tmp}/ckpt.pth'],
        'is a file, not a folder'),
    'demo: --show-attention with detect': (
        ['tools/demo.py', '{tmp}/imgs', '--config', CFG, '--checkpoint', '{tmp}/ckpt.pth',
         '--task', 'detect', '--show-attention'], '--show-attention is not for task detect'),
    'demo: --score-thr outside [0, 1]': (
        ['tools/demo.py', '{tmp}/imgs', '--config', CFG, '--checkpoint', '{tmp}/ckpt.pth',
         '--task', 'detect', '--score-thr', '7'], '--score-thr must be in [0, 1], got 7.0'),
    'webui: bad port': (['tools/webui.py', '--config', CFG, '--checkpoint', '{tmp}/ckpt.pth',
                         '--port', '99999'], '--port 99999 is not a TCP port'),
    'model converter: output is the source': (
        [ORIGINAL, '{tmp}/ckpt.pth', '{tmp}/ckpt.pth'], 'is the source checkpoint'),
    'model converter: output named .safetensors': (
        [ORIGINAL, '{tmp}/ckpt.pth', '{tmp}/out.safetensors'], 'give the .pth path'),
    'model converter: output is a folder': (
        [ORIGINAL, '{tmp}/ckpt.pth', '{tmp}/imgs'], 'is a folder; give the output .pth file'),
    'converter: missing annotations': ([VOCAB, '/no/ann.json', '--out', '{tmp}/a.txt'],
                                       'cannot read annotations from /no/ann.json'),
    'converter: output folder is a file': (
        ['tools/dataset_converters/make_shapes_dataset.py', '--out', '{tmp}/ckpt.pth'],
        'cannot create the output folder'),
    'converter: shapes --size too small': (
        ['tools/dataset_converters/make_shapes_dataset.py', '--out', '{tmp}/s', '--size', '2'],
        'argument --size: 2 is not an integer >= 32'),
    'converter: shapes --num-train -1': (
        ['tools/dataset_converters/make_shapes_dataset.py', '--out', '{tmp}/s', '--num-train',
         '-1'], 'argument --num-train: -1 is not an integer >= 1'),
    'analysis: missing results': (['tools/analysis_tools/vcr_joint_accuracy.py', '/no/a.json',
                                   '/no/b.json'], 'cannot read /no/a.json'),
    'analysis: benchmark --steps 0': (['tools/analysis_tools/benchmark.py', '--steps', '0'],
                                      'argument --steps: 0 is not an integer >= 1'),
    'analysis: benchmark --img-size 0 0': (
        ['tools/analysis_tools/benchmark.py', '--img-size', '0', '0'],
        'argument --img-size: 0 is not an integer >= 1'),
    'analysis: benchmark --json is a folder': (
        ['tools/analysis_tools/benchmark.py', '--json', '{tmp}/imgs'],
        'not a file in an existing folder'),
    'analysis: benchmark --device cuda without CUDA': (
        ['tools/analysis_tools/benchmark.py', '--device', 'cuda:0'],
        '--device cuda:0: no CUDA device on this machine (use --device cpu)'),
    'analysis: benchmark --device nonsense': (
        ['tools/analysis_tools/benchmark.py', '--device', 'gpu0'],
        '--device gpu0: not a torch device (cpu, cuda, cuda:N)'),
    'analysis: benchmark missing config': (['tools/analysis_tools/benchmark.py', 'nope.py'],
                                           'config file not found: nope.py'),
    'analysis: benchmark unknown --cfg-options key': (
        ['tools/analysis_tools/benchmark.py', CFG, '--part', 'optimizer', '--cfg-options',
         'modle.vl_bert.pretrained=None'], 'unknown config key modle'),
    'train: --cfg-options item without =': (['tools/train.py', CFG, '--cfg-options', 'foo'],
                                            "--cfg-options takes key=value items, got 'foo'"),
    'test: --cfg-options item without =': (
        ['tools/test.py', CFG, '{tmp}/ckpt.pth', '--cfg-options', 'a=1', 'foo'],
        "--cfg-options takes key=value items, got 'foo'"),
}

@pytest.fixture(scope='module')
def results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('cli')
    (tmp / 'ckpt.pth').write_bytes(b'not read: every case fails before')
    (tmp / 'bad_cfg.py').write_text('model = dict(\n')
    (tmp / 'imgs').mkdir()
    (tmp / 'one').mkdir()
    shutil.copy(os.path.join(ROOT, 'tests/data/vqa/train2014/COCO_train2014_000000000001.jpg'),
                tmp / 'one' / 'x.jpg')
    for name in ('x.jpg', 'x.png'):  # two inputs of one stem
        shutil.copy(os.path.join(ROOT, 'tests/data/vqa/train2014/COCO_train2014_000000000001.jpg'),
                    tmp / 'imgs' / name)
    argvs = {k: [a.format(tmp=tmp) for a in argv] for k, (argv, _) in CASES.items()}
    r = subprocess.run([sys.executable, '-c', DRIVER, json.dumps(argvs)], cwd=ROOT,
                       env=tool_env(), capture_output=True, text=True, timeout=300)
    assert 'RESULTS' in r.stdout, r.stderr[-3000:]
    return json.loads(r.stdout.split('RESULTS', 1)[1])


@pytest.mark.parametrize('case', list(CASES))
def test_bad_command_line_exits_with_one_line(results, case):
    got = results[case]
    lines = [ln for ln in got['stderr'].splitlines()
             if ln.strip() and not ln.startswith('usage:') and not ln.startswith(' ')]
    assert got['code'] not in (0, None), got
    assert 'Traceback' not in got['stderr'], got['stderr']
    assert CASES[case][1] in lines[-1], got['stderr']
    assert len(lines) == 1, got['stderr']


def test_real_stderr_of_a_config_typo_has_no_traceback():
    r = subprocess.run([sys.executable, 'tools/train.py', CFG, '--cfg-options',
                        'model.vl_bert.pretraind=None'], cwd=ROOT, env=tool_env(),
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and 'Traceback' not in r.stderr
    assert r.stderr.strip().splitlines() == [
        'error: unknown config key model.vl_bert.pretraind; did you mean '
        'model.vl_bert.pretrained? (write +model.vl_bert.pretraind=... to add a new key)']


def test_valid_overrides_pass_the_key_check():
    """New keys are fine under a plain dict, for an argument the class takes, or with +."""
    from mmengine.config import Config

    from vlbert_e2e.utils.config_checks import check_cfg_options
    cfg = Config.fromfile(TINY_TRAIN_CFG)
    opts = {'randomness.deterministic': True, 'train_cfg.val_begin': 3,
            'model.vl_bert.config.hidden_dropout_prob': 0.0, 'optim_wrapper.optimizer.lr': 1,
            'model.vl_bert.pretrained': None, 'env_cfg.dist_cfg.backend': 'gloo',
            'train_dataloader.dataset.datasets.0.on_bad_sample': 'raise', '+x.y': 1}
    checked = check_cfg_options(cfg, opts)
    assert 'x.y' in checked and '+x.y' not in checked and len(checked) == len(opts)


def test_demo_output_names_never_collide(tmp_path):
    """x.jpg and x.png in one folder get their own pictures and JSON (x_jpg, x_png)."""
    sys.path.insert(0, os.path.join(ROOT, 'tools'))  # tools/ is not a package
    try:
        from demo import output_stems
    finally:
        sys.path.pop(0)
    files = [str(tmp_path / 'a' / 'x.jpg'), str(tmp_path / 'a' / 'x.png'),
             str(tmp_path / 'a' / 'y.jpg')]
    assert output_stems(files, str(tmp_path / 'out')) == {
        files[0]: 'x_jpg', files[1]: 'x_png', files[2]: 'y'}

"""Training killed with SIGKILL and resumed with --resume repeats the losses of the
uninterrupted run exactly (RNGStateHook + MMEngine's resume)."""
import json
import os
import signal
import subprocess
import sys
import time

from vlbert_e2e.testing import ROOT, TINY_TRAIN_CFG

OPTS = ['train_cfg.max_iters=4', 'default_hooks.checkpoint.interval=2',
        'default_hooks.logger.interval=1', 'log_processor.window_size=1',
        'randomness.seed=3', 'randomness.deterministic=True']


def _train(work, *extra):
    """Start tools/train.py; its output goes to ``<work>.log`` (read with _log)."""
    env = dict(os.environ, HF_HUB_OFFLINE='1', PYTHONWARNINGS='ignore', PYTHONPATH=ROOT,
               OMP_NUM_THREADS='1')
    log = open(f'{work}.log', 'a')
    p = subprocess.Popen([sys.executable, 'tools/train.py', TINY_TRAIN_CFG, '--work-dir',
                          str(work), *extra, '--cfg-options', *OPTS], cwd=ROOT, env=env,
                         stdout=log, stderr=subprocess.STDOUT)
    log.close()
    return p


def _log(work):
    with open(f'{work}.log') as f:
        return f.read()


def _losses(work):
    out = {}
    for run in sorted(os.listdir(work)):
        path = os.path.join(work, run, 'vis_data', 'scalars.json')
        if os.path.isfile(path):
            with open(path) as f:
                for line in f:
                    rec = json.loads(line)
                    out[rec['step']] = {k: v for k, v in rec.items() if k.startswith('loss')}
    return out


def test_sigkill_then_resume_repeats_the_uninterrupted_losses(tmp_path):
    full, killed = tmp_path / 'full', tmp_path / 'killed'
    ref = _train(full)
    victim = _train(killed)
    pointer = killed / 'last_checkpoint'
    deadline = time.time() + 300
    while not (pointer.is_file() and pointer.read_text().endswith('iter_2.pth')):
        assert victim.poll() is None and time.time() < deadline, _log(killed)[-3000:]
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    assert victim.wait() == -signal.SIGKILL
    assert not (killed / 'iter_4.pth').exists()  # killed before the end
    assert ref.wait(timeout=600) == 0, _log(full)[-3000:]

    assert _train(killed, '--resume').wait(timeout=600) == 0, _log(killed)[-3000:]
    assert 'resumed epoch: 0, iter: 2' in _log(killed)
    expected, got = _losses(full), _losses(killed)
    assert sorted(expected) == [1, 2, 3, 4]
    for step in (3, 4):
        assert got[step] == expected[step], step  # exact, term by term

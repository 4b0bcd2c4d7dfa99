"""tools/train.py trains, checkpoints and resumes; checkpoints load weights_only."""
import os
import pickle

import pytest
import torch

from vlbert_e2e.testing import TINY_TRAIN_CFG, run_tools_in_one_process
from vlbert_e2e.utils import register_all_modules

register_all_modules(init_default_scope=False)  # torch.load of MMEngine checkpoints below

OPTS = ['default_hooks.checkpoint.interval=2', 'default_hooks.logger.interval=1']


def test_train_writes_checkpoint_and_resume_continues(tmp_path):
    work = str(tmp_path / 'w')
    train = ['tools/train.py', TINY_TRAIN_CFG, '--work-dir', work]
    runs = run_tools_in_one_process({  # both runs, one start-up
        'train': train + ['--cfg-options', 'train_cfg.max_iters=4'] + OPTS,
        'resume': train + ['--resume', '--cfg-options', 'train_cfg.max_iters=6'] + OPTS})
    assert runs['train']['code'] == 0, runs['train']['stderr'][-3000:]
    assert os.path.isfile(os.path.join(work, 'iter_4.pth'))
    ckpt = torch.load(os.path.join(work, 'iter_4.pth'), map_location='cpu',
                      weights_only=True)
    assert ckpt['meta']['iter'] == 4
    assert any(k.startswith('region_encoder.detector.backbone.') for k in ckpt['state_dict'])
    r = runs['resume']
    assert r['code'] == 0, r['stderr'][-3000:]
    log = r['stdout'] + r['stderr']
    assert 'resumed epoch: 0, iter: 4' in log
    assert 'Iter(train) [5/6]' in log and 'Iter(train) [1/6]' not in log
    assert os.path.isfile(os.path.join(work, 'iter_6.pth'))


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}',))


def test_checkpoint_that_runs_code_is_refused(tmp_path):
    path = tmp_path / 'evil.pth'
    marker = tmp_path / 'pwned'
    torch.save({'state_dict': {}, 'x': _Evil(marker)}, path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)
    assert not marker.exists()


TASKS = {
    'configs/refcoco/vlbert-tiny_faster-rcnn-r18-c4_1xb4-2e_refcoco-fixture.py':
        'refcoco_val/acc@0.5',
    'configs/vcr/vlbert-tiny_faster-rcnn-r18-c4_1xb2-2e_vcr-q2a-fixture.py': 'vcr/q2a',
}


@pytest.fixture(scope='module')
def task_runs(tmp_path_factory):
    """Each task config trained for an epoch, then tested: all in one start-up."""
    argvs, works = {}, {}
    for cfg in TASKS:
        work = works[cfg] = str(tmp_path_factory.mktemp('task'))
        argvs[f'train {cfg}'] = ['tools/train.py', cfg, '--work-dir', work, '--cfg-options',
                                 'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
                                 'default_hooks.checkpoint.interval=1']
        argvs[f'test {cfg}'] = ['tools/test.py', cfg, f'{work}/epoch_1.pth', '--work-dir',
                                work, '--show-dir', 'vis']
    return run_tools_in_one_process(argvs), works


@pytest.mark.parametrize('cfg', TASKS)
def test_tiny_task_configs_train_and_test_through_the_tools(task_runs, cfg):
    runs, works = task_runs
    assert runs[f'train {cfg}']['code'] == 0, runs[f'train {cfg}']['stderr'][-3000:]
    r = runs[f'test {cfg}']
    assert r['code'] == 0, r['stderr'][-3000:]
    assert TASKS[cfg] in r['stdout'] + r['stderr']
    assert len(os.listdir(os.path.join(works[cfg], 'vis'))) > 0

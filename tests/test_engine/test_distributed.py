"""tools/dist_train.sh on CPU: 2 processes (torchrun, gloo) through MMEngine's launcher."""
import os
import socket
import subprocess
import sys

import torch

from vlbert_e2e.testing import ROOT, TINY_TRAIN_CFG
from vlbert_e2e.utils import register_all_modules

register_all_modules(init_default_scope=False)  # torch.load of MMEngine checkpoints below

OPTS = ['env_cfg.dist_cfg.backend=gloo', 'train_cfg.max_iters=2',
        'default_hooks.checkpoint.interval=2', 'default_hooks.logger.interval=1']


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])


def _dist_train(cfg_text, tmp_path, bases=(), opts=()):
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(f'_base_ = {[TINY_TRAIN_CFG, *bases]!r}\n' + cfg_text)
    env = dict(os.environ, PYTHON=sys.executable, PORT=_free_port(), HF_HUB_OFFLINE='1',
               PYTHONPATH=ROOT,
               PYTHONWARNINGS='ignore', OMP_NUM_THREADS='1')
    work = tmp_path / 'w'
    r = subprocess.run(['bash', 'tools/dist_train.sh', str(cfg), '2', '--work-dir', str(work),
                        '--cfg-options'] + OPTS + list(opts), cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    return work


def test_ddp_two_processes_gloo(tmp_path):
    work = _dist_train(
        "custom_imports = dict(imports=['vlbert_e2e.models', 'vlbert_e2e.datasets', "
        "'vlbert_e2e.evaluation', 'vlbert_e2e.engine', 'mmdet.models', 'mmdet.datasets', "
        "'vlbert_e2e.testing.dist_probe'], allow_failed_imports=False)\n"
        "custom_hooks = [dict(type='DistProbeHook')]\n", tmp_path)
    ranks = [torch.load(work / 'probe' / f'rank{r}.pt', weights_only=True) for r in (0, 1)]
    assert [p['world_size'] for p in ranks] == [2, 2]
    # identical parameters on both ranks after 2 DDP steps
    params = [p['params'] for p in ranks]
    assert params[0].keys() == params[1].keys() and len(params[0]) > 100
    assert all(torch.equal(params[0][k], params[1][k]) for k in params[0])
    # the sampler splits each source between the ranks: within one pass over a source
    # of n samples, the first n // 2 each rank sees are disjoint
    for source, n in zip(('image', 'text'), ranks[0]['sizes']):
        firsts = []
        for p in ranks:
            seen = [s for batch in p['seen'] for s in batch if (s[0] == 'text') ==
                    (source == 'text')]
            firsts.append(seen[:n // 2])
        assert len(firsts[0]) == n // 2 and not set(firsts[0]) & set(firsts[1]), firsts
    # rank 0 alone writes checkpoints and logs
    runs = [d for d in os.listdir(work) if d[:8].isdigit()]
    assert len(runs) == 1
    assert sorted(os.listdir(work)) == sorted(['cfg.py', 'iter_2.pth', 'last_checkpoint',
                                               'probe', runs[0]])
    assert sorted(os.listdir(work / runs[0])) == [f'{runs[0]}.log', 'environment.txt',
                                                  'vis_data']  # environment.txt: VLRunner
    assert sorted(f for f in os.listdir(work) if f.endswith('.pth')) == ['iter_2.pth']
    log = (work / runs[0] / f'{runs[0]}.log').read_text()
    env = (work / runs[0] / 'environment.txt').read_text()  # MMEngine's report (VLRunner)
    assert 'Distributed launcher: pytorch' in env and 'Distributed training: True' in env
    assert log.count('Iter(train) [2/2]') == 1


def test_fsdp_switch_trains_on_cpu_with_gloo(tmp_path):
    """configs/_base_/strategies/fsdp.py (FlexibleRunner + FSDPStrategy) on 2 CPU ranks;
    ``device_id='cpu'`` because MMEngine defaults it to the CUDA device LOCAL_RANK."""
    fsdp = os.path.join(ROOT, 'configs/_base_/strategies/fsdp.py')
    work = _dist_train("strategy = dict(model_wrapper=dict(device_id='cpu'))\n", tmp_path,
                       bases=[fsdp])
    runs = [d for d in os.listdir(work) if d[:8].isdigit()]
    log = (work / runs[0] / f'{runs[0]}.log').read_text()
    assert "type='FSDPStrategy'" in log and log.count('Iter(train) [2/2]') == 1
    ckpt = torch.load(work / 'iter_2.pth', map_location='cpu', weights_only=True)
    # full (gathered) state dict with the model's own names, loadable without FSDP
    assert any(k.startswith('vl_bert.') and 'layer.0.' in k for k in ckpt['state_dict'])
    assert not any('_fsdp' in k for k in ckpt['state_dict'])
    assert all(torch.isfinite(v).all() for v in ckpt['state_dict'].values()
               if v.is_floating_point())
    # fine-tuning from it under FSDP: the checkpoint check reads the root wrapper's state
    # dict (the inner model's, before the first forward, made every FSDP unit a root
    # and the load failed)
    (tmp_path / 'ft').mkdir()
    ft = _dist_train("strategy = dict(model_wrapper=dict(device_id='cpu'))\n",
                     tmp_path / 'ft', bases=[fsdp], opts=[f'load_from={work}/iter_2.pth'])
    runs = [d for d in os.listdir(ft) if d[:8].isdigit()]
    log = (ft / runs[0] / f'{runs[0]}.log').read_text()
    assert f'Load checkpoint from {work}/iter_2.pth' in log
    assert log.count('Iter(train) [2/2]') == 1

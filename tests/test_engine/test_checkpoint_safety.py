"""Checkpoints are complete or absent, --resume finds the last complete one, and a
non-finite loss stops training before its state is saved."""
import io
import os
import pickle
import subprocess
import sys
import zipfile

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.logging import MMLogger

from vlbert_e2e.testing import ROOT, TINY_TRAIN_CFG
from vlbert_e2e.utils import atomic_write, find_last_complete_checkpoint

KILLED_WRITER = r'''
import os, sys, time
import vlbert_e2e.utils.checkpoint_files as cf
def stall(fd):
    print('written, not yet renamed', flush=True)
    time.sleep(60)
cf.os.fsync = stall
cf.atomic_write(b'new' * 1000, sys.argv[1])
'''


def test_kill_while_saving_keeps_the_previous_checkpoint(tmp_path):
    path = tmp_path / 'iter_2.pth'
    path.write_bytes(b'old')
    env = dict(os.environ, PYTHONPATH=ROOT)
    p = subprocess.Popen([sys.executable, '-c', KILLED_WRITER, str(path)], cwd=ROOT, env=env,
                         stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == 'written, not yet renamed'
    finally:
        p.kill()
        p.wait()
    assert path.read_bytes() == b'old'
    assert [f.name for f in tmp_path.iterdir() if f.name != 'iter_2.pth'][0].endswith('.tmp')


def test_file_client_notices_are_dropped_only_without_file_client_args():
    """MMEngine's CheckpointHook builds a FileClient even without ``file_client_args``,
    logging that it is deprecated: nothing the user chose, so not shown; a config that
    does pass ``file_client_args`` still hears it."""
    from mmengine.fileio import FileClient

    from vlbert_e2e.engine.hooks.atomic_checkpoint_hook import FILE_CLIENT_NOTICES
    from vlbert_e2e.testing import capture_logs
    from vlbert_e2e.utils.log_filters import held_back_logs
    for drop in (True, False):
        with capture_logs() as logs, held_back_logs(FILE_CLIENT_NOTICES, drop):
            FileClient.infer_client(None, 'work_dirs/x')
            MMLogger.get_current_instance().warning('another warning')
        assert 'another warning' in logs
        assert any('"FileClient" will be deprecated' in m for m in logs) is not drop, logs


def test_resume_auto_skips_truncated_and_missing_checkpoints(tmp_path):
    torch.save({'meta': {'iter': 2}}, tmp_path / 'iter_2.pth')
    torch.save({'meta': {'iter': 4}}, tmp_path / 'iter_4.pth')
    whole = (tmp_path / 'iter_4.pth').read_bytes()
    (tmp_path / 'iter_4.pth').write_bytes(whole[:len(whole) // 2])  # killed mid-write
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_4.pth'))
    assert find_last_complete_checkpoint(str(tmp_path)) == str(tmp_path / 'iter_2.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_6.pth'))  # deleted file
    assert find_last_complete_checkpoint(str(tmp_path)) == str(tmp_path / 'iter_2.pth')
    os.remove(tmp_path / 'iter_2.pth')
    assert find_last_complete_checkpoint(str(tmp_path)) is None


def test_atomic_write_replaces_whole_file_with_normal_permissions(tmp_path):
    atomic_write('a', str(tmp_path / 'f'))
    atomic_write(b'bc', str(tmp_path / 'f'))
    assert (tmp_path / 'f').read_bytes() == b'bc' and os.listdir(tmp_path) == ['f']
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(tmp_path / 'f').st_mode & 0o777 == 0o666 & ~umask


class PoisonMVRCHook(Hook):
    """Sets the MVRC classifier to NaN before iteration ``at`` (0-based), as a bad
    update or corrupt batch would."""

    def __init__(self, at):
        self.at = at

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter == self.at:
            with torch.no_grad():
                runner.model.heads['mvrc'].region_cls_pred.weight.fill_(float('nan'))


def test_nan_loss_stops_training_and_keeps_last_good_checkpoint(tmp_path):
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner

    from vlbert_e2e.engine.hooks import NonFiniteLossError
    cfg = Config.fromfile(TINY_TRAIN_CFG)
    cfg.work_dir = str(tmp_path)
    cfg.merge_from_dict({'train_cfg.max_iters': 4, 'default_hooks.checkpoint.interval': 2,
                         'default_hooks.logger.interval': 1})
    with DefaultScope.overwrite_default_scope('vlbert_e2e'):
        runner = Runner.from_cfg(cfg)
        runner.register_hook(PoisonMVRCHook(at=2))
        with pytest.raises(NonFiniteLossError) as e:
            runner.train()
    msg = str(e.value)
    assert 'iteration 3' in msg and 'loss_mvrc=nan' in msg and '(term: loss_mvrc)' in msg
    assert 'loss_mlm_vl' not in msg  # only the poisoned term is named
    assert str(tmp_path / 'iter_2.pth') in msg
    assert sorted(f for f in os.listdir(tmp_path) if f.endswith('.pth')) == ['iter_2.pth']
    with open(tmp_path / 'last_checkpoint') as f:
        assert f.read() == str(tmp_path / 'iter_2.pth')
    ckpt = torch.load(tmp_path / 'iter_2.pth', map_location='cpu', weights_only=True)
    assert all(torch.isfinite(v).all() for v in ckpt['state_dict'].values()
               if v.is_floating_point())
    assert 'rng_state' in ckpt  # RNGStateHook, on by default


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}',))


def test_mmengine_resume_path_refuses_a_checkpoint_that_runs_code(tmp_path, monkeypatch):
    """Runner.resume / load_checkpoint / load_from read files through MMEngine's
    CheckpointLoader; ours passes weights_only=True even when the environment asks
    torch to default to unsafe loading."""
    from mmengine.runner.checkpoint import _load_checkpoint

    from vlbert_e2e.utils import CheckpointError, register_all_modules
    register_all_modules(init_default_scope=False)  # what tools and default_runtime call
    marker = tmp_path / 'pwned'
    evil = tmp_path / 'evil.pth'
    torch.save({'state_dict': {'w': torch.zeros(1)}, 'meta': _RunsCode(marker)}, evil)
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    with pytest.raises(CheckpointError, match=f'{evil}: refused: its pickle calls posix.system'):
        _load_checkpoint(str(evil), map_location='cpu')
    assert not marker.exists()
    # a real checkpoint of ours still loads on the same path
    torch.save({'state_dict': {'w': torch.zeros(1)}, 'meta': {'iter': 1}}, tmp_path / 'ok.pth')
    assert _load_checkpoint(str(tmp_path / 'ok.pth'))['meta'] == {'iter': 1}


def test_save_safetensors_keeps_tied_weights_and_loads_as_data(tmp_path):
    from safetensors.torch import load_file

    from vlbert_e2e.utils import save_safetensors
    emb = torch.randn(5, 3)
    sd = {'emb.weight': emb, 'decoder.weight': emb, 't': torch.randn(3, 4).t()}
    save_safetensors(sd, str(tmp_path / 'm.safetensors'), metadata={'format': 'pt'})
    back = load_file(str(tmp_path / 'm.safetensors'))
    assert back.keys() == sd.keys() and all(torch.equal(back[k], sd[k]) for k in sd)
    with pytest.raises(TypeError, match='meta'):
        save_safetensors({'meta': 3}, str(tmp_path / 'x.safetensors'))


BAD_FILES = {  # name -> (bytes or a writer, what the one-line error says)
    'text.pth': (b'model:\n  depth: 18\n',
                 "not a PyTorch checkpoint: a text file beginning 'model:'"),
    'page.pth': (b'<!DOCTYPE html>\n<html>sign in</html>',
                 'an HTML page, not a PyTorch checkpoint'),
    'lfs.pth': (b'version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 9\n',
                'a Git LFS pointer, not the checkpoint itself'),
    'empty.pth': (b'', 'an empty file (0 bytes)'),
    'binary.pth': (bytes(range(256)) * 4, 'not a PyTorch checkpoint (unknown format'),
    'plain.pkl': (lambda p: p.write_bytes(pickle.dumps({'w': 1}, protocol=4)),
                  'a plain pickle, not a PyTorch checkpoint'),
    'other.zip': (lambda p: zipfile.ZipFile(p, 'w').close() or _zip(p),
                  'a zip archive without data.pkl'),
    'cut.pth': (lambda p: p.write_bytes(_good_bytes()[:len(_good_bytes()) // 2]),
                'truncated archive'),
    'flipped.pth': (lambda p: p.write_bytes(_flipped(_good_bytes())),
                    'fails its CRC check'),
    'legacy_cut.pth': (lambda p: p.write_bytes(_legacy_bytes()[:len(_legacy_bytes()) // 2]),
                       'truncated: the data ends before the checkpoint does'),
    'tensor.pth': (lambda p: torch.save(torch.zeros(2), p), 'holds a Tensor, not a dict'),
    'getattr.pth': (lambda p: p.write_bytes(_good_bytes({'meta': _GetattrOf()})),
                    "refused: its pickle asks for attribute '__subclasses__' of"),
}


def _zip(p):
    with zipfile.ZipFile(p, 'w') as z:
        z.writestr('weights/notes.txt', 'elsewhere')


def _good_bytes(obj=None) -> bytes:
    buf = io.BytesIO()
    torch.save(obj if obj is not None else {'state_dict': {'w': torch.randn(300, 300)}}, buf)
    return buf.getvalue()


def _legacy_bytes(obj=None) -> bytes:
    buf = io.BytesIO()
    torch.save(obj if obj is not None else {'w': torch.randn(300, 300)}, buf,
               _use_new_zipfile_serialization=False)
    return buf.getvalue()


def _flipped(data: bytes) -> bytes:
    data = bytearray(data)
    data[len(data) // 3] ^= 0xFF  # inside the tensor record
    return bytes(data)


class _GetattrOf:
    """Pickles as ``getattr(HistoryBuffer, '__subclasses__')``: the builtins.getattr
    call a stock MMEngine file makes, aimed at something else."""

    def __reduce__(self):
        from mmengine.logging.history_buffer import HistoryBuffer
        return (getattr, (HistoryBuffer, '__subclasses__'))


@pytest.mark.parametrize('name', list(BAD_FILES))
def test_every_bad_file_is_one_clear_line(tmp_path, name):
    from vlbert_e2e.utils import CheckpointError, load_checkpoint_file
    content, says = BAD_FILES[name]
    path = tmp_path / name
    path.write_bytes(content) if isinstance(content, bytes) else content(path)
    with pytest.raises(CheckpointError) as e:
        load_checkpoint_file(str(path))
    msg = str(e.value)
    assert msg.startswith(f'checkpoint {path}: ') and says in msg, msg
    assert '\n' not in msg and 'weights_only' not in msg


def test_good_files_of_every_format_load(tmp_path):
    from safetensors.torch import save_file

    from vlbert_e2e.utils import load_checkpoint_file
    w = torch.randn(3, 4)
    (tmp_path / 'new.pth').write_bytes(_good_bytes({'state_dict': {'w': w}, 'meta': {'a': 1}}))
    (tmp_path / 'old.pth').write_bytes(_legacy_bytes({'w': w}))
    save_file({'w': w}, str(tmp_path / 'm.safetensors'), metadata={'format': 'pt'})
    assert torch.equal(load_checkpoint_file(str(tmp_path / 'new.pth'))['state_dict']['w'], w)
    assert torch.equal(load_checkpoint_file(str(tmp_path / 'old.pth'))['w'], w)
    st = load_checkpoint_file(str(tmp_path / 'm.safetensors'))
    assert torch.equal(st['state_dict']['w'], w) and st['meta'] == {'format': 'pt'}


def test_resume_auto_names_why_each_file_is_passed_over(tmp_path):
    from vlbert_e2e.testing import capture_logs
    (tmp_path / 'iter_2.pth').write_bytes(_good_bytes())
    (tmp_path / 'iter_4.pth').write_bytes(_good_bytes()[:1000])
    (tmp_path / 'iter_6.pth').write_text('model: x\n')
    _zip(tmp_path / 'iter_8.pth')
    with capture_logs() as logs:
        assert find_last_complete_checkpoint(str(tmp_path)) == str(tmp_path / 'iter_2.pth')
    assert [m.split(': ', 1)[1] for m in logs if m.startswith('skipping')] == [
        'a zip archive without data.pkl, not a PyTorch checkpoint',
        "not a PyTorch checkpoint: a text file beginning 'model: x'",
        'truncated archive: 1,000 bytes and no zip directory at its end '
        '(an interrupted download or save?)']

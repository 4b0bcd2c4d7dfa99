"""VLRunner: MMEngine's start-up report and hook table go to a file, the console gets
one line each."""
import os

from mmengine.config import Config

from vlbert_e2e.engine.runner import VLRunner
from vlbert_e2e.testing import TINY_TRAIN_CFG
from vlbert_e2e.utils import register_all_modules


def test_environment_and_config_go_to_a_file_and_one_line(tmp_path, capsys):
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(TINY_TRAIN_CFG)
    cfg.work_dir = str(tmp_path)
    runner = VLRunner.from_cfg(cfg)
    report = os.path.join(runner.log_dir, 'environment.txt')
    console = capsys.readouterr()
    with open(os.path.join(runner.log_dir, f'{runner.timestamp}.log'), encoding='utf-8') as f:
        log = f.read()
    for shown in (console.out + console.err, log):
        lines = [ln for ln in shown.splitlines() if 'environment and config:' in ln]
        assert len(lines) == 1 and lines[0].endswith(report), lines
        assert 'Python 3.' in lines[0] and 'MMEngine 0.10' in lines[0]
        assert 'System environment' not in shown and 'Config:' not in shown
        # MMEngine's hook-order table (~60 lines): in the file too, one line here
        assert 'Hooks will be executed' not in shown and '(VERY_HIGH   )' not in shown
        hooks = [ln for ln in shown.splitlines() if 'hooks; the order they run in:' in ln]
        assert len(hooks) == 1 and hooks[0].endswith(report), hooks
        assert f'{len(runner.hooks)} hooks' in hooks[0]
    with open(report, encoding='utf-8') as f:
        text = f.read()
    assert 'System environment:' in text and 'Runtime environment:' in text
    assert 'Config:' in text and "type='VLBertE2E'" in text
    assert 'Hooks will be executed in the following order' in text
    assert 'CheckpointHook' in text.split('Hooks will be executed')[1]


def test_metainfo_check_is_a_default_hook_that_reads_the_real_model(tmp_path):
    """VLRunner registers MetainfoCheckHook unless the config drops it; on the tiny
    model (no attribute head) it refuses a dataset with attributes."""
    import pytest

    from vlbert_e2e.engine.hooks import MetainfoCheckHook
    from vlbert_e2e.utils.config_checks import ConfigError
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(TINY_TRAIN_CFG)
    cfg.work_dir = str(tmp_path / 'a')
    runner = VLRunner.from_cfg(cfg)
    hook = [h for h in runner.hooks if isinstance(h, MetainfoCheckHook)]
    assert len(hook) == 1
    hook[0].before_train(runner)  # the fixture's datasets have no attributes
    captions = runner.train_dataloader.dataset.datasets[0]
    captions._metainfo = dict(attributes=('red', 'green'))
    with pytest.raises(ConfigError, match=r'manifest.jsonl\): metainfo.attributes has 2 '
                                          'names but the model has no attribute head'):
        hook[0].before_train(runner)
    cfg.default_hooks['metainfo_check'] = None
    cfg.work_dir = str(tmp_path / 'b')
    assert not any(isinstance(h, MetainfoCheckHook) for h in VLRunner.from_cfg(cfg).hooks)

"""A quiet console (issue 17): one line per model load and one per optimizer build."""
import logging

from mmengine.logging import MMLogger


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def _logged(fn):
    logger = MMLogger.get_current_instance()
    h = _Records()
    logger.addHandler(h)
    try:
        fn()
    finally:
        logger.removeHandler(h)
    return h.lines


def _optim_wrapper_lines(model, constructor):
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import DefaultScope

    import vlbert_e2e.engine  # noqa: F401 (registers)
    cfg = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3),
               paramwise_cfg=dict(bypass_duplicate=True,  # the MLM decoder is tied
                                  custom_keys={'heads.': dict(lr_mult=5.0)}))
    if constructor:
        cfg['constructor'] = constructor
    with DefaultScope.overwrite_default_scope('vlbert_e2e'):
        return _logged(lambda: build_optim_wrapper(model, cfg))


def test_optimizer_build_logs_one_summary_line_not_one_per_parameter():
    from vlbert_e2e.testing import build_tiny_model
    model = build_tiny_model(heads=dict(mlm=dict(type='MLMHead')))
    noisy = _optim_wrapper_lines(model, None)
    assert sum('paramwise_options' in line for line in noisy) >= 10  # MMEngine's default
    quiet = _optim_wrapper_lines(model, 'QuietOptimWrapperConstructor')
    assert not any('paramwise_options' in line for line in quiet), quiet[:5]
    summary = [line for line in quiet if 'parameter tensors at lr' in line]
    assert len(summary) == 1 and 'at lr 0.001' in summary[0] and 'at lr 0.005' in summary[0]
    # the tied MLM decoder: MMEngine warns about it; here the summary names it
    dup = 'heads.mlm.predictions.decoder is duplicate'
    assert any(line.startswith(dup) for line in noisy)
    assert not any(dup in line for line in quiet), quiet
    assert summary[0].endswith('; tied to a tensor above (trained once): '
                               'heads.mlm.predictions.decoder'), summary


def test_pretrained_language_model_load_is_one_line(capfd):
    from mmengine.registry import DefaultScope

    import vlbert_e2e.models  # noqa: F401 (registers)
    from vlbert_e2e.registry import MODELS
    cfg = dict(type='VLBert', pretrained='pkg://minilm-l6', config=dict(num_hidden_layers=3))
    with DefaultScope.overwrite_default_scope('vlbert_e2e'):
        lines = _logged(lambda: MODELS.build(cfg))
    out, err = capfd.readouterr()
    # 3 of MiniLM's 6 layers: transformers would print a 16-row table of unexpected keys
    assert 'LOAD REPORT' not in out + err and 'Loading weights' not in out + err, err[-500:]
    loaded = [line for line in lines if line.startswith('VLBert: loaded pkg://minilm-l6')]
    assert len(loaded) == 1 and 'unexpected keys: 48' in loaded[0], lines

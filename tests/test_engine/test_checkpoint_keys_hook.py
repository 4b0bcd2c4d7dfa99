"""CheckpointKeysHook: ``keep_initial`` (a fine-tuning config can start some modules
afresh from a ``load_from`` checkpoint; what it keeps is logged, the rest is loaded) and
the refusal of a checkpoint that shares no weight with the model."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MMLogger
from torch import nn

from vlbert_e2e.engine.hooks import CheckpointKeysHook
from vlbert_e2e.utils import CheckpointError
from vlbert_e2e.utils.config_checks import ConfigError


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.region_encoder = nn.Linear(3, 2)
        self.vl_bert = nn.Linear(2, 2)


def load(hook, model, checkpoint, resume=False):
    """What MMEngine's Runner.load_checkpoint does: the hook, then a strict load."""
    runner = SimpleNamespace(model=model, _load_from='pre.pth', _resume=resume)
    hook.after_load_checkpoint(runner, checkpoint)
    model.load_state_dict(checkpoint['state_dict'], strict=True)


def test_keep_initial_keeps_the_models_weights_and_loads_the_rest(capsys):
    MMLogger.get_instance('test_keep_initial')
    torch.manual_seed(0)
    model, pretrained = Tiny(), Tiny()
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    checkpoint = {'state_dict': {k: v.clone() for k, v in pretrained.state_dict().items()}}
    checkpoint['state_dict']['heads.mlm.weight'] = torch.zeros(4)  # a dropped head
    load(CheckpointKeysHook(partial_load=True, keep_initial=('region_encoder.',)), model,
         checkpoint)
    for k, v in model.state_dict().items():
        want = initial[k] if k.startswith('region_encoder.') else pretrained.state_dict()[k]
        assert torch.equal(v, want), k
    out = capsys.readouterr().out
    assert 'partial load of pre.pth: region_encoder.* (2 keys) not loaded: kept as ' \
           'initialised (keep_initial)' in out
    # the kept keys are not reported again as missing from the checkpoint
    assert 'missing from the checkpoint' not in out
    assert 'not in the model (ignored): heads.*' in out


def test_keep_initial_refuses_a_prefix_the_model_lacks_and_a_strict_load():
    """A typo is a ConfigError (tools/train.py: one line, exit code 2) before the run
    starts, with or without a checkpoint to load, and again if one is loaded."""
    hook = CheckpointKeysHook(partial_load=True, keep_initial=('detector.',))
    message = r"keep_initial: \['detector.'\] name no weight of the model"
    with pytest.raises(ConfigError, match=message):
        hook.before_run(SimpleNamespace(model=Tiny()))
    with pytest.raises(ConfigError, match=message):
        load(hook, Tiny(), {'state_dict': Tiny().state_dict()})
    with pytest.raises(ConfigError, match='keep_initial needs partial_load'):
        CheckpointKeysHook(keep_initial=('region_encoder.',))
    CheckpointKeysHook(partial_load=True, keep_initial=('region_encoder.',)).before_run(
        SimpleNamespace(model=Tiny()))  # a prefix the model has: no error


def test_a_checkpoint_sharing_no_weight_with_the_model_is_refused_even_partially():
    """Another model's file would load nothing and train from scratch, silently."""
    foreign = {'state_dict': {'a': torch.zeros(1), 'region_encoder.weight': torch.zeros(2, 3)}}
    hook = CheckpointKeysHook(partial_load=True, keep_initial=('region_encoder.',))
    with pytest.raises(CheckpointError, match=r'checkpoint pre.pth shares no weight with the '
                       r'model \(1 keys'):
        load(hook, Tiny(), foreign)


def test_keep_initial_is_not_applied_when_resuming():
    """A resumed run restores every weight it saved, the detector's too."""
    model, saved = Tiny(), Tiny()
    load(CheckpointKeysHook(partial_load=True, keep_initial=('region_encoder.',)), model,
         {'state_dict': {k: v.clone() for k, v in saved.state_dict().items()}}, resume=True)
    for k, v in model.state_dict().items():
        assert torch.equal(v, saved.state_dict()[k]), k

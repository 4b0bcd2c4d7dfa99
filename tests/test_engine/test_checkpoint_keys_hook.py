"""CheckpointKeysHook's ``keep_initial``: a fine-tuning config can start some modules
afresh from a ``load_from`` checkpoint; what it keeps is logged, the rest is loaded."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MMLogger
from torch import nn

from vlbert_e2e.engine.hooks import CheckpointKeysHook


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
    hook = CheckpointKeysHook(partial_load=True, keep_initial=('detector.',))
    with pytest.raises(ValueError, match=r"\['detector.'\] name no weight of the model"):
        load(hook, Tiny(), {'state_dict': Tiny().state_dict()})
    with pytest.raises(ValueError, match='keep_initial needs partial_load'):
        CheckpointKeysHook(keep_initial=('region_encoder.',))


def test_keep_initial_is_not_applied_when_resuming():
    """A resumed run restores every weight it saved, the detector's too."""
    model, saved = Tiny(), Tiny()
    load(CheckpointKeysHook(partial_load=True, keep_initial=('region_encoder.',)), model,
         {'state_dict': {k: v.clone() for k, v in saved.state_dict().items()}}, resume=True)
    for k, v in model.state_dict().items():
        assert torch.equal(v, saved.state_dict()[k]), k

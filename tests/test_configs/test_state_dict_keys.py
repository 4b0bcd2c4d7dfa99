"""Frozen state-dict key lists (issue 15): a restructuring may move code, never a
parameter name, so released checkpoints and the original-checkpoint converter stay valid.

Regenerate after an intended change of layout with
``python tests/test_configs/test_state_dict_keys.py --regen`` and say why in the commit.
"""
import json
import os
import sys

import pytest

from vlbert_e2e.testing import ROOT

KEYS_DIR = os.path.join(ROOT, 'tests/data/state_dict_keys')
# BERT-base sizes, so the base configs build offline without the hub download
BERT_BASE = dict(model_type='bert', hidden_size=768, num_hidden_layers=12,
                 num_attention_heads=12, intermediate_size=3072, vocab_size=30522)
CONFIGS = [
    'vlbert/vlbert-tiny_faster-rcnn-r18-c4_1xb4-30i_cc-text-fixture.py',
    'vqa/vlbert-tiny_faster-rcnn-r18-c4_1xb2-2e_vqa-fixture.py',
    'refcoco/vlbert-tiny_faster-rcnn-r18-c4_1xb4-2e_refcoco-fixture.py',
    'vcr/vlbert-tiny_faster-rcnn-r18-c4_1xb2-2e_vcr-q2a-fixture.py',
    'vqa/vlbert-base_faster-rcnn-r101-c4_8xb32-5e_vqa-v2.py',
    'refcoco/vlbert-base_faster-rcnn-r101-c4_8xb32-20e_refcoco.py',
    'vlbert/vlbert-base-original_faster-rcnn-r101-c4_16xb16-10e_cc-text.py',
    'demo/vlbert-minilm-l3_faster-rcnn-r18-c4_1xb32-600i_shapes.py',
]


def _keys(rel_cfg):
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    import vlbert_e2e.models  # noqa: F401 (registers)
    from vlbert_e2e.registry import MODELS
    cfg = Config.fromfile(os.path.join(ROOT, 'configs', rel_cfg)).model
    if cfg.vl_bert.get('pretrained') not in (None, 'pkg://minilm-l6'):
        cfg.vl_bert.pretrained, cfg.vl_bert.config = None, BERT_BASE
    with DefaultScope.overwrite_default_scope('vlbert_e2e'):
        return sorted(MODELS.build(cfg).state_dict())


def _path(rel_cfg):
    return os.path.join(KEYS_DIR, os.path.basename(rel_cfg)[:-3] + '.json')


@pytest.mark.parametrize('rel_cfg', CONFIGS)
def test_state_dict_keys_are_frozen(rel_cfg):
    with open(_path(rel_cfg)) as f:
        frozen = json.load(f)
    keys = _keys(rel_cfg)
    added, removed = sorted(set(keys) - set(frozen)), sorted(set(frozen) - set(keys))
    assert keys == frozen, f'added {added[:5]}, removed {removed[:5]}'


if __name__ == '__main__' and sys.argv[1:] == ['--regen']:
    for rel in CONFIGS:
        with open(_path(rel), 'w') as f:
            json.dump(_keys(rel), f, indent=0)
        print('wrote', _path(rel))

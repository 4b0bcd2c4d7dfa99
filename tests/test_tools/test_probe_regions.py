"""tools/analysis_tools/probe_regions.py: the linear probe, the RoIs it reads, bad input."""
import os
import sys

import pytest
import torch

from vlbert_e2e.testing import ROOT
from vlbert_e2e.testing.cli import run_tools_in_one_process

TOOL = os.path.join(ROOT, 'tools/analysis_tools/probe_regions.py')
CFG = os.path.join(ROOT, 'configs/vqa/vlbert-tiny_faster-rcnn-r18-c4_1xb2-2e_vqa-fixture.py')
sys.path.insert(0, os.path.join(ROOT, 'tools/analysis_tools'))


def test_ridge_r2_recovers_a_linear_map_and_not_noise():
    from probe_regions import ridge_r2
    g = torch.Generator().manual_seed(0)
    x = torch.randn(300, 8, generator=g)
    y = x @ torch.randn(8, 3, generator=g) + 0.01 * torch.randn(300, 3, generator=g)
    assert ridge_r2(x, y) > 0.99
    # a constant (dead) column and a column that fires on one row change nothing
    dead = torch.cat([x, torch.zeros(300, 1), torch.eye(300)[:, :1] * 1e-3], 1)
    assert ridge_r2(dead, y) > 0.99
    assert ridge_r2(x, torch.randn(300, 3, generator=g)) < 0.05


def test_target_region_is_the_middle_third_of_the_box():
    from probe_regions import _centre_third
    assert _centre_third(torch.tensor([0., 0., 30., 60.])) == (10, 20, 20, 40)
    assert _centre_third(torch.tensor([6., 3., 12., 9.])) == (8, 5, 10, 7)


def test_collect_reads_every_stage_for_each_distinct_roi():
    from mmengine.runner import Runner
    from probe_regions import collect

    from vlbert_e2e.registry import MODELS
    from vlbert_e2e.utils.config_checks import load_config
    from vlbert_e2e.utils.setup_env import register_all_modules
    register_all_modules()
    cfg = load_config(CFG)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    loader = Runner.build_dataloader(dict(cfg.test_dataloader, num_workers=0,
                                          persistent_workers=False))
    vecs = collect(model, loader, batches=-1)
    n = len(vecs['target'])
    assert n > 0
    hidden = model.vl_bert.hidden_size
    assert vecs['roi feature'].shape == (n, model.visual_embedding.appearance_dim)
    for stage in ('visual embedding', 'encoder input', 'encoder output'):
        assert vecs[stage].shape == (n, hidden)
    assert vecs['target'].shape == (n, 3)
    # attention shares: one row per text with object RoIs, one column per layer
    share = vecs['attention']
    assert share.shape[1] == model.vl_bert.bert.config.num_hidden_layers
    assert len(share) > 0 and bool(((share > 0) & (share < 1)).all())
    # the encoder input is read after BERT's embedding LayerNorm (weight 1, bias 0 in a
    # freshly built model): every RoI token has mean 0 and standard deviation 1
    x = vecs['encoder input']
    ln = model.vl_bert.bert.embeddings.LayerNorm
    assert torch.equal(ln.weight, torch.ones_like(ln.weight)) and not ln.bias.any()
    torch.testing.assert_close(x.mean(1), torch.zeros(n), atol=1e-4, rtol=0)
    torch.testing.assert_close(x.std(1, unbiased=False), torch.ones(n), atol=1e-3, rtol=0)


PRETRAIN_CFG = os.path.join(
    ROOT, 'configs/demo/vlbert-minilm-l3_faster-rcnn-r18-c4_1xb16-pretrain_shapes.py')


@pytest.fixture(scope='module')
def cli(tmp_path_factory):
    """Every command line below, run as ``__main__`` in one driver process (one start-up
    of torch + MMEngine instead of six; see ``vlbert_e2e.testing.cli``)."""
    # a pretraining checkpoint has MLM/MVRC heads where the fine-tuning config has others
    from vlbert_e2e.registry import MODELS
    from vlbert_e2e.utils.config_checks import load_config
    from vlbert_e2e.utils.setup_env import register_all_modules
    register_all_modules()
    tmp = tmp_path_factory.mktemp('probe')
    sd = MODELS.build(load_config(CFG).model).state_dict()
    sd['heads.mlm.extra'] = torch.zeros(2)
    ckpt = tmp / 'other_heads.pth'
    torch.save({'state_dict': sd}, ckpt)
    argvs = {
        'missing checkpoint': [TOOL, CFG, str(tmp / 'nope.pth')],
        'no test split': [TOOL, PRETRAIN_CFG, str(tmp / 'x.pth')],
        'batches 0': [TOOL, CFG, 'x.pth', '--batches', '0'],
        'batches -3': [TOOL, CFG, 'x.pth', '--batches', '-3'],
        'other heads, strict': [TOOL, CFG, str(ckpt)],
        'other heads, --partial-load': [TOOL, CFG, str(ckpt), '--partial-load'],
    }
    return tmp, run_tools_in_one_process(argvs, timeout=900)


def test_missing_checkpoint_is_one_line_exit_2(cli):
    tmp, results = cli
    r = results['missing checkpoint']
    assert r['code'] == 2
    lines = r['stderr'].strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: ') and str(tmp / 'nope.pth') in lines[0]


def test_config_without_a_test_split_and_bad_batches_are_refused(cli):
    _, results = cli
    r = results['no test split']
    assert r['code'] == 2
    assert r['stderr'].strip().splitlines() == [f'error: {PRETRAIN_CFG} has no test_dataloader '
                                                'to read RoIs from']
    for bad in ('0', '-3'):
        r = results[f'batches {bad}']
        assert r['code'] == 2 and 'give a positive number, or -1 for all' in r['stderr']


def test_partial_load_probes_a_checkpoint_of_another_head_set(cli):
    _, results = cli
    strict = results['other heads, strict']
    assert strict['code'] == 2 and '--partial-load probes it anyway' in strict['stderr']
    partial = results['other heads, --partial-load']
    # loaded; the fixture's six questions hold too few RoIs for the regression
    assert partial['code'] == 2, partial['stderr']
    assert partial['stderr'].strip().splitlines()[-1] == (
        'error: fewer than 20 RoIs found; more --batches?')

"""Issue 17 item 4: ``one_res5_pass`` pools the VL RoIs and the detector's sampled RoIs
through one res5 (shared head) call; with eval-mode BatchNorm it equals two passes."""
import torch

from vlbert_e2e.testing import batch, build_tiny_model, make_sample

HEADS = dict(mlm=dict(type='MLMHead'))


def _step(model, samples, one_pass):
    """Region features, detector losses and the res5 call count of one training step
    (BatchNorm in eval mode, the sampler's randomness seeded)."""
    enc = model.region_encoder
    enc.one_res5_pass = one_pass
    calls = []
    hook = enc.roi_head.shared_head.register_forward_hook(
        lambda m, a, o: calls.append(a[0].shape[0]))
    model.train()
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.eval()
    data = batch(model, samples)
    torch.manual_seed(0)
    region = enc(data['inputs']['imgs'], data['data_samples'])
    hook.remove()
    return region, calls


def test_one_res5_pass_equals_two_passes_with_eval_bn():
    model = build_tiny_model(heads=HEADS, det_loss_weight=1.0)
    samples = [make_sample(96, 128, boxes=[[5, 5, 60, 60], [30, 20, 90, 80]], seed=8, gt=True),
               make_sample(96, 128, boxes=[[0, 0, 40, 50]], seed=9)]  # no detector gt
    two, two_calls = _step(model, samples, one_pass=False)
    one, one_calls = _step(model, samples, one_pass=True)
    assert len(two_calls) == 2 and len(one_calls) == 1
    assert one_calls[0] == sum(two_calls) == 5 + two_calls[1]  # 3 + 2 VL RoIs, sampled
    for a, b in zip(two.feats, one.feats):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    assert one.det_losses.keys() == two.det_losses.keys()
    for k, v in two.det_losses.items():
        torch.testing.assert_close(one.det_losses[k], v, rtol=1e-4, atol=1e-5)
    loss = sum(one.det_losses['det_loss_rpn_cls']) + one.det_losses['det_loss_cls'] + sum(
        f.sum() for f in one.feats)
    loss.backward()  # both sets of RoIs reach res5's weights through the one call
    assert model.region_encoder.roi_head.shared_head.layer4[0].conv1.weight.grad is not None

"""The detector's attribute head (BUTD): hand-computed loss, its wiring into the region
encoder (distribution per RoI, loss on the given RoIs, masked ones excepted), learning,
and the object tags that read it."""
import math

import pytest
import torch

from vlbert_e2e.models.region_encoders.attribute_head import RoIAttributeHead
from vlbert_e2e.models.vl_bert import ObjectTagEmbedding
from vlbert_e2e.testing import batch, build_tiny_model, capture_logs, make_sample

HEADS = dict(mlm=dict(type='MLMHead'))


def test_loss_is_softmax_cross_entropy_over_the_labelled_rows():
    head = RoIAttributeHead(8, 4, loss_weight=2.0)
    logits = torch.tensor([[2., 0., 0., 0.], [0., 0., 0., 0.], [5., 5., 5., 5.]],
                          requires_grad=True)
    targets = torch.tensor([[1., 0., 0., 0.],   # one attribute
                            [1., 1., 0., 0.],   # two: each half the target
                            [0., 0., 0., 0.]])  # unlabelled: no loss
    z = math.log(math.exp(2) + 3)
    row0 = -(2 - z)
    row1 = -(0.5 * -math.log(4) + 0.5 * -math.log(4))
    loss = head.loss(logits, targets)
    assert loss.item() == pytest.approx(2.0 * (row0 + row1) / 2, rel=1e-6)
    none = head.loss(logits, torch.zeros_like(targets))
    none.backward()
    assert none.item() == 0.0 and logits.grad is not None
    with pytest.raises(ValueError, match='num_attributes'):
        RoIAttributeHead(8, 0)


def _sample(attrs, masked=(False, False), seed=3):
    img, s = make_sample(96, 128, boxes=[[5, 5, 40, 40], [50, 20, 120, 90]], masked=list(masked),
                         seed=seed, gt=True)
    s.gt_rois.attributes = torch.tensor(attrs, dtype=torch.float32)
    return img, s


def test_region_encoder_gives_every_roi_a_distribution_and_learns_the_given_ones():
    torch.manual_seed(0)
    model = build_tiny_model(heads=HEADS, det_loss_weight=1.0,
                             attribute_head=dict(num_attributes=3))
    sample = _sample([[0., 1., 0.], [0., 0., 1.]])
    model.eval()
    with torch.no_grad():
        out = model(**batch(model, [sample], training=False), mode='tensor')
    dist = out.region.attr_dist[0]
    assert dist.shape == (3, 3)  # the whole image + the 2 given RoIs
    torch.testing.assert_close(dist.sum(-1), torch.ones(3))
    model.train()
    opt = torch.optim.Adam(model.region_encoder.attribute_head.parameters(), lr=1e-2)
    first = None
    for _ in range(15):
        losses = model(**batch(model, [sample]), mode='loss')
        loss = losses['det_loss_attr']
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.5 * first


def test_masked_and_unlabelled_rois_give_no_attribute_loss():
    """A masked RoI's pixels are zeroed, so its label is not a target: changing it
    changes nothing; the whole image and unlabelled RoIs never count."""
    model = build_tiny_model(heads=HEADS, attribute_head=dict(num_attributes=3)).train()
    torch.manual_seed(0)
    a = model(**batch(model, [_sample([[1., 0., 0.], [0., 1., 0.]], masked=(False, True))]),
              mode='loss')['det_loss_attr']
    torch.manual_seed(0)
    b = model(**batch(model, [_sample([[1., 0., 0.], [0., 0., 1.]], masked=(False, True))]),
              mode='loss')['det_loss_attr']
    torch.testing.assert_close(a, b)
    torch.manual_seed(0)
    c = model(**batch(model, [_sample([[0., 0., 0.], [0., 0., 0.]])]), mode='loss')
    assert c['det_loss_attr'].item() == 0.0
    # no attribute labels at all (no dataset asked for them): said once, in the log
    bare = make_sample(96, 128, boxes=[[5, 5, 40, 40]], seed=4)
    with capture_logs() as logs:
        for _ in range(2):
            assert model(**batch(model, [bare]), mode='loss')['det_loss_attr'].item() == 0.0
    assert sum('a training batch without attribute labels' in m for m in logs) == 1
    with pytest.raises(ValueError, match='2 attributes per given RoI, but '
                                         'attribute_head.num_attributes is 3'):
        model(**batch(model, [_sample([[0., 1.], [1., 0.]])]), mode='loss')


def test_detached_input_trains_the_classifier_only():
    """``detach_input``: the attribute loss reaches the classifier, not the trunk."""
    for detach in (False, True):
        model = build_tiny_model(heads=HEADS, attribute_head=dict(num_attributes=3,
                                                                  detach_input=detach))
        loss = model.train()(**batch(model, [_sample([[1., 0., 0.], [0., 1., 0.]])]),
                             mode='loss')['det_loss_attr']
        loss.backward()
        res5 = next(model.region_encoder.roi_head.shared_head.parameters()).grad
        assert model.region_encoder.attribute_head.fc.weight.grad.abs().sum() > 0
        assert (res5 is None or res5.abs().sum() == 0) == detach


def test_pooled_feature_reads_the_roi_align_output_before_the_shared_head():
    """``feature='pooled'``: the classifier reads the RoIAlign output (res4 for C4,
    256 channels for ResNet-18) averaged over the RoI; an unknown feature is refused."""
    model = build_tiny_model(heads=HEADS, attribute_head=dict(num_attributes=3,
                                                              feature='pooled')).eval()
    enc = model.region_encoder
    assert enc.attribute_head.fc.in_features == enc.roi_head.bbox_roi_extractor.out_channels
    seen = []
    enc.attribute_head.register_forward_hook(lambda m, a, o: seen.append(a[0]))
    with torch.no_grad():
        data = batch(model, [_sample([[1., 0., 0.], [0., 1., 0.]])], training=False)
        out = model(**data, mode='tensor')
        x = enc.extract_feat(data['inputs']['imgs'])
        from mmdet.structures.bbox import bbox2roi
        want = enc.roi_head.bbox_roi_extractor(x[:1], bbox2roi(out.region.boxes)).mean((2, 3))
    torch.testing.assert_close(seen[0], want)
    with pytest.raises(ValueError, match="attribute_head.feature must be 'appearance' or "
                                         "'pooled', got 'res3'"):
        build_tiny_model(heads=HEADS, attribute_head=dict(num_attributes=3, feature='res3'))


def test_object_tags_add_the_attribute_word_half_and_half():
    """Tag = mean of the class part and the attribute part (BUTD's "green triangle"),
    the attribute part weighted by the foreground probability; [IMG] for background."""
    tags = ObjectTagEmbedding(['circle', 'square'], tokenizer='pkg://minilm-l6',
                              attribute_names=['red', 'green'])
    words = torch.nn.Embedding(30522, 8)
    img = torch.randn(8)
    circle, square = (words.weight[tags.ids[i, 0]] for i in range(2))
    red, green = (words.weight[tags.attr_ids[i, 0]] for i in range(2))
    prob = torch.tensor([[1., 0., 0.], [0.2, 0.4, 0.4]])
    attr = torch.tensor([[0., 1.], [0.5, 0.5]])
    out = tags(prob, words, img, attr_prob=attr)
    torch.testing.assert_close(out[0], 0.5 * (circle + green))
    torch.testing.assert_close(
        out[1], 0.5 * (0.2 * circle + 0.4 * square + 0.6 * (0.5 * red + 0.5 * green))
        + 0.4 * img)
    plain = ObjectTagEmbedding(['circle', 'square'], tokenizer='pkg://minilm-l6')
    torch.testing.assert_close(plain(prob, words, img, attr_prob=attr)[0], circle)


def test_tags_naming_attributes_need_an_attribute_head_of_that_size():
    model = build_tiny_model(heads=HEADS)
    names = ['c%d' % i for i in range(model.region_encoder.roi_head.bbox_head.num_classes)]
    model.vl_bert.object_tags = ObjectTagEmbedding(names, tokenizer='pkg://minilm-l6',
                                                   attribute_names=['red', 'blue'])
    with pytest.raises(ValueError, match=r"attributes \('red', 'blue'\) but the region "
                                         r"encoder predicts no attributes"):
        model._check_object_tags()

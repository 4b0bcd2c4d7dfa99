"""The typed contracts of issue 15: VLDataSample's declared fields and one gt_rois
InstanceData, one token padding table, one "same picture" rule, task routing, heads
built in one phase with only the MLM head tied."""
import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData

from vlbert_e2e.structures import TOKEN_PAD_VALUES, VLDataSample, picture_key
from vlbert_e2e.testing import batch, build_tiny_model, make_sample


def _pack(**results):
    from vlbert_e2e.datasets.transforms import PackVLInputs
    with DefaultScope.overwrite_default_scope('vlbert_e2e'):
        return PackVLInputs()(dict(results))['data_samples']


def test_pack_puts_the_given_rois_and_their_annotations_in_one_instance_data():
    s = _pack(input_ids=[101, 7, 102], gt_bboxes=np.array([[0, 0, 4, 4], [1, 1, 5, 5]],
                                                           np.float32),
              roi_masked=[True, False], roi_mvrc=[True, True], roi_labels=[3, 4],
              task='vqa', img_id=1)
    assert isinstance(s.gt_rois, InstanceData) and len(s.gt_rois) == 2
    assert s.gt_rois.bboxes.shape == (2, 4) and s.gt_rois.bboxes.dtype == torch.float32
    assert s.gt_rois.masked.tolist() == [True, False]
    assert s.gt_rois.mvrc.tolist() == [True, True] and s.gt_rois.labels.tolist() == [3, 4]
    assert s.metainfo['task'] == 'vqa' and 'roi_masked' not in s
    with pytest.raises(ValueError, match="roi_masked has 1 rows for 2 given RoIs .*'x.jpg'"):
        _pack(input_ids=[101], gt_bboxes=np.zeros((2, 4), np.float32), roi_masked=[True],
              img_path='x.jpg')
    assert 'gt_rois' not in _pack(input_ids=[101, 102])


def test_declared_fields_are_typed():
    s = VLDataSample()
    s.input_ids = torch.tensor([101, 102])
    assert 'input_ids' in s and s.keys() == ['input_ids']
    with pytest.raises(AssertionError):
        s.mlm_labels = [1, 2]  # a list is not a Tensor
    with pytest.raises(AssertionError):
        s.gt_rois = torch.zeros(1, 4)  # gt_rois is an InstanceData
    del s.input_ids
    assert 'input_ids' not in s


def test_one_padding_table_for_packing_and_batching():
    from vlbert_e2e.datasets.transforms import formatting
    from vlbert_e2e.models.data_preprocessors import vl_data_preprocessor
    assert formatting.TOKEN_PAD_VALUES is TOKEN_PAD_VALUES
    assert vl_data_preprocessor.TOKEN_PAD_VALUES is TOKEN_PAD_VALUES
    model = build_tiny_model()
    a, b = make_sample(64, 64, n_tokens=6, seed=1), make_sample(64, 64, n_tokens=9, seed=2)
    a[1].text_box_index = torch.ones(6, dtype=torch.long)
    inputs = batch(model, [a, b], training=False)['inputs']
    for field, pad in TOKEN_PAD_VALUES.items():
        pad = model.data_preprocessor.pad_token_id if pad is None else pad
        assert (inputs[field][0, 6:] == pad).all(), field


def test_the_sampler_and_the_model_share_the_same_picture_rule():
    from vlbert_e2e.datasets.samplers.image_grouped_sampler import image_key
    from vlbert_e2e.models.multimodal.batch_layout import distinct_images
    assert picture_key(dict(img_path='a/./b.jpg')) == picture_key(dict(img_path='a/b.jpg'))
    assert picture_key(dict(img_id=7)) == 7 and picture_key({}) is None
    assert image_key(dict(img_path='a/./b.jpg'), 0) == image_key(dict(img_path='a/b.jpg'), 1)
    assert image_key({}, 0) != image_key({}, 1)  # text-only samples stay apart
    img, s = make_sample(32, 32, boxes=[[1, 1, 9, 9]], seed=3)
    t = s.clone()
    s.set_metainfo(dict(img_path='a/./b.jpg'))
    t.set_metainfo(dict(img_path='a/b.jpg'))
    u = s.clone()
    u.set_metainfo(dict(img_path='c.jpg'))  # same pixels, another picture
    assert distinct_images(torch.stack([img, img, img]), [s, t, u]) == ([0, 2], [0, 0, 1])


def test_heads_are_built_once_with_injected_sizes_and_only_mlm_ties():
    from vlbert_e2e.models.heads import MLMHead, VQAHead
    heads = dict(mlm=dict(type='MLMHead'),
                 vqa=dict(type='VQAHead', num_answers=5, classifier_type='mlm'))
    model = build_tiny_model(heads=heads)
    words = model.vl_bert.word_embeddings.weight
    assert model.heads['mlm'].predictions.decoder.weight is words
    assert all(p is not words for p in model.heads['vqa'].parameters())
    assert model.heads['vqa'].final_mlp[0].dense.in_features == model.vl_bert.hidden_size
    with pytest.raises(ValueError, match='needs hidden_size'):
        VQAHead(num_answers=5)
    with pytest.raises(ValueError, match='needs vocab_size'):
        MLMHead(hidden_size=8)


def test_task_key_routes_samples_to_heads():
    heads = dict(vqa=dict(type='VQAHead', num_answers=5),
                 ground=dict(type='GroundingHead'))
    model = build_tiny_model(heads=heads).eval()
    a = make_sample(64, 64, boxes=[[1, 1, 20, 20]], mlm=False, seed=1)
    b = make_sample(64, 64, boxes=[[1, 1, 20, 20]], mlm=False, seed=2)
    for (_, s), task in ((a, 'vqa'), (b, 'ground')):
        s.set_metainfo(dict(task=task))
        s.answer_position = torch.tensor(2)  # both carry a slot; the key decides
    with torch.no_grad():
        a_out, b_out = model(**batch(model, [a, b], training=False), mode='predict')
    assert 'pred_answer_index' in a_out and 'pred_ref_box' not in a_out
    assert 'pred_ref_box' in b_out and 'pred_answer_index' not in b_out


def test_rows_of_one_picture_share_a_pass_only_with_the_same_attribute_labels():
    """A question row carrying attribute labels and an expression row (detector ground
    truth, no labels) of the same picture: the expression row is preferred as the
    representative, so sharing its pass would drop the labels (det_loss_attr 0)."""
    from vlbert_e2e.models.multimodal.batch_layout import distinct_images
    rows = []
    for _ in range(3):
        img, row = make_sample(32, 32, boxes=[[1, 1, 9, 9]], seed=3)
        row.set_metainfo(dict(img_path='a.jpg'))
        rows.append(row)
    question, expression, same_labels = rows
    question.gt_rois.attributes = same_labels.gt_rois.attributes = torch.tensor([[0.0, 1.0]])
    expression.gt_instances = InstanceData(bboxes=torch.tensor([[1.0, 1, 9, 9]]),
                                           labels=torch.tensor([0]))
    keep, where = distinct_images(torch.stack([img, img, img]),
                                  [question, expression, same_labels])
    assert keep == [1, 0] and where == [1, 0, 1]

"""MetainfoCheckHook: datasets whose attribute names do not fit the model are refused
before the first step, naming the dataset and its file; class names are the datasets'
own business (the detector may predict another label set)."""
from types import SimpleNamespace as NS

import pytest
import torch

from vlbert_e2e.engine.hooks import MetainfoCheckHook
from vlbert_e2e.utils.config_checks import ConfigError

CLASSES = ('circle', 'square', 'triangle')
COLOURS = ('red', 'green', 'blue', 'yellow')


def _model(num_attributes=4, tag_attributes=COLOURS):
    """The attributes the hook reads, as VLBertE2E has them."""
    model = torch.nn.Module()
    model.region_encoder = NS(
        roi_head=NS(bbox_head=NS(num_classes=len(CLASSES))),
        attribute_head=None if num_attributes is None else NS(num_attributes=num_attributes))
    model.vl_bert = NS(object_tags=NS(names=CLASSES, attribute_names=tag_attributes))
    return model


def _dataset(name='questions.json', **meta):
    return NS(metainfo=meta, ann_file=name)


def _runner(model, *datasets):
    # ConcatDataset-like: the hook walks .datasets (and .dataset of RepeatDataset)
    loader = NS(dataset=NS(datasets=[NS(dataset=d) for d in datasets]))
    return NS(model=model, train_dataloader=loader, val_dataloader=loader,
              test_dataloader=loader)


def test_matching_names_pass_and_a_corpus_without_names_is_not_compared():
    # the detector's 3 classes against COCO's 80 (the paper's VG detector on RefCOCO)
    runner = _runner(_model(), _dataset(classes=tuple(f'c{i}' for i in range(80)),
                                        attributes=COLOURS), _dataset('corpus.txt'))
    hook = MetainfoCheckHook()
    hook.before_train(runner)
    hook.before_val(runner)
    hook.before_test(runner)


@pytest.mark.parametrize('model, meta, message', [
    (_model(num_attributes=3), dict(attributes=COLOURS),
     "metainfo.attributes has 4 names ('red', 'green', 'blue', 'yellow') but "
     'region_encoder.attribute_head predicts 3'),
    (_model(num_attributes=None, tag_attributes=()), dict(attributes=COLOURS),
     'metainfo.attributes has 4 names but the model has no attribute head'),
    (_model(), dict(attributes=('green', 'red', 'blue', 'yellow')),
     "model.object_tags.attribute_names is ('red', 'green', 'blue', 'yellow') "
     '(the same names in the same order)'),
])
def test_a_mismatch_is_a_config_error_naming_the_dataset_file(model, meta, message):
    runner = _runner(model, _dataset('corpus.txt'), _dataset('refs/instances.json', **meta))
    with pytest.raises(ConfigError, match='refs/instances.json') as e:
        MetainfoCheckHook().before_train(runner)
    assert message in str(e.value)


def test_concat_dataset_of_different_metainfo_is_a_config_error_naming_ignore_keys():
    from mmengine.config import Config
    from mmengine.dataset import BaseDataset
    from mmengine.registry import DATASETS

    from vlbert_e2e.utils.config_checks import explain_config_errors
    member = dict(type=BaseDataset, ann_file='a.json', lazy_init=True)
    for second in (dict(member, metainfo=dict(attributes=COLOURS)),  # key missing in one
                   dict(member, metainfo=dict(classes=CLASSES[:2]))):  # values differ
        cfg = Config(dict(dataset=dict(type='ConcatDataset', lazy_init=True, datasets=[
            dict(member, metainfo=dict(classes=CLASSES)), second])))
        with pytest.raises(ConfigError, match='list the keys that may differ in its '
                                              'ignore_keys') as e, explain_config_errors(cfg):
            DATASETS.build(cfg.dataset)
        assert 'meta information of the' in str(e.value)

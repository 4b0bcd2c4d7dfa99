"""Compare the datasets' attribute names with the model before a run."""
from typing import Iterator

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from vlbert_e2e.registry import HOOKS
from vlbert_e2e.utils.config_checks import ConfigError


def leaf_datasets(dataset) -> Iterator:
    """The datasets inside MMEngine's wrappers (``ConcatDataset.datasets``,
    ``RepeatDataset.dataset``, ...), each leaf once, in order."""
    inner = getattr(dataset, 'datasets', None)
    if inner is None and getattr(dataset, 'dataset', None) is not None:
        inner = [dataset.dataset]
    if inner is None:
        yield dataset
        return
    for d in inner:
        yield from leaf_datasets(d)


@HOOKS.register_module()
class MetainfoCheckHook(Hook):
    """Before training, validation and testing, compare each dataset's
    ``metainfo['attributes']`` (the attribute labels its samples carry, which train the
    detector's attribute head) with the model: the attribute head's ``num_attributes``
    and the object tags' ``attribute_names``, which must be the same names in the same
    order (the tag of attribute ``i`` is the word of name ``i``).

    Class names are not compared: the detector may predict another label set than the
    data's (the paper's Visual Genome detector on COCO's RefCOCO, ``detector_classes``
    in ``vlbert_e2e/utils/class_names.py``), and the datasets that train it check
    their files against the config's ``classes`` themselves. mmdet's
    ``NumClassCheckHook`` assumes the data train the detector, and it knows no
    attributes, so this one is written for this model. Datasets without attributes (a
    text corpus, an evaluation set) are not compared.

    Raises:
        ConfigError: a dataset whose attributes differ in number or order from the
            model's, or that has attributes for a model without an attribute head,
            naming the dataset class and its file.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        """Check the training datasets."""
        self._check(runner, runner.train_dataloader.dataset)

    def before_val(self, runner) -> None:
        """Check the validation datasets."""
        self._check(runner, runner.val_dataloader.dataset)

    def before_test(self, runner) -> None:
        """Check the test datasets."""
        self._check(runner, runner.test_dataloader.dataset)

    def _check(self, runner, dataset) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        attr_head = getattr(getattr(model, 'region_encoder', None), 'attribute_head', None)
        tags = getattr(getattr(model, 'vl_bert', None), 'object_tags', None)
        for d in leaf_datasets(dataset):
            attributes = (getattr(d, 'metainfo', None) or {}).get('attributes')
            if not attributes:  # none (or empty: not read by the datasets either)
                continue
            where = f'{type(d).__name__} ({getattr(d, "ann_file", "")}): metainfo.attributes'
            if attr_head is None:
                raise ConfigError(f'{where} has {len(attributes)} names but the model has no '
                                  'attribute head (set it or drop metainfo.attributes)')
            if attr_head.num_attributes != len(attributes):
                raise ConfigError(f'{where} has {len(attributes)} names {tuple(attributes)} '
                                  'but region_encoder.attribute_head predicts '
                                  f'{attr_head.num_attributes}')
            tag_names = getattr(tags, 'attribute_names', None)
            if tag_names and tuple(tag_names) != tuple(attributes):
                raise ConfigError(f'{where} is {tuple(attributes)} but '
                                  f'model.object_tags.attribute_names is {tuple(tag_names)} '
                                  '(the same names in the same order)')

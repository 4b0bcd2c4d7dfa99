"""Compare the datasets' class and attribute names with the model before a run."""
from typing import Iterator, Optional, Sequence

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
    ``metainfo['classes']`` and ``metainfo['attributes']`` with what the model predicts:
    the detector's box head (``num_classes``), the attribute head (``num_attributes``)
    and the object tags (``names``, ``attribute_names``, which must also be in the
    datasets' order: the tag of label ``i`` is the word of name ``i``).

    mmdet's ``NumClassCheckHook`` does the class count for detectors; it reads every
    module with a ``num_classes`` and would refuse the masked RoI classification head
    (classes + background), and it knows no attributes, so this one is written for
    this model. Datasets without the key (a text corpus) are not compared.

    Raises:
        ConfigError: a dataset whose names differ in number (or, for the object tags,
            in order) from the model's, naming the dataset class and its file.
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
        encoder = getattr(model, 'region_encoder', None)
        bbox_head = getattr(getattr(encoder, 'roi_head', None), 'bbox_head', None)
        attr_head = getattr(encoder, 'attribute_head', None)
        tags = getattr(getattr(model, 'vl_bert', None), 'object_tags', None)
        for d in leaf_datasets(dataset):
            meta = getattr(d, 'metainfo', None) or {}
            where = f'{type(d).__name__} ({getattr(d, "ann_file", "")})'
            classes, attributes = meta.get('classes'), meta.get('attributes')
            if classes is not None:
                _same_count(where, 'classes', classes, 'the detector predicts',
                            getattr(bbox_head, 'num_classes', None))
                _same_order(where, 'classes', classes, 'model.object_tags.names',
                            getattr(tags, 'names', None))
            if attributes is not None:
                _same_count(where, 'attributes', attributes,
                            'region_encoder.attribute_head predicts',
                            None if attr_head is None else attr_head.num_attributes,
                            missing='no attribute head')
                _same_order(where, 'attributes', attributes,
                            'model.object_tags.attribute_names',
                            getattr(tags, 'attribute_names', None) or None)


def _same_count(where: str, key: str, names: Sequence[str], what: str, n: Optional[int],
                missing: Optional[str] = None) -> None:
    if n is None:
        if missing:
            raise ConfigError(f'{where}: metainfo.{key} has {len(names)} names but the '
                              f'model has {missing} (set it or drop metainfo.{key})')
        return
    if n != len(names):
        raise ConfigError(f'{where}: metainfo.{key} has {len(names)} names {tuple(names)} '
                          f'but {what} {n}')


def _same_order(where: str, key: str, names: Sequence[str], what: str,
                model_names: Optional[Sequence[str]]) -> None:
    if model_names is not None and tuple(model_names) != tuple(names):
        raise ConfigError(f'{where}: metainfo.{key} is {tuple(names)} but {what} is '
                          f'{tuple(model_names)} (the same names in the same order)')

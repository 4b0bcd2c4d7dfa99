"""A sampler that keeps the texts of one image together, so one detector pass serves
all of them (``VLBertE2E`` runs its region encoder once per distinct image of a batch).

Written by hand: mmengine's samplers shuffle samples independently, and mmdet's
``GroupMultiSourceSampler`` groups by aspect ratio, not by image.
"""
import math
from collections import defaultdict
from typing import Iterator, List, Optional

import torch
from mmengine.dataset import BaseDataset
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler

from vlbert_e2e.registry import DATA_SAMPLERS
from vlbert_e2e.structures import picture_key


def image_key(info: dict, idx: int):
    """The group of sample ``idx``: its picture (:func:`picture_key`, the definition
    the model's de-duplication uses too); a sample without one is a group of its own."""
    key = picture_key(info)
    return ('image', key) if key is not None else ('text', idx)


@DATA_SAMPLERS.register_module()
class ImageGroupedSampler(Sampler):
    """Yield the samples of each image one after another (images and the samples of
    an image in random order). With batches of a few images' worth of samples, each
    batch holds many texts per image: VQA questions and referring expressions of a
    picture share one detector forward and backward pass.

    Under DDP each rank takes a contiguous share of the epoch's order (the same on
    every rank for a seed), padded as mmengine's ``DefaultSampler`` pads, so every rank
    sees the same number of samples.

    Args:
        dataset: any dataset with ``get_data_info`` (``ConcatDataset`` included).
        shuffle: shuffle images (and samples within an image) every epoch.
        seed: random seed, synchronised across ranks when ``None``.
    """

    def __init__(self, dataset: BaseDataset, shuffle: bool = True,
                 seed: Optional[int] = None) -> None:
        self.rank, self.world_size = get_dist_info()
        self.shuffle = shuffle
        self.seed = sync_random_seed() if seed is None else seed
        self.epoch = 0
        groups = defaultdict(list)
        for i in range(len(dataset)):
            groups[image_key(dataset.get_data_info(i), i)].append(i)
        self.groups: List[List[int]] = list(groups.values())
        self.num_samples = math.ceil(len(dataset) / self.world_size)
        self.total_size = self.num_samples * self.world_size

    def __iter__(self) -> Iterator[int]:
        g = torch.Generator()
        g.manual_seed(self.seed + self.epoch)
        order = torch.randperm(len(self.groups), generator=g).tolist() if self.shuffle \
            else range(len(self.groups))
        indices = []
        for gi in order:
            group = self.groups[gi]
            if self.shuffle:
                group = [group[j] for j in torch.randperm(len(group), generator=g).tolist()]
            indices.extend(group)
        indices = (indices * math.ceil(self.total_size / max(len(indices), 1)))[:self.total_size]
        start = self.rank * self.num_samples
        return iter(indices[start:start + self.num_samples])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Reshuffle for ``epoch`` (called by MMEngine's ``DistSamplerSeedHook``)."""
        self.epoch = epoch

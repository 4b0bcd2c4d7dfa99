"""ImageGroupedSampler: each sample once, the texts of one image contiguous, the ranks
share an epoch."""


class _Infos:
    """A dataset stand-in: sample i shows image ``paths[i]`` (None: text only)."""

    def __init__(self, paths):
        self.paths = paths

    def __len__(self):
        return len(self.paths)

    def get_data_info(self, i):
        return dict(img_path=self.paths[i]) if self.paths[i] else dict(text='t')


PATHS = ['a', 'b', 'a', 'c', None, 'b', 'a', 'c', None, 'd']


def _runs(order):
    """Number of maximal runs of equal images in ``order`` (text-only: own run)."""
    keys = [PATHS[i] or f'text{i}' for i in order]
    return 1 + sum(k != p for k, p in zip(keys[1:], keys))


def test_sampler_yields_each_sample_once_with_images_contiguous():
    from vlbert_e2e.datasets import ImageGroupedSampler
    s = ImageGroupedSampler(_Infos(PATHS), seed=3)
    first = list(s)
    assert sorted(first) == list(range(len(PATHS))) and len(s) == len(PATHS)
    assert _runs(first) == 6  # a, b, c, d and two text-only samples
    assert list(ImageGroupedSampler(_Infos(PATHS), seed=3)) == first  # seeded
    orders = set()
    for epoch in range(1, 6):
        s.set_epoch(epoch)
        order = list(s)
        assert sorted(order) == list(range(len(PATHS))) and _runs(order) == 6
        orders.add(tuple(order))
    assert len(orders) > 1


def test_sampler_splits_an_epoch_between_ranks(monkeypatch):
    from vlbert_e2e.datasets.samplers import image_grouped_sampler as mod
    shares = []
    for rank in range(3):
        monkeypatch.setattr(mod, 'get_dist_info', lambda r=rank: (r, 3))
        shares.append(list(mod.ImageGroupedSampler(_Infos(PATHS), seed=0)))
    assert [len(x) for x in shares] == [4, 4, 4]  # padded to equal length
    assert set().union(*map(set, shares)) == set(range(len(PATHS)))

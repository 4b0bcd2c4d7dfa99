"""Precomputed region features: the bottom-up-attention TSV and .npz readers on fixture
files in the exact formats (tests/data/make_region_features.py), index-and-seek, bad
records, the -prec region encoder by hand, and a -prec VQA model fine-tuned through
tools/train.py and tested through tools/test.py."""
import base64
import csv
import os
import re
import shutil
import tracemalloc

import numpy as np
import pytest
import torch

from vlbert_e2e.datasets.transforms import BadSampleError, LoadRegionFeatures
from vlbert_e2e.datasets.transforms.region_feature_files import BottomUpTSV, read_region_npz
from vlbert_e2e.testing import ROOT, run_tools_in_one_process

FEATURES = os.path.join(ROOT, 'tests/data/vqa/features')
TSV = os.path.join(FEATURES, 'trainval_fixture.tsv')
NPZ = os.path.join(FEATURES, 'npz/{image_id}.npz')
PREC_VQA = os.path.join(ROOT, 'configs/vqa/vlbert-tiny-prec_region-features_1xb2-2e_vqa-fixture.py')


def _tsv_copy(tmp_path, name='f.tsv'):
    path = tmp_path / name
    shutil.copy(TSV, path)
    return str(path)


def _original_read(path):
    """The TSV as its users read it (bottom-up-attention's README, the original VL-BERT):
    csv.DictReader + base64 + np.frombuffer(float32)."""
    out = {}
    with open(path, newline='') as f:
        for row in csv.DictReader(f, delimiter='\t', fieldnames=[
                'image_id', 'image_w', 'image_h', 'num_boxes', 'boxes', 'features']):
            k = int(row['num_boxes'])
            arr = {n: np.frombuffer(base64.b64decode(row[n]), np.float32) for n in
                   ('boxes', 'features')}
            out[row['image_id']] = (int(row['image_w']), int(row['image_h']), k, arr)
    return out


def test_tsv_reader_matches_the_format_and_the_npz(tmp_path):
    path = _tsv_copy(tmp_path)
    with open(path, 'rb') as f:
        assert f.read().count(b'\r\n') == 3  # csv.DictWriter's line ends, as generate_tsv
    reader = BottomUpTSV(path)
    assert len(reader) == 3 and 2 in reader and '2' in reader and 4 not in reader
    for image_id, (w, h, k, arr) in _original_read(path).items():
        rec = reader.get(image_id)
        ref = read_region_npz(NPZ.format(image_id=image_id))
        assert rec.image_wh == ref.image_wh == (w, h)
        assert rec.boxes.shape == (k, 4) and np.array_equal(rec.boxes.ravel(), arr['boxes'])
        assert np.array_equal(rec.features.ravel(), arr['features'])
        assert np.array_equal(rec.boxes, ref.boxes)
        assert np.array_equal(rec.features.ravel(), ref.features.ravel())
        assert ref.cls_prob.shape == (k, 1601) and rec.cls_prob is None
    assert reader.get(3).boxes.shape == (0, 4)  # the image with 0 boxes


def test_index_once_then_seek_only_the_record(tmp_path):
    """A file with a 64 MB junk tail (one line without a newline): the scan holds one
    block at a time, the index is cached beside the file, and a lookup reads exactly
    its line."""
    path = _tsv_copy(tmp_path)
    size = os.path.getsize(path)
    with open(path, 'r+b') as f:
        f.truncate(size + (64 << 20))  # NUL bytes: a line with no image id
    tracemalloc.start()
    first = BottomUpTSV(path, block_size=1 << 20)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert first.bytes_read == size + (64 << 20)
    assert peak < 8 << 20, f'indexing held {peak / 2 ** 20:.1f} MB'
    assert os.path.isfile(path + '.index.npz')

    again = BottomUpTSV(path)  # from the cache: nothing read
    assert again.bytes_read == 0 and len(again) == 3
    rec = again.get(2)
    line2 = open(path, 'rb').read(size).split(b'\n')[1] + b'\n'
    assert again.bytes_read == len(line2)
    assert rec.boxes.shape == (2, 4)

    with open(path, 'ab') as f:  # the file changed: the stale cache is rebuilt
        f.write(b'\n')
    assert BottomUpTSV(path).bytes_read == size + (64 << 20) + 1


def _truncated(tmp_path):
    """The fixture with its last line cut in the middle of the features (no newline),
    as a crashed extraction leaves it; that line is image 3, made to have 2 boxes."""
    src = _original_read(TSV)
    path = tmp_path / 'cut.tsv'
    lines = open(TSV, 'rb').read().split(b'\r\n')[:2]
    w, h = src['3'][:2]
    feats = base64.b64encode(np.ones((2, 2048), np.float32).tobytes())
    boxes = base64.b64encode(np.zeros((2, 4), np.float32).tobytes())
    last = b'\t'.join([b'3', str(w).encode(), str(h).encode(), b'2', boxes, feats])
    path.write_bytes(b'\r\n'.join(lines + [last[:len(last) - 5000]]))
    return str(path)


@pytest.mark.parametrize('case, message', [
    ('truncated', r'cut\.tsv, line 3 \(image_id 3\): features holds \d+ float32 values, '
                  r'not 2 x 2048 \(truncated or malformed record\) \(record 30\)'),
    ('missing', r'image_id 7 not in .*f\.tsv \(record 70\)'),
    ('npz_missing', r'region feature file not found: .*7\.npz \(record 70\)'),
])
@pytest.mark.parametrize('policy', ['raise', 'skip'])
def test_bad_records_name_file_line_and_id(tmp_path, case, message, policy):
    image_id = 3 if case == 'truncated' else 7
    if case == 'npz_missing':
        t = LoadRegionFeatures(npz=NPZ, on_bad_sample=policy)
    else:
        path = _truncated(tmp_path) if case == 'truncated' else _tsv_copy(tmp_path)
        t = LoadRegionFeatures(tsv=path, on_bad_sample=policy)
    results = dict(img_id=image_id, sample_id=image_id * 10)
    if policy == 'raise':
        with pytest.raises(BadSampleError, match=message):
            t(results)
    else:
        assert t(results) is None and t.policy.num_skipped == 1
        assert t(dict(img_id=1, sample_id=10))['region_feats'].shape == (3, 2048)


def test_transform_writes_regions_and_zero_box_images(tmp_path):
    t = LoadRegionFeatures(npz=NPZ)
    r = t(dict(img_id=1, sample_id=10))
    ref = read_region_npz(NPZ.format(image_id=1))
    assert np.array_equal(r['gt_bboxes'], ref.boxes) and r['roi_cls_dist'].shape == (3, 1601)
    assert r['img_shape'] == r['ori_shape'] == (ref.image_wh[1], ref.image_wh[0])
    r3 = LoadRegionFeatures(tsv=_tsv_copy(tmp_path))(dict(img_id=3, sample_id=30))
    assert r3['gt_bboxes'].shape == (0, 4) and r3['region_feats'].shape == (0, 2048)
    with pytest.raises(BadSampleError, match=r'1\.npz: features has shape \[3, 2048\], '
                                             r'expected \(3, 512\) \(record 10\)'):
        LoadRegionFeatures(npz=NPZ, feature_dim=512)(dict(img_id=1, sample_id=10))


def _prec_model(**heads):
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    import vlbert_e2e.models  # noqa: F401
    from vlbert_e2e.registry import MODELS
    cfg = Config.fromfile(PREC_VQA)
    cfg.model.heads = heads or cfg.model.heads
    with DefaultScope.overwrite_default_scope('vlbert_e2e'):
        return MODELS.build(cfg.model)


def _sample(feats, boxes, hw, masked=None, dist=None):
    from vlbert_e2e.structures import VLDataSample
    s = VLDataSample(metainfo=dict(img_shape=hw, ori_shape=hw, sample_id=0))
    from mmengine.structures import InstanceData
    s.region_feats, s.gt_rois = feats, InstanceData(bboxes=boxes)
    if masked is not None:
        s.gt_rois.masked = torch.tensor(masked)
    if dist is not None:
        s.gt_rois.cls_dist = dist
    return s


def test_precomputed_encoder_by_hand():
    """Box 0 = the image, feature = mean of the unmasked box features; masked RoIs take
    object_mask_visual_embedding; a 0-box image is box 0 alone with a zero feature;
    cls_dist = the stored distributions after a zero row."""
    from vlbert_e2e.models.region_encoders import PrecomputedRegionEncoder
    enc = PrecomputedRegionEncoder(feature_dim=8, need_cls_dist=True)
    with torch.no_grad():
        enc.object_mask_visual_embedding.weight.fill_(7.0)
    f = torch.arange(24.).view(3, 8)
    boxes = torch.tensor([[1., 2., 30., 40.], [-5., 0., 10., 10.], [5., 5., 5., 200.]])
    dist = torch.softmax(torch.randn(3, 5), -1)
    s0 = _sample(f, boxes, (50, 60), [False, True, False], dist)
    s1 = _sample(torch.zeros(0, 8), torch.zeros(0, 4), (20, 30), dist=torch.zeros(0, 0))
    out = enc(None, [s0, s1])
    assert out.boxes[0].tolist() == [[0, 0, 59, 49], [1, 2, 30, 40], [0, 0, 10, 10],
                                     [5, 5, 6, 49]]
    torch.testing.assert_close(out.feats[0][0], (f[0] + f[2]) / 2)
    assert out.feats[0][2].eq(7).all() and torch.equal(out.feats[0][1], f[0])
    assert out.masked[0].tolist() == [False, False, True, False]
    assert out.boxes[1].tolist() == [[0, 0, 29, 19]] and not out.feats[1].any()
    assert torch.equal(out.cls_dist[0][1:], dist) and not out.cls_dist[0][0].any()
    assert out.cls_dist[1].shape == (1, 5) and out.img_wh[1].tolist() == [30, 20]


def test_prec_mvrc_targets_and_mask_embedding_gradient():
    """-prec pretraining on the fixture regions: every RoI masked, MVRC against the
    stored cls_prob; the masked-RoI embedding gets a gradient (once the RoI tokens'
    visual LayerNorm gain is not 0)."""
    from mmcv.transforms import Compose

    from vlbert_e2e.datasets.transforms import MaskRoIs, PackVLInputs, Tokenize
    model = _prec_model(mvrc=dict(type='MVRCHead', num_classes=1601))
    with torch.no_grad():  # the visual LayerNorm gain starts at 0 (as the original)
        model.vl_bert.visual_ln_object.weight.fill_(1.0)
    pipe = Compose([LoadRegionFeatures(npz=NPZ), Tokenize('pkg://minilm-l6', max_length=16),
                    MaskRoIs(prob=1.0, mask_ratio=1.0), PackVLInputs()])
    data = [pipe(dict(img_id=i, text='a red square', sample_id=i)) for i in (1, 2, 3)]
    batch = model.data_preprocessor(dict(inputs=[d['inputs'] for d in data],
                                         data_samples=[d['data_samples'] for d in data]), True)
    assert batch['inputs']['imgs'] is None and batch['inputs']['has_image'].all()
    losses = model(**batch, mode='loss')
    assert torch.isfinite(losses['loss_mvrc'])
    losses['loss_mvrc'].backward()
    assert model.region_encoder.object_mask_visual_embedding.weight.grad.abs().sum() > 0


def test_prec_vqa_fine_tunes_and_tests_through_the_tools(tmp_path):
    """TSV features for training, .npz for testing; the loss is finite and goes down."""
    work = str(tmp_path / 'w')
    runs = run_tools_in_one_process({  # train, then test: one start-up
        'train': ['tools/train.py', PREC_VQA, '--work-dir', work, '--cfg-options',
                  'train_cfg.max_epochs=4', 'default_hooks.checkpoint.interval=4',
                  'train_cfg.val_interval=4'],
        'test': ['tools/test.py', PREC_VQA, f'{work}/epoch_4.pth', '--work-dir', work]})
    r = runs['train']
    assert r['code'] == 0, r['stderr'][-3000:]
    log = r['stdout'] + r['stderr']
    losses = [float(x) for x in re.findall(r'Epoch\(train\).*? loss: ([\d.naninf]+)', log)]
    assert len(losses) == 12 and all(np.isfinite(losses)), losses
    assert np.mean(losses[-3:]) < np.mean(losses[:3]), losses
    assert 'vqa/accuracy' in log
    r = runs['test']
    assert r['code'] == 0, r['stderr'][-3000:]
    assert re.search(r'vqa/accuracy: [\d.]+', r['stdout'] + r['stderr'])

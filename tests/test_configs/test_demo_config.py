"""The `make demo` configs train through tools/train.py on a freshly generated shapes
data set: the fine-tuning config alone, and the pretraining config handing its
checkpoint to the fine-tuning config (``load_from``; pretraining heads dropped, logged)."""
import json
import os
import subprocess
import sys

import pytest

from vlbert_e2e.testing import ROOT

DEMO_CFG = os.path.join(
    ROOT, 'configs/demo/vlbert-minilm-l3_faster-rcnn-r18-c4_1xb32-600i_shapes.py')
PRETRAIN_CFG = os.path.join(
    ROOT, 'configs/demo/vlbert-minilm-l3_faster-rcnn-r18-c4_1xb16-pretrain_shapes.py')
ENV = dict(os.environ, HF_HUB_OFFLINE='1', PYTHONWARNINGS='ignore',
           PYTHONPATH=os.pathsep.join([ROOT, os.environ.get('PYTHONPATH', '')]))
SMALL = ['train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
         'default_hooks.logger.interval=1']


@pytest.fixture(scope='module')
def shapes(tmp_path_factory):
    """A tiny shapes data set (6 train, 2 val pictures) in ``<dir>/data/shapes``."""
    root = tmp_path_factory.mktemp('shapes')
    gen = subprocess.run(
        [sys.executable, os.path.join(ROOT, 'tools/dataset_converters/make_shapes_dataset.py'),
         '--out', 'data/shapes', '--num-train', '6', '--num-val', '2'],
        cwd=root, env=ENV, capture_output=True, text=True, timeout=120)
    assert gen.returncode == 0, gen.stderr[-2000:]
    return root


def train(cwd, cfg, work_dir, iters, *opts):
    r = subprocess.run(
        [sys.executable, os.path.join(ROOT, 'tools/train.py'), cfg, '--work-dir', work_dir,
         '--cfg-options', f'train_cfg.max_iters={iters}', f'train_cfg.val_begin={iters + 1}',
         f'default_hooks.checkpoint.interval={iters}', *SMALL, *opts],
        cwd=cwd, env=ENV, capture_output=True, text=True, timeout=900)
    log = r.stdout + r.stderr
    assert r.returncode == 0, log[-3000:]
    assert f'Iter(train) [{iters}/{iters}]' in log
    assert os.path.isfile(os.path.join(cwd, work_dir, f'iter_{iters}.pth'))
    return log


def check_labels_match_captions(root, names) -> list:
    """The generated COCO categories are ``names`` and each caption names its picture's
    objects by their labels ('a red circle on the left'); returns the captions."""
    with open(os.path.join(root, 'instances_train.json')) as f:
        coco = json.load(f)
    assert [c['name'] for c in coco['categories']] == list(names)
    with open(os.path.join(root, 'captions_train.jsonl')) as f:
        caps = [json.loads(line) for line in f]
    by_image = {}
    for a in coco['annotations']:
        by_image.setdefault(a['image_id'], []).append(names[a['category_id'] - 1])
    assert len(caps) == len(coco['images'])
    for c, img in zip(caps, coco['images']):
        assert c['image'] == img['file_name']
        assert sorted(names[k] for k in c['labels']) == sorted(by_image[img['id']]), c
        for name in by_image[img['id']]:
            assert f' {name} ' in c['caption'], (name, c)
    return caps


def test_generated_captions_name_count_colour_shape_and_place(shapes):
    from mmengine import Config
    names = Config.fromfile(DEMO_CFG).classes  # the demo's detector classes: the shapes
    assert names == ('circle', 'square', 'triangle') == Config.fromfile(PRETRAIN_CFG).classes
    caps = check_labels_match_captions(shapes / 'data/shapes', names)
    for c in caps:
        n = len(c['boxes'])
        assert c['caption'].startswith(f'{n} shape'), c
        assert c['caption'].count(' and ') == n - 1, c
        assert any(w in c['caption'] for w in ('red', 'green', 'blue', 'yellow')), c
        assert any(w in c['caption'] for w in ('left', 'middle', 'right')), c


def test_generated_objects_carry_their_colour_as_an_attribute(shapes):
    """Every box has its colour as a PACO-style attribute (in id order), the one its
    caption names with the shape; the captions list them too; the datasets read them
    with ``metainfo.attributes`` (the detector's attribute head learns them)."""
    colours = ('red', 'green', 'blue', 'yellow')
    root = shapes / 'data/shapes'
    with open(root / 'instances_train.json') as f:
        coco = json.load(f)
    assert [a['name'] for a in sorted(coco['attributes'], key=lambda a: a['id'])] == list(colours)
    with open(root / 'captions_train.jsonl') as f:
        caps = {c['image']: c for c in map(json.loads, f)}
    files = {img['id']: img['file_name'] for img in coco['images']}
    classes = [c['name'] for c in coco['categories']]
    for a in coco['annotations']:
        (attr, ) = a['attribute_ids']
        cap = caps[files[a['image_id']]]
        assert f'{colours[attr - 1]} {classes[a["category_id"] - 1]}' in cap['caption'], cap
        assert [attr - 1] in cap['attributes']
    from vlbert_e2e.datasets import VQAv2Dataset
    ds = VQAv2Dataset(data_root=str(root), ann_file='v2_OpenEnded_mscoco_train_questions.json',
                      answer_file='v2_mscoco_train_annotations.json',
                      answer_vocab=str(root / 'answers.txt'), instances_file='instances_train.json',
                      metainfo=dict(attributes=colours), pipeline=[])
    info = ds.get_data_info(0)
    assert len(info['roi_attributes']) == len(info['instances'])
    assert all(sum(row) == 1.0 for row in info['roi_attributes'])


def test_pretraining_hands_its_checkpoint_to_fine_tuning(shapes):
    """Stage 1 two iterations, stage 2 one iteration from its checkpoint: the
    pretraining heads are dropped, the fine-tuning heads initialised, the detector and
    the visual embedding kept as initialised, each logged."""
    log = train(shapes, PRETRAIN_CFG, 'pre', 2, 'train_dataloader.batch_size=4',
                'train_dataloader.sampler.batch_size=4')
    # MLM with visual clues + text MLM, masked RoI classification, the detector beside
    for loss in ('loss_mlm_vl', 'loss_mlm_text', 'loss_mvrc', 'det_loss_cls'):
        assert loss in log, loss
    ckpt = os.path.join(shapes, 'pre', 'iter_2.pth')
    log = train(shapes, DEMO_CFG, 'ft', 1, 'train_dataloader.batch_size=8',
                f'load_from={ckpt}')
    assert f'Load checkpoint from {ckpt}' in log
    partial = '\n'.join(line for line in log.splitlines() if f'partial load of {ckpt}' in line)
    assert 'in the checkpoint but not in the model (ignored): heads.mlm' in partial, partial
    assert 'heads.mvrc' in partial, partial
    assert 'missing from the checkpoint (left as initialised): heads.vqa' in partial, partial
    assert 'heads.ground' in partial, partial
    # the language side's embeddings come from pretraining; the detector, the visual
    # embedding and the encoder layers keep their initialisation (the config's
    # keep_initial), in one line
    from mmengine import Config
    kept = Config.fromfile(DEMO_CFG).default_hooks.checkpoint_keys.keep_initial
    assert kept == ('region_encoder.', 'visual_embedding.', 'vl_bert.bert.encoder.')
    kept_line = [ln for ln in partial.splitlines() if 'kept as initialised' in ln]
    assert len(kept_line) == 1, partial
    for group in ('region_encoder.*', 'visual_embedding.*', 'vl_bert.bert.encoder.*'):
        assert group in kept_line[0], kept_line
    assert 'vl_bert.bert.embeddings' not in partial and 'missing from the checkpoint (left ' \
        'as initialised): region_encoder' not in partial, partial
    # those lines only: not MMEngine's key lists again, nor its scope warning at init
    assert 'do not match exactly' not in log and 'Failed to search registry' not in log
    # nor MMEngine's notices that the FileClient it builds (and does not use) is deprecated
    assert 'will be deprecated' not in log, log
    for loss in ('loss_vqa', 'loss_ground', 'det_loss_cls'):
        assert loss in log, loss


def test_colour_shape_label_set(tmp_path):
    """``--labels colour-shape``: 12 detector classes, colour + shape, the same pictures."""
    gen = subprocess.run(
        [sys.executable, os.path.join(ROOT, 'tools/dataset_converters/make_shapes_dataset.py'),
         '--out', str(tmp_path), '--num-train', '4', '--num-val', '1', '--labels',
         'colour-shape'], env=ENV, capture_output=True, text=True, timeout=120)
    assert gen.returncode == 0, gen.stderr[-2000:]
    check_labels_match_captions(tmp_path, [f'{c} {s}' for c in ('red', 'green', 'blue', 'yellow')
                                           for s in ('circle', 'square', 'triangle')])
    with open(tmp_path / 'settings.json') as f:
        assert json.load(f)['labels'] == 'colour-shape'

"""Pretraining data and tasks: masking statistics, bad samples, the loss goes down."""
import os

import numpy as np
import pytest
import torch

from vlbert_e2e.datasets import ConceptualCaptionsDataset, TextCorpusDataset
from vlbert_e2e.datasets.transforms import (
    BadSampleError,
    MaskRoIs,
    MaskText,
    Tokenize,
    build_tokenizer,
)
from vlbert_e2e.testing import ROOT, TINY_TRAIN_CFG, capture_logs

TOK = 'pkg://minilm-l6'
CC = os.path.join(ROOT, 'tests/data/cc')

TEXT = ('unbelievably photographers rehearsed extraordinary choreography while '
        'nonchalant astronauts contemplated interplanetary transportation systems '
        'and a dog sat quietly near the unremarkable doorway')


def test_whole_word_masking_statistics():
    np.random.seed(0)
    tok_t = Tokenize(TOK, max_length=64)
    mask_t = MaskText(TOK, prob=0.15)
    tok = build_tokenizer(TOK)
    n_tok = n_chosen = n_mask = n_rand = n_keep = 0
    while n_tok < 10000:
        r = mask_t(tok_t(dict(text=TEXT)))
        words, labels, ids = r['word_ids'], r['mlm_labels'], r['input_ids']
        n_tok += int((words >= 0).sum())
        chosen = labels != -100
        n_chosen += int(chosen.sum())
        for w in np.unique(words[chosen]):  # whole word: all pieces or none
            assert chosen[words == w].all()
            pos = words == w
            if (ids[pos] == tok.mask_token_id).all():
                n_mask += 1
            elif (ids[pos] == labels[pos]).all():
                n_keep += 1
            else:
                n_rand += 1
    n_words = n_mask + n_rand + n_keep
    assert abs(n_chosen / n_tok - 0.15) < 0.02
    assert abs(n_mask / n_words - 0.8) < 0.02
    assert abs(n_rand / n_words - 0.1) < 0.02
    assert abs(n_keep / n_words - 0.1) < 0.02
    assert any(len(tok.tokenize(w)) > 1 for w in TEXT.split())  # multi-piece words exist


def test_roi_masking_never_touches_image_box_and_follows_ratio():
    np.random.seed(0)
    t = MaskRoIs(prob=0.15, mask_ratio=0.9)
    chosen = masked = 0
    for _ in range(2000):
        r = t(dict(gt_bboxes=np.zeros((10, 4))))
        assert (r['roi_masked'] <= r['roi_mvrc']).all()
        chosen += r['roi_mvrc'].sum()
        masked += r['roi_masked'].sum()
    assert abs(chosen / 20000 - 0.15) < 0.01 and abs(masked / chosen - 0.9) < 0.02


def _cc(on_bad, ann='manifest_bad.jsonl'):
    from vlbert_e2e.datasets.transforms import LoadVLImage
    return ConceptualCaptionsDataset(
        data_root=CC, ann_file=ann, data_prefix=dict(img='images/'),
        on_bad_sample=on_bad, pipeline=[LoadVLImage(on_bad_sample=on_bad)],
        serialize_data=False)


def test_missing_and_corrupt_images_are_skipped_with_warning():
    with capture_logs() as msgs:
        ds = _cc('skip')
        # the missing file is dropped at load time, the truncated one when read
        assert len(ds) == 3
        assert any('missing.jpg' in m and 'manifest_bad.jsonl, line 4' in m for m in msgs)
        paths = [ds.get_data_info(i)['img_path'] for i in range(len(ds))]
        bad_idx = paths.index(os.path.join(CC, 'images', 'truncated.jpg'))
        loaded = ds[bad_idx]  # MMEngine draws another sample instead
        assert not loaded['img_path'].endswith('truncated.jpg')
        assert any('truncated.jpg' in m for m in msgs)


def test_missing_and_corrupt_images_raise_naming_the_file():
    with pytest.raises(BadSampleError, match='missing.jpg'):
        _cc('raise')
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('vlbert_e2e'):
        ds = ConceptualCaptionsDataset(
            data_root=CC, ann_file='manifest_bad.jsonl', data_prefix=dict(img='images/'),
            on_bad_sample='skip', serialize_data=False, test_mode=True,
            pipeline=[dict(type='LoadVLImage', on_bad_sample='raise')])
    idx = [i for i in range(len(ds)) if ds.get_data_info(i)['img_path'].endswith(
        'truncated.jpg')][0]
    with pytest.raises(BadSampleError, match='truncated.jpg'):
        ds[idx]


def test_official_tsv_with_img2dataset_folder():
    ds = ConceptualCaptionsDataset(data_root=CC, ann_file='train.tsv',
                                   data_prefix=dict(img='img2dataset/'), pipeline=[])
    assert len(ds) == 4  # two of six urls were not downloaded
    info = ds.get_data_info(0)
    assert info['img_path'].endswith('00000/000000000.jpg') and info['text']


def test_text_corpus_packs_lines_to_min_pieces():
    ds = TextCorpusDataset(data_root=os.path.join(ROOT, 'tests/data'),
                           ann_file='corpus.txt', tokenizer=TOK, min_pieces=20, pipeline=[])
    tok = build_tokenizer(TOK)
    texts = [ds.get_data_info(i)['text'] for i in range(len(ds))]
    # doc 1: 2 lines reach 20 pieces, the 3rd line is the document's rest; same for doc 2
    assert [len(tok.tokenize(t)) >= 20 for t in texts] == [True, False, True, False, False]
    assert texts[0].startswith('The quick') and texts[0].endswith('forests.')
    assert texts[1].startswith('Every morning')  # never packed across documents
    assert texts[4].startswith('Children')


def test_tiny_pretraining_loss_goes_down_on_a_repeated_batch():
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner
    cfg = Config.fromfile(TINY_TRAIN_CFG)
    cfg.work_dir = '/tmp/vlbert_test_overfit'
    with DefaultScope.overwrite_default_scope('vlbert_e2e'):
        runner = Runner.from_cfg(cfg)
        data = next(iter(runner.train_dataloader))
    assert {True, False} == set(x is not None for x in data['inputs'])  # mixed batch
    model = runner.model
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    totals = []
    for _ in range(100):
        losses = model(**model.data_preprocessor(data, True), mode='loss')
        total = sum(v for k, v in losses.items() if k.startswith('loss'))
        assert {'loss_mlm_vl', 'loss_mlm_text', 'loss_mvrc'} <= set(losses)
        opt.zero_grad()
        total.backward()
        opt.step()
        totals.append(total.item())
    assert np.mean(totals[-5:]) < 0.3 * np.mean(totals[:5])


def test_base_pretraining_config_builds_with_bert_base_and_r101_c4_sizes():
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from transformers import BertConfig, BertModel

    from vlbert_e2e.registry import MODELS
    cfg = Config.fromfile(os.path.join(
        ROOT, 'configs/vlbert/vlbert-base_faster-rcnn-r101-c4_16xb16-10e_cc-text.py'))
    # no download in tests: random BERT-base (transformers' defaults) and no checkpoint
    cfg.model.vl_bert.pretrained = None
    cfg.model.heads.mlm.pretrained = None
    det = cfg.model.region_encoder.detector
    with DefaultScope.overwrite_default_scope('vlbert_e2e'):
        model = MODELS.build(cfg.model)
        ref_det = MODELS.build(dict(det, _scope_='mmdet'))
    n = model.param_summary()
    h = 768
    bert = sum(p.numel() for p in BertModel(BertConfig()).parameters())
    assert n['vl_bert'] == bert + h + 4 * h + 2 * 2 * h  # +1 segment row, 4 embeddings, 2 LN
    assert n['detector'] == sum(p.numel() for p in ref_det.parameters())
    assert 1e6 * 40 < n['detector'] < 1e6 * 70  # ResNet-101 C4 Faster R-CNN
    assert n['visual_embedding'] == (2048 + 2048) * h + h
    assert n['head.mlm'] == h * h + h + 2 * h + 30522  # decoder tied to word embeddings
    assert n['head.mvrc'] == h * h + h + h * 1601 + 1601
    assert n['total'] == sum(v for k, v in n.items() if k != 'total')
    assert model.region_encoder.out_channels == 2048
    rl = model.region_encoder.roi_head.bbox_roi_extractor.roi_layers[0]
    assert (rl.output_size, rl.sampling_ratio, rl.aligned) == ((14, 14), 1, False)


def test_auto_scale_lr_uses_total_batch():
    from mmengine.config import Config
    cfg = Config.fromfile(os.path.join(
        ROOT, 'configs/vlbert/vlbert-base_faster-rcnn-r101-c4_16xb16-10e_cc-text.py'))
    # 1e-7 per sample of the paper's total batch (16 GPUs x 16 samples)
    assert cfg.auto_scale_lr.base_batch_size == 256 == 16 * cfg.train_dataloader.batch_size
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(1e-7 * 256)
    assert cfg.train_dataloader.sampler.batch_size == cfg.train_dataloader.batch_size


def test_pretraining_checkpoint_loads_into_downstream_model_without_heads(tmp_path):
    from mmengine.logging import MMLogger
    from mmengine.runner import load_checkpoint

    from vlbert_e2e.testing import build_tiny_model
    pre = build_tiny_model(heads=dict(mlm=dict(type='MLMHead'),
                                      mvrc=dict(type='MVRCHead', num_classes=9)))
    path = tmp_path / 'pretrain.pth'
    torch.save(dict(state_dict=pre.state_dict(), meta=dict(iter=1)), path)
    down = build_tiny_model(heads={})
    with capture_logs() as msgs:
        load_checkpoint(down, str(path), map_location='cpu', strict=False,
                        logger=MMLogger.get_current_instance())
    for k, v in down.state_dict().items():
        torch.testing.assert_close(v, pre.state_dict()[k])
    log = '\n'.join(msgs)
    assert 'unexpected key in source state_dict' in log and 'heads.mvrc' in log

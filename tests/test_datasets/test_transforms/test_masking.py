"""MaskText / MaskRoIs: whole-word masking statistics; RoI masking never touches the image
box."""
import numpy as np

from vlbert_e2e.datasets.transforms import MaskRoIs, MaskText, Tokenize, build_tokenizer
from vlbert_e2e.testing import TOKENIZER

TOK = TOKENIZER
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

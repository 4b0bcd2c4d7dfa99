"""The official VQA v2 answer normalisation and accuracy, re-implemented.

Follows the algorithm of the official evaluation (``vqaEval.py`` of the VQA API):
the predicted answer is always normalised (punctuation, then digits/articles/
contractions); the ten human answers get the punctuation step only when they are not
all identical; accuracy is the mean over the 10 leave-one-out subsets of
``min(1, #matches / 3)``. Written by hand: no installed package provides it.
"""
import re
from typing import Dict, Sequence

_PUNCT = [';', ':', '/', "'", '[', ']', '"', '(', ')', '=', '+', '\\', '_', '>', '<',
          '@', '`', ',', '?']
_PERIOD_STRIP = re.compile(r'(?!<=\d)(\.)(?!\d)')
_COMMA_STRIP = re.compile(r'(\d)(,)(\d)')
_NUMBERS = {'none': '0', 'zero': '0', 'one': '1', 'two': '2', 'three': '3', 'four': '4',
            'five': '5', 'six': '6', 'seven': '7', 'eight': '8', 'nine': '9', 'ten': '10'}
_ARTICLES = {'a', 'an', 'the'}
# contracted forms the official table restores from their apostrophe-less spelling
# (it uses the typographic apostrophe for most of them); the official table's identity
# and capitalised entries never change a lower-cased word and are left out
_CONTRACTED = (
    "ain't aren't can't could've couldn’t couldn’t’ve didn’t doesn’t don’t hadn’t "
    "hadn’t’ve hasn’t haven’t he’d he’d’ve he’s how’d how’ll how’s I’d’ve I’m I’ve isn’t "
    "it’d it’d’ve it’ll ma’am mightn’t mightn’t’ve might’ve mustn’t must’ve "
    "needn’t not’ve o’clock oughtn’t shan’t she’d’ve should’ve shouldn’t "
    "shouldn’t’ve somebody’d’ve somebody’ll somebody’s someone’d someone’d’ve "
    "someone’ll someone’s something’d something’d’ve something’ll that’s there’d "
    "there’d’ve there’re there’s they’d they’d’ve they’ll they’re they’ve ’twas wasn’t "
    "we’d’ve we've weren’t what’ll what’re what’s what’ve when’s where’d where's "
    "where’ve who’d who’d’ve who’ll who’s who've why’ll why’re why’s won’t would’ve "
    "wouldn’t wouldn’t’ve y’all y’all’ll y’all’d’ve you’d you’d’ve you’ll you’re you’ve"
).split()
_CONTRACTIONS = {w.replace("'", '').replace('’', ''): w for w in _CONTRACTED}


def process_punctuation(text: str) -> str:
    """The official ``processPunctuation``: each punctuation mark of ``_PUNCT`` is
    removed when it touches a space or the text has a digit-comma-digit, else replaced
    by a space; a period not followed by a digit is removed (the official pattern's
    look-behind is mistyped, so a digit before it does not matter). Case is kept."""
    out = text
    for p in _PUNCT:
        if (p + ' ' in text or ' ' + p in text) or _COMMA_STRIP.search(text) is not None:
            out = out.replace(p, '')
        else:
            out = out.replace(p, ' ')
    return _PERIOD_STRIP.sub('', out)


def process_digit_article(text: str) -> str:
    """The official ``processDigitArticle``: lower-cased, number words (``'none'``,
    ``'zero'`` ... ``'ten'``) become digits, articles (a, an, the) are dropped and
    apostrophe-less contractions get their apostrophe back (``dont`` -> ``don’t``);
    words are re-joined with single spaces."""
    words = [_NUMBERS.get(w, w) for w in text.lower().split()]
    words = [_CONTRACTIONS.get(w, w) for w in words if w not in _ARTICLES]
    return ' '.join(words)


def normalize_answer(text: str) -> str:
    """Normalisation the official evaluation applies to a predicted answer."""
    text = text.replace('\n', ' ').replace('\t', ' ').strip()
    return process_digit_article(process_punctuation(text))


def vqa_accuracy(pred: str, gt_answers: Sequence[str]) -> float:
    """Official accuracy of one predicted answer against the human answers.

    Args:
        pred: the predicted answer (normalised here with :func:`normalize_answer`).
        gt_answers: the human answers (10 in VQA v2), as given.

    Returns:
        The mean over the leave-one-out subsets of ``min(1, #matches / 3)``: a
        fraction in ``[0, 1]`` (0.0 when ``gt_answers`` is empty).
    """
    res = normalize_answer(pred)
    gts = list(gt_answers)
    if len(set(gts)) > 1:
        gts = [process_punctuation(a) for a in gts]
    accs = []
    for i in range(len(gts)):
        others = gts[:i] + gts[i + 1:]
        accs.append(min(1.0, sum(a == res for a in others) / 3))
    return sum(accs) / len(accs) if accs else 0.0


def soft_scores(gt_answers: Sequence[str]) -> Dict[str, float]:
    """Training target: the official accuracy each distinct (normalised) answer would
    get, for every answer given by at least one annotator.

    Returns:
        Normalised answer -> accuracy, a fraction in ``(0, 1]``.
    """
    norm = [normalize_answer(a) for a in gt_answers]
    return {a: vqa_accuracy(a, norm) for a in set(norm)}

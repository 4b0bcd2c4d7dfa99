"""Masked-word accuracy of a pretrained model on held-out captions, by kind of word:
what MLM with visual clues has learned to see (colour, shape, count, place).

python tools/analysis_tools/fill_accuracy.py CONFIG CHECKPOINT \
    --captions data/shapes/captions_val.jsonl --images data/shapes/images --limit 50

Each caption is asked once per kind: the first word of that kind becomes [MASK] and the
model (boxes from its own detector, as at test time) fills it in. Chance: the most
frequent word of that kind among the captions. Prints a table; ``--out`` writes JSON.
"""
import argparse
import json
import os
import sys
from collections import Counter

from vlbert_e2e.utils.json_lines import read_json_lines

KINDS = {
    'colour': ('red', 'green', 'blue', 'yellow'),
    'shape': ('circle', 'square', 'triangle'),
    'count': ('1', '2', '3'),
    'place': ('left', 'middle', 'right'),
}


def read_captions(path: str, limit: int) -> list:
    """``(image, caption)`` pairs of a JSON-lines manifest (first ``limit``).

    Raises:
        ValueError: naming the file and line of a record without ``image``/``caption``.
    """
    out = []
    for no, rec in read_json_lines(path):
        if not isinstance(rec.get('image'), str) or not isinstance(rec.get('caption'), str):
            raise ValueError(f'{path}, line {no}: not a caption record (needs "image" and '
                             '"caption" strings)')
        out.append((rec['image'], rec['caption']))
        if len(out) == limit:
            break
    return out


def masked_questions(caption: str) -> dict:
    """``{kind: (caption with the first word of that kind masked, the word)}``."""
    words = caption.replace(':', ' :').split()
    out = {}
    for kind, vocab in KINDS.items():
        for i, w in enumerate(words):
            if w in vocab:
                masked = words[:i] + ['[MASK]'] + words[i + 1:]
                out[kind] = (' '.join(masked).replace(' :', ':'), w)
                break
    return out


def fill_accuracy(config: str, checkpoint: str, captions: list, images: str,
                  batch_size: int = 16) -> dict:
    """``{kind: (accuracy %, chance %, n)}`` over ``captions`` (``(image, text)``),
    asked ``batch_size`` at a time (as ``tools/test.py`` batches: pictures of other sizes
    are padded to the batch's largest, which can move the detector's proposals a
    little; 1: each alone)."""
    from vlbert_e2e.apis import VLBertInferencer
    inferencer = VLBertInferencer(config, checkpoint, show_progress=False)
    asked = [(kind, word, dict(image=os.path.join(images, image), task='fill', text=text))
             for image, caption in captions
             for kind, (text, word) in masked_questions(caption).items()]
    answers = inferencer([item for _, _, item in asked], batch_size=batch_size)
    right, seen = Counter(), Counter()
    truth = {k: Counter() for k in KINDS}
    for (kind, word, _), answer in zip(asked, answers):
        got = answer['words']
        right[kind] += bool(got) and got[0] == word
        seen[kind] += 1
        truth[kind][word] += 1
    return {k: (100 * right[k] / seen[k], 100 * truth[k].most_common(1)[0][1] / seen[k],
                seen[k]) for k in KINDS if seen[k]}


def main(argv=None) -> None:
    from vlbert_e2e.utils.config_checks import int_at_least, writable_file
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--captions', default='data/shapes/captions_val.jsonl')
    p.add_argument('--images', default='data/shapes/images')
    p.add_argument('--limit', type=int, default=50, help='captions to ask about')
    p.add_argument('--batch-size', type=int_at_least(1), default=16,
                   help='questions per model call (1: each alone)')
    p.add_argument('--out', type=writable_file, help='write the table as JSON here')
    args = p.parse_args(argv)
    try:
        table = fill_accuracy(args.config, args.checkpoint,
                              read_captions(args.captions, args.limit), args.images,
                              args.batch_size)
    except (OSError, ValueError) as e:  # InferenceError is a ValueError too
        print(f'error: {e}', file=sys.stderr)
        sys.exit(2)
    for kind, (acc, chance, n) in table.items():
        print(f'masked {kind:7} {acc:6.1f} %  (chance {chance:5.1f} %, {n} captions)')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump({k: dict(accuracy=a, chance=c, n=n) for k, (a, c, n) in table.items()},
                      f, indent=1)


if __name__ == '__main__':
    main()

"""Build the VQA answer vocabulary: the most frequent answers of the training set.

python tools/dataset_converters/build_vqa_answer_vocab.py \
    data/vqa/v2_mscoco_train2014_annotations.json [more annotation files] \
    --top 3129 --out data/vqa/answers_vqa.txt

Answers are normalised as the official evaluation normalises predictions; each of the
10 human answers of a question counts once. Ties are broken alphabetically, so the
output is deterministic.
"""
import argparse
import json
import sys
from collections import Counter

from vlbert_e2e.evaluation.functional.vqa_eval import normalize_answer


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('annotation_files', nargs='+', help='v2_mscoco_*_annotations.json')
    p.add_argument('--top', type=int, default=3129)
    p.add_argument('--out', required=True)
    args = p.parse_args(argv)
    counts = Counter()
    for path in args.annotation_files:
        try:
            with open(path, encoding='utf-8') as f:
                anns = json.load(f)['annotations']
        except (OSError, json.JSONDecodeError, KeyError) as e:
            sys.exit(f'error: cannot read annotations from {path}: {e}')
        for a in anns:
            for ans in a.get('answers', []):
                norm = normalize_answer(ans['answer'])
                if norm:
                    counts[norm] += 1
    vocab = [a for a, _ in sorted(counts.items(), key=lambda x: (-x[1], x[0]))[:args.top]]
    with open(args.out, 'w', encoding='utf-8') as f:
        f.write('\n'.join(vocab) + '\n')
    print(f'{len(vocab)} answers (of {len(counts)} distinct) written to {args.out}')


if __name__ == '__main__':
    main()

"""Write the tiny test fixtures in the official formats (run once; outputs committed).

python tests/data/make_fixtures.py
"""
import json
import pickle
import os

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
COLORS = {'red': (0, 0, 255), 'green': (0, 200, 0), 'blue': (255, 0, 0)}
SHAPES = ('square', 'circle')


def draw(rng, size):
    h, w = size
    img = (rng.random((h, w, 3)) * 60 + 100).astype(np.uint8)
    boxes, labels, words = [], [], []
    for _ in range(2):
        s = int(rng.integers(h // 5, h // 3))
        x, y = int(rng.integers(0, w - s)), int(rng.integers(0, h - s))
        color = list(COLORS)[int(rng.integers(3))]
        shape = SHAPES[int(rng.integers(2))]
        if shape == 'square':
            cv2.rectangle(img, (x, y), (x + s, y + s), COLORS[color], -1)
        else:
            cv2.circle(img, (x + s // 2, y + s // 2), s // 2, COLORS[color], -1)
        boxes.append([x, y, x + s, y + s])
        labels.append(SHAPES.index(shape))
        words.append(f'a {color} {shape}')
    return img, boxes, labels, ' and '.join(words) + ' on a grey background'


def main():
    rng = np.random.default_rng(0)
    cc = os.path.join(HERE, 'cc')
    os.makedirs(os.path.join(cc, 'images'), exist_ok=True)
    os.makedirs(os.path.join(cc, 'img2dataset', '00000'), exist_ok=True)
    lines, tsv = [], []
    for i in range(6):
        img, boxes, labels, caption = draw(rng, (96, 128) if i % 2 else (128, 96))
        name = f'{i:06d}.jpg'
        cv2.imwrite(os.path.join(cc, 'images', name), img)
        lines.append(dict(image=name, caption=caption, boxes=boxes, labels=labels))
        url = f'http://example.com/{i}.jpg'
        tsv.append(f'{caption}\t{url}')
        if i < 4:  # the other two were "not downloaded"
            stem = os.path.join(cc, 'img2dataset', '00000', f'{i:09d}')
            cv2.imwrite(stem + '.jpg', img)
            with open(stem + '.txt', 'w') as f:
                f.write(caption)
            with open(stem + '.json', 'w') as f:
                json.dump(dict(url=url, caption=caption, key=f'{i:09d}', status='success'), f)
    with open(os.path.join(cc, 'manifest.jsonl'), 'w') as f:
        f.writelines(json.dumps(x) + '\n' for x in lines)
    with open(os.path.join(cc, 'train.tsv'), 'w') as f:
        f.writelines(x + '\n' for x in tsv)
    # a truncated JPEG and a missing file, for the bad-sample tests
    with open(os.path.join(cc, 'images', '000000.jpg'), 'rb') as f:
        data = f.read()
    with open(os.path.join(cc, 'images', 'truncated.jpg'), 'wb') as f:
        f.write(data[:len(data) // 2])
    bad = lines[:2] + [dict(image='truncated.jpg', caption='a broken picture'),
                       dict(image='missing.jpg', caption='a picture that is not there')]
    with open(os.path.join(cc, 'manifest_bad.jsonl'), 'w') as f:
        f.writelines(json.dumps(x) + '\n' for x in bad)
    corpus = [
        'The quick brown fox jumps over the lazy dog near the river bank.',
        'A small village lies at the foot of the mountain, surrounded by forests.',
        'Every morning the baker opens his shop before the sun rises.',
        '',
        'Scientists study the behaviour of light when it passes through glass.',
        'The results were published in a journal after two years of careful work.',
        'Many readers wrote letters to the editor about the surprising findings.',
        '',
        'Children played football in the park while their parents talked.',
    ]
    with open(os.path.join(HERE, 'corpus.txt'), 'w') as f:
        f.write('\n'.join(corpus) + '\n')
    make_vqa(rng)
    make_refcoco(rng)
    make_vcr(rng)


def make_vqa(rng):
    """VQA v2 in the official schema: 3 COCO-named images, 2 questions each."""
    root = os.path.join(HERE, 'vqa')
    os.makedirs(os.path.join(root, 'train2014'), exist_ok=True)
    questions, annotations = [], []
    for image_id in (1, 2, 3):
        img, boxes, labels, _ = draw(rng, (96, 128))
        cv2.imwrite(os.path.join(root, 'train2014',
                                 f'COCO_train2014_{image_id:012d}.jpg'), img)
        shape = SHAPES[labels[0]]
        qa = [(f'is there a {shape}?', ['yes'] * 9 + ['yes.'], 'yes/no'),
              ('how many shapes are there?', ['2'] * 6 + ['two'] * 3 + ['3'], 'number')]
        for k, (q, answers, atype) in enumerate(qa):
            qid = image_id * 10 + k
            questions.append(dict(image_id=image_id, question=q, question_id=qid))
            annotations.append(dict(
                question_id=qid, image_id=image_id, question_type=' '.join(q.split()[:2]),
                answer_type=atype, multiple_choice_answer=answers[0],
                answers=[dict(answer=a, answer_confidence='yes', answer_id=i + 1)
                         for i, a in enumerate(answers)]))
    info = dict(description='vlbert_e2e fixture', version='2.0')
    with open(os.path.join(root, 'v2_OpenEnded_mscoco_train2014_questions.json'), 'w') as f:
        json.dump(dict(info=info, task_type='Open-Ended', data_type='mscoco',
                       license={}, data_subtype='train2014', questions=questions), f)
    with open(os.path.join(root, 'v2_mscoco_train2014_annotations.json'), 'w') as f:
        json.dump(dict(info=info, license={}, data_subtype='train2014',
                       annotations=annotations), f)
    with open(os.path.join(root, 'answers.txt'), 'w') as f:
        f.write('yes\nno\n2\n3\n')



def make_refcoco(rng):
    """RefCOCO in the official schema: refs(unc).p + COCO instances.json."""
    root = os.path.join(HERE, 'refcoco')
    os.makedirs(os.path.join(root, 'train2014'), exist_ok=True)
    images, anns, refs = [], [], []
    for image_id in (1, 2, 3, 4):
        h, w = 96, 128
        img = (rng.random((h, w, 3)) * 60 + 100).astype(np.uint8)
        # two squares, left and right, of different colours
        names = list(COLORS)
        c1, c2 = names[image_id % 3], names[(image_id + 1) % 3]
        boxes = [[8, 20, 48, 60], [72, 30, 118, 76]]
        for (x1, y1, x2, y2), c in zip(boxes, (c1, c2)):
            cv2.rectangle(img, (x1, y1), (x2, y2), COLORS[c], -1)
        name = f'COCO_train2014_{image_id:012d}.jpg'
        cv2.imwrite(os.path.join(root, 'train2014', name), img)
        images.append(dict(id=image_id, file_name=name, width=w, height=h))
        for k, ((x1, y1, x2, y2), c, side) in enumerate(zip(boxes, (c1, c2),
                                                            ('left', 'right'))):
            ann_id = image_id * 10 + k
            anns.append(dict(id=ann_id, image_id=image_id, category_id=1, iscrowd=0,
                             bbox=[x1, y1, x2 - x1, y2 - y1], area=(x2 - x1) * (y2 - y1)))
            sents = [f'the {c} square', f'{side} square']
            refs.append(dict(
                ref_id=ann_id, ann_id=ann_id, image_id=image_id, category_id=1,
                split='train' if image_id < 4 else 'val', file_name=name,
                sent_ids=[ann_id * 10 + j for j in range(2)],
                sentences=[dict(raw=t, sent=t, tokens=t.split(), sent_id=ann_id * 10 + j)
                           for j, t in enumerate(sents)]))
    with open(os.path.join(root, 'instances.json'), 'w') as f:
        json.dump(dict(images=images, annotations=anns,
                       categories=[dict(id=1, name='square')]), f)
    with open(os.path.join(root, 'refs(unc).p'), 'wb') as f:
        pickle.dump(refs, f)


def make_vcr(rng):
    """VCR in the official schema: train.jsonl/val.jsonl + image and metadata JSON."""
    root = os.path.join(HERE, 'vcr')
    movie = 'lsmdc_0001_Fixture_Movie'
    os.makedirs(os.path.join(root, 'vcr1images', movie), exist_ok=True)
    for split, n in (('train', 4), ('val', 2)):
        lines = []
        for k in range(n):
            img, boxes, labels, _ = draw(rng, (96, 128))
            objects = [SHAPES[lab] for lab in labels]
            stem = f'{movie}/{split}_{k}'
            cv2.imwrite(os.path.join(root, 'vcr1images', stem + '.jpg'), img)
            with open(os.path.join(root, 'vcr1images', stem + '.json'), 'w') as f:
                json.dump(dict(boxes=[b + [0.99] for b in boxes], names=objects,
                               segms=[[] for _ in boxes], width=128, height=96), f)
            right = k % 4
            answers = [['It', 'is', 'a', 'distractor', str(i), '.'] for i in range(4)]
            answers[right] = [[0], 'is', 'the', 'first', 'shape', '.']
            rationales = [['No', 'reason', str(i), '.'] for i in range(4)]
            rationales[(right + 1) % 4] = [[0], 'is', 'drawn', 'before', [1], '.']
            lines.append(dict(
                movie=movie, objects=objects, img_fn=stem + '.jpg',
                metadata_fn=stem + '.json', question=['What', 'is', [0, 1], '?'],
                answer_choices=answers, answer_label=right,
                rationale_choices=rationales, rationale_label=(right + 1) % 4,
                img_id=f'{split}-{k}', annot_id=f'{split}-{k}', question_number=k))
        with open(os.path.join(root, f'{split}.jsonl'), 'w') as f:
            f.writelines(json.dumps(x) + '\n' for x in lines)


if __name__ == '__main__':
    main()

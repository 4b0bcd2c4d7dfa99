"""Write the tiny test fixtures in the official formats (run once; outputs committed).

python tests/data/make_fixtures.py
"""
import json
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


if __name__ == '__main__':
    main()

"""Generate the procedural "shapes" vision-language data set, in the official formats.

python tools/dataset_converters/make_shapes_dataset.py --out data/shapes \
    --num-train 1200 --num-val 100 --size 160 --seed 0

Writes, for the splits train and val (exact ground truth, so accuracy means something):
  images/COCO_<split>_<id:012d>.jpg       the pictures (COCO file naming)
  instances_<split>.json                   COCO instances (detector ground truth), each
                                           object's colour as a PACO-style attribute
  captions_<split>.jsonl                   Conceptual-Captions-style manifest
  v2_OpenEnded_mscoco_<split>_questions.json, v2_mscoco_<split>_annotations.json  (VQA v2)
  refcoco/refs(unc).p + refcoco/instances.json   (RefCOCO, splits train/val)
  corpus.txt, answers.txt (VQA answer vocabulary of the train split)
  demo_images/   held-out raw files (JPEG, grey PNG, RGBA PNG, BMP, a large photo-size JPEG)
"""
import argparse
import json
import os
import pickle
import sys

import cv2
import numpy as np

SHAPES = ('circle', 'square', 'triangle')
# the text of the captions and corpus (recorded in settings.json: `make demo` regenerates
# data written by another version)
CAPTIONS_VERSION = 3  # 3: objects carry their colour as an attribute
COLORS = {'red': (40, 40, 220), 'green': (40, 180, 40), 'blue': (220, 80, 30),
          'yellow': (30, 220, 230)}


# The detector's label sets: 'shape' (3 classes) or 'colour-shape' (12: 'red circle',
# ...), attribute + object labels as the Visual Genome detectors VL-BERT's features come
# from (BUTD, arXiv 1707.07998, predicts attributes beside each class): the box head then
# has to tell colours apart, so the RoI features keep them (README: the demo section).
LABEL_SETS = ('shape', 'colour-shape')


def class_names(labels: str) -> tuple:
    """The category names, in category-id order, of a label set (``LABEL_SETS``)."""
    if labels == 'shape':
        return SHAPES
    return tuple(f'{c} {s}' for c in COLORS for s in SHAPES)


def category_id(o, labels: str) -> int:
    """COCO-style category id (from 1) of an object under a label set."""
    name = o['shape'] if labels == 'shape' else f'{o["color"]} {o["shape"]}'
    return class_names(labels).index(name) + 1


def categories(labels: str) -> list:
    """COCO ``categories`` of a label set."""
    return [dict(id=i + 1, name=n) for i, n in enumerate(class_names(labels))]


def attributes() -> list:
    """The attribute categories (the colours), written beside ``categories`` as PACO's
    COCO-format files do (``attributes``: ``id``, ``name``; each annotation's
    ``attribute_ids``): the detector's attribute head learns them (BUTD)."""
    return [dict(id=i + 1, name=c) for i, c in enumerate(COLORS)]


def attribute_ids(o) -> list:
    """An object's attribute ids (its colour), as PACO's ``attribute_ids``."""
    return [list(COLORS).index(o['color']) + 1]


def _overlap(a, b) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def draw_scene(rng, size: int):
    """A noisy textured background with 1-3 shapes; returns image and objects."""
    base = rng.integers(90, 170, 3)
    img = np.clip(base + rng.normal(0, 18, (size, size, 3)), 0, 255).astype(np.uint8)
    for _ in range(3):  # faint stripes as texture
        y = int(rng.integers(0, size))
        cv2.line(img, (0, y), (size - 1, int(rng.integers(0, size))),
                 tuple(int(v) for v in base - 25), 2)
    objs = []
    for _ in range(int(rng.integers(1, 4))):
        for _try in range(20):
            s = int(rng.integers(size // 6, size // 3))
            x, y = int(rng.integers(2, size - s - 2)), int(rng.integers(2, size - s - 2))
            box = [x, y, x + s, y + s]
            if all(_overlap(box, o['box']) < 0.2 for o in objs):
                break
        else:
            continue
        shape, color = SHAPES[int(rng.integers(3))], list(COLORS)[int(rng.integers(4))]
        c = COLORS[color]
        if shape == 'circle':
            cv2.circle(img, (x + s // 2, y + s // 2), s // 2, c, -1)
        elif shape == 'square':
            cv2.rectangle(img, (x, y), (x + s, y + s), c, -1)
        else:
            pts = np.array([[x + s // 2, y], [x, y + s], [x + s, y + s]], np.int32)
            cv2.fillPoly(img, [pts], c)
        objs.append(dict(box=box, shape=shape, color=color))
    return img, objs


def questions_for(objs, rng):
    """(question, answer, answer_type) pairs with exact answers."""
    qa = [('how many shapes are there?', str(len(objs)), 'number')]
    present = {o['shape'] for o in objs}
    probe = SHAPES[int(rng.integers(3))]
    qa.append((f'is there a {probe}?', 'yes' if probe in present else 'no', 'yes/no'))
    for o in objs:
        if sum(p['shape'] == o['shape'] for p in objs) == 1:
            qa.append((f'what color is the {o["shape"]}?', o['color'], 'other'))
        if sum(p['color'] == o['color'] for p in objs) == 1:
            qa.append((f'what shape is the {o["color"]} object?', o['shape'], 'other'))
    if len(objs) >= 2 and _name(objs[0], objs) and _name(objs[1], objs):
        a, b = objs[0], objs[1]
        left = (a['box'][0] + a['box'][2]) < (b['box'][0] + b['box'][2])
        qa.append((f'is the {_name(a, objs)} left of the {_name(b, objs)}?',
                   'yes' if left else 'no', 'yes/no'))
    return qa


def _name(o, objs):
    """'red circle' when that colour+shape is unique in the image, else None."""
    same = [p for p in objs if p['shape'] == o['shape'] and p['color'] == o['color']]
    return f'{o["color"]} {o["shape"]}' if len(same) == 1 else None


def referring_expressions(o, objs):
    out = []
    name = _name(o, objs)
    if name:
        out.append(f'the {name}')
    xs = sorted(objs, key=lambda p: p['box'][0] + p['box'][2])
    if len(objs) >= 2 and o is xs[0]:
        out.append('the leftmost shape')
    if len(objs) >= 2 and o is xs[-1]:
        out.append('the rightmost shape')
    return out


def caption(objs, size: int) -> str:
    """What the questions ask about, in one sentence: the count, then each object's
    colour, shape and place, left to right ('2 shapes: a red circle on the left and a
    blue square on the right'); a lone object's place is its third of the picture."""
    xs = sorted(objs, key=lambda p: p['box'][0] + p['box'][2])
    if len(xs) == 1:
        cx = (xs[0]['box'][0] + xs[0]['box'][2]) / 2
        places = ['on the left' if cx < size / 3 else 'on the right' if cx > 2 * size / 3
                  else 'in the middle']
    else:
        places = ['on the left'] + ['in the middle'] * (len(xs) - 2) + ['on the right']
    words = [f'a {o["color"]} {o["shape"]} {w}' for o, w in zip(xs, places)]
    n = len(objs)
    return f'{n} shape{"s" if n != 1 else ""}: ' + ' and '.join(words)


def corpus() -> str:
    """The text-only corpus of pretraining: the words of the questions, captions and
    expressions in plain sentences (one paragraph per colour and shape)."""
    paras = []
    for c in COLORS:
        for i, sh in enumerate(SHAPES):
            paras.append(f'The {c} {sh} is drawn on a noisy background. A {sh} can be '
                         f'{c}, and a {c} shape can be a {SHAPES[i - 1]}. '
                         f'The leftmost shape is on the left and the rightmost shape is on '
                         f'the right. There are 1, 2 or 3 shapes: circles, squares or '
                         f'triangles, red, green, blue or yellow.\n\n')
    return ''.join(paras)


def write_split(root, split, n, size, rng, first_id, state):
    images, anns, captions, questions, vqa_anns = [], [], [], [], []
    for k in range(n):
        image_id = first_id + k
        img, objs = draw_scene(rng, size)
        name = f'COCO_{split}_{image_id:012d}.jpg'
        cv2.imwrite(os.path.join(root, 'images', name), img)
        images.append(dict(id=image_id, file_name=name, width=size, height=size))
        for o in objs:
            x1, y1, x2, y2 = o['box']
            state['ann_id'] += 1
            o['ann_id'] = state['ann_id']
            anns.append(dict(id=o['ann_id'], image_id=image_id, iscrowd=0,
                             category_id=category_id(o, state['labels']),
                             attribute_ids=attribute_ids(o), bbox=[x1, y1, x2 - x1, y2 - y1],
                             area=(x2 - x1) * (y2 - y1)))
            exprs = referring_expressions(o, objs)
            if exprs:
                state['refs'].append(dict(
                    ref_id=o['ann_id'], ann_id=o['ann_id'], image_id=image_id,
                    category_id=category_id(o, state['labels']), split=split, file_name=name,
                    sent_ids=[o['ann_id'] * 10 + j for j in range(len(exprs))],
                    sentences=[dict(raw=e, sent=e, tokens=e.split(), sent_id=o['ann_id'] * 10 + j)
                               for j, e in enumerate(exprs)]))
        captions.append(dict(image=name, caption=caption(objs, size),
                             boxes=[o['box'] for o in objs],
                             labels=[category_id(o, state['labels']) - 1 for o in objs],
                             attributes=[[i - 1 for i in attribute_ids(o)] for o in objs]))
        for j, (q, a, atype) in enumerate(questions_for(objs, rng)):
            qid = image_id * 100 + j
            questions.append(dict(image_id=image_id, question=q, question_id=qid))
            vqa_anns.append(dict(
                question_id=qid, image_id=image_id, answer_type=atype,
                question_type=' '.join(q.split()[:2]), multiple_choice_answer=a,
                answers=[dict(answer=a, answer_confidence='yes', answer_id=i + 1)
                         for i in range(10)]))
    coco = dict(images=images, annotations=anns, categories=categories(state['labels']),
                attributes=attributes())
    with open(os.path.join(root, f'instances_{split}.json'), 'w') as f:
        json.dump(coco, f)
    state['images'] += images
    state['anns'] += anns
    with open(os.path.join(root, f'captions_{split}.jsonl'), 'w') as f:
        f.writelines(json.dumps(c) + '\n' for c in captions)
    info = dict(description='vlbert_e2e shapes', version='2.0')
    with open(os.path.join(root, f'v2_OpenEnded_mscoco_{split}_questions.json'), 'w') as f:
        json.dump(dict(info=info, task_type='Open-Ended', data_type='mscoco', license={},
                       data_subtype=split, questions=questions), f)
    with open(os.path.join(root, f'v2_mscoco_{split}_annotations.json'), 'w') as f:
        json.dump(dict(info=info, license={}, data_subtype=split, annotations=vqa_anns), f)
    return vqa_anns


def write_demo_images(root, size, rng):
    out = os.path.join(root, 'demo_images')
    os.makedirs(out, exist_ok=True)
    for i, ext in enumerate(('jpg', 'png', 'bmp')):
        img, _ = draw_scene(rng, size)
        cv2.imwrite(os.path.join(out, f'held_out_{i}.{ext}'), img)
    img, _ = draw_scene(rng, size)
    cv2.imwrite(os.path.join(out, 'held_out_grey.png'), cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))
    rgba = cv2.cvtColor(img, cv2.COLOR_BGR2BGRA)
    rgba[..., 3] = 200
    cv2.imwrite(os.path.join(out, 'held_out_rgba.png'), rgba)
    img, _ = draw_scene(rng, size)
    cv2.imwrite(os.path.join(out, 'held_out_large.jpg'), cv2.resize(img, (640, 480)))


def main(argv=None):
    from vlbert_e2e.utils.config_checks import int_at_least
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--out', default='data/shapes')
    p.add_argument('--num-train', type=int_at_least(1), default=1200)
    p.add_argument('--num-val', type=int_at_least(1), default=100)
    p.add_argument('--size', type=int_at_least(32), default=160,
                   help='picture side in px (objects are a sixth to a third of it)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--labels', choices=LABEL_SETS, default='shape',
                   help="the detector's classes: the shape (3), or colour and shape (12)")
    args = p.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    try:
        os.makedirs(os.path.join(args.out, 'images'), exist_ok=True)
        os.makedirs(os.path.join(args.out, 'refcoco'), exist_ok=True)
    except OSError as e:
        sys.exit(f'error: cannot create the output folder {args.out}: {e}')
    state = dict(ann_id=0, refs=[], images=[], anns=[], labels=args.labels)
    train_qa = write_split(args.out, 'train', args.num_train, args.size, rng, 1, state)
    write_split(args.out, 'val', args.num_val, args.size, rng, 1 + args.num_train, state)
    answers = sorted({a['multiple_choice_answer'] for a in train_qa})
    with open(os.path.join(args.out, 'answers.txt'), 'w') as f:
        f.write('\n'.join(answers) + '\n')
    with open(os.path.join(args.out, 'refcoco', 'refs(unc).p'), 'wb') as f:
        pickle.dump(state['refs'], f)
    with open(os.path.join(args.out, 'refcoco', 'instances.json'), 'w') as f:
        json.dump(dict(images=state['images'], annotations=state['anns'],
                       categories=categories(args.labels), attributes=attributes()), f)
    with open(os.path.join(args.out, 'corpus.txt'), 'w') as f:
        f.write(corpus())
    write_demo_images(args.out, args.size, rng)
    with open(os.path.join(args.out, 'settings.json'), 'w') as f:  # what made this data
        json.dump(dict(num_train=args.num_train, num_val=args.num_val, size=args.size,
                       seed=args.seed, labels=args.labels,
                       captions=CAPTIONS_VERSION), f)
    n_refs = sum(len(r['sentences']) for r in state['refs'])
    print(f'shapes data set in {args.out}: {args.num_train} train / {args.num_val} val images, '
          f'{len(state["anns"])} objects, {len(train_qa)} train questions, '
          f'{n_refs} referring expressions, {len(answers)} answers')


if __name__ == '__main__':
    main()

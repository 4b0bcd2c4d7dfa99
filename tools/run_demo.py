"""`make demo`: shapes data -> joint training -> evaluation -> raw-image demo -> summary.

Everything runs offline on CPU through the project's own tools (train.py, test.py,
demo.py); the language model is the pretrained MiniLM shipped in a pip package.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CFG = 'configs/demo/vlbert-minilm-l3_faster-rcnn-r18-c4_1xb32-450i_shapes.py'
DATA = 'data/shapes'
DATA_SETTINGS = dict(num_train=1200, num_val=100, size=160, seed=0)


def run(step: str, args: list) -> float:
    print(f'\n=== {step}: {" ".join(args)}', flush=True)
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable] + args, cwd=ROOT)
    if r.returncode:
        sys.exit(f'make demo: step "{step}" failed (exit {r.returncode}); see the output above')
    return time.perf_counter() - t0


def chance_levels() -> dict:
    """Accuracy of trivial baselines on the val split, for the summary."""
    sys.path.insert(0, ROOT)
    from vlbert_e2e.evaluation.functional.vqa_eval import vqa_accuracy
    with open(os.path.join(ROOT, DATA, 'v2_mscoco_train_annotations.json')) as f:
        train = json.load(f)['annotations']
    with open(os.path.join(ROOT, DATA, 'v2_mscoco_val_annotations.json')) as f:
        val = json.load(f)['annotations']
    top = Counter(a['multiple_choice_answer'] for a in train).most_common(1)[0][0]
    vqa = 100 * sum(vqa_accuracy(top, [x['answer'] for x in a['answers']]) for a in val) / len(val)
    import pickle
    with open(os.path.join(ROOT, DATA, 'refcoco', 'refs(unc).p'), 'rb') as f:
        refs = [r for r in pickle.load(f) if r['split'] == 'val']
    with open(os.path.join(ROOT, DATA, 'refcoco', 'instances.json')) as f:
        per_img = Counter(a['image_id'] for a in json.load(f)['annotations'])
    ground = 100 * sum(len(r['sentences']) / per_img[r['image_id']] for r in refs) / sum(
        len(r['sentences']) for r in refs)
    return {'vqa/accuracy': (vqa, f'always "{top}"'),
            'refcoco_val/acc@0.5': (ground, 'random ground-truth box'),
            'det/bbox_mAP_50': (0.0, 'no detector')}


def data_settings():
    try:
        with open(os.path.join(ROOT, DATA, 'settings.json')) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def ask_about_val_pictures(config: str, ckpt: str, out_dir: str, per_type: int = 2):
    """``tools/demo.py`` on the first val pictures of a few question types, as a user
    would ask; returns ``(question, true answer, model answer)`` rows."""
    with open(os.path.join(ROOT, DATA, 'v2_OpenEnded_mscoco_val_questions.json')) as f:
        questions = json.load(f)['questions']
    with open(os.path.join(ROOT, DATA, 'v2_mscoco_val_annotations.json')) as f:
        truth = {a['question_id']: a['multiple_choice_answer']
                 for a in json.load(f)['annotations']}
    picked, rows = Counter(), []
    for q in questions:
        kind = ' '.join(q['question'].split()[:2])
        if kind not in ('how many', 'what color', 'what shape') or picked[kind] >= per_type:
            continue
        picked[kind] += 1
        img = os.path.join(DATA, 'images', f'COCO_val_{q["image_id"]:012d}.jpg')
        sub = os.path.join(out_dir, str(q['question_id']))
        run(f'ask about a val picture: {q["question"]}',
            ['tools/demo.py', img, '--config', config, '--checkpoint', ckpt, '--task', 'vqa',
             '--text', q['question'], '--out-dir', sub])
        stem = os.path.splitext(os.path.basename(img))[0]
        with open(os.path.join(ROOT, sub, stem + '.json')) as f:
            rows.append((q['question'], truth[q['question_id']], json.load(f)['answer']))
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--config', default=CFG, help='the demo config (another recipe)')
    p.add_argument('--work-dir', default='work_dirs/demo')
    p.add_argument('--iters', type=int, default=None, help='override the training length')
    args = p.parse_args(argv)
    os.environ.setdefault('HF_HUB_OFFLINE', '1')
    t_all = time.perf_counter()
    times = {}
    if data_settings() != DATA_SETTINGS:  # absent, or made with other settings
        times['data'] = run('generate the shapes data set', [
            'tools/dataset_converters/make_shapes_dataset.py', '--out', DATA] + [
            f'--{k.replace("_", "-")}={v}' for k, v in DATA_SETTINGS.items()])
    opts = ['--cfg-options', f'train_cfg.max_iters={args.iters}',
            f'train_cfg.val_interval={args.iters + 1}',
            f'train_cfg.val_begin={args.iters + 1}'] if args.iters else []
    times['train'] = run('train detector + VL-BERT jointly (detection + VQA + grounding)',
                         ['tools/train.py', args.config, '--work-dir', args.work_dir] + opts)
    with open(os.path.join(ROOT, args.work_dir, 'last_checkpoint')) as f:
        ckpt = f.read().strip()
    times['test'] = run('evaluate on the val split',
                        ['tools/test.py', args.config, ckpt, '--work-dir', args.work_dir])
    vis = os.path.join(args.work_dir, 'demo_images')
    times['demo'] = run('answer a question about held-out raw image files',
                        ['tools/demo.py', os.path.join(DATA, 'demo_images'), '--config',
                         args.config, '--checkpoint', ckpt, '--task', 'vqa',
                         '--text', 'how many shapes are there?', '--out-dir', vis])
    run('point at an object in the same files',
        ['tools/demo.py', os.path.join(DATA, 'demo_images'), '--config', args.config,
         '--checkpoint', ckpt, '--task', 'ground', '--text', 'the leftmost shape',
         '--out-dir', vis + '_ground'])
    t0 = time.perf_counter()
    answered = ask_about_val_pictures(args.config, ckpt, os.path.join(args.work_dir, 'val_qa'))
    times['val questions'] = time.perf_counter() - t0
    import matplotlib  # installed with mmdet; ships a real photograph
    photo = os.path.join(matplotlib.get_data_path(), 'sample_data', 'grace_hopper.jpg')
    if os.path.isfile(photo):
        run('the same model on a real photograph (not shapes: any answer is a guess)',
            ['tools/demo.py', photo, '--config', args.config, '--checkpoint', ckpt, '--task', 'vqa',
             '--text', 'how many shapes are there?', '--out-dir', vis + '_photo'])
    with open(os.path.join(ROOT, args.work_dir, 'test_metrics.json')) as f:
        metrics = json.load(f)
    chance = chance_levels()
    print('\n' + '=' * 72)
    print(f'{"metric (val split)":28} {"model":>10} {"chance":>10}  baseline')
    for key, (c, how) in chance.items():
        value = metrics.get(key)
        value = value * 100 if key.startswith('det/') and value is not None else value
        shown = 'n/a' if value is None else f'{value:10.2f}'
        print(f'{key:28} {shown:>10} {c:10.2f}  {how}')
    print('-' * 72)
    for k, v in times.items():
        print(f'time {k:23} {v:10.1f} s')
    print(f'time {"total":23} {time.perf_counter() - t_all:10.1f} s')
    for q, truth, got in answered:
        print(f'val picture: {q:38} truth {truth:9} answer {got:9} '
              f'{"correct" if got == truth else "wrong"}')
    print(f'annotated pictures: {os.path.abspath(vis)}, {os.path.abspath(vis)}_ground')
    print('=' * 72)


if __name__ == '__main__':
    main()

"""Ask a trained VL-BERT about raw image files.

python tools/demo.py IMAGE_OR_DIR --config C --checkpoint K --task {vqa,ground,fill,detect}
    --text "what color is the circle?" --out-dir DIR [--device cpu]
    [--proposer MMDET_CONFIG MMDET_CHECKPOINT]   # boxes from a separate mmdet detector

Prints the answer(s) and writes DIR/<image stem>.jpg (drawn) and DIR/<image stem>.json.
"""
import argparse
import json
import os
import sys

IMAGE_EXT = ('.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    p.add_argument('inputs', help='an image file or a folder of images')
    p.add_argument('--config', required=True)
    p.add_argument('--checkpoint', required=True)
    p.add_argument('--task', required=True, help='vqa, ground, fill or detect')
    p.add_argument('--text', help='question (vqa), expression (ground), caption with '
                                  '[MASK] (fill)')
    p.add_argument('--out-dir', default='outputs/demo')
    p.add_argument('--device', default='cpu')
    p.add_argument('--score-thr', type=float, default=0.3)
    p.add_argument('--proposer', nargs=2, metavar=('CONFIG', 'CHECKPOINT'),
                   help='take the boxes from this frozen mmdet detector (config file or '
                        'mmdet::..., checkpoint file or URL); the model pools them')
    return p.parse_args(argv)


def list_images(path: str):
    if os.path.isdir(path):
        files = sorted(os.path.join(path, f) for f in os.listdir(path)
                       if f.lower().endswith(IMAGE_EXT))
        if not files:
            raise FileNotFoundError(f'no image files in folder {path}')
        return files
    if not os.path.exists(path):
        raise FileNotFoundError(f'image file not found: {path}')
    return [path]


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        from vlbert_e2e.apis import InferenceError, VLBertInferencer
        from vlbert_e2e.apis.inferencer import TASKS
        if args.task not in TASKS:  # before the model loads
            raise InferenceError(f'unknown task {args.task!r}; choose from {", ".join(TASKS)}')
        files = list_images(args.inputs)
        inferencer = VLBertInferencer(args.config, args.checkpoint, device=args.device,
                                      score_thr=args.score_thr, proposer=args.proposer)
        results = inferencer(files, args.task, args.text)
    except (FileNotFoundError, InferenceError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    os.makedirs(args.out_dir, exist_ok=True)
    for r in results:
        stem = os.path.splitext(os.path.basename(r['image']))[0]
        inferencer.visualize(r, os.path.join(args.out_dir, f'{stem}.jpg'))
        with open(os.path.join(args.out_dir, f'{stem}.json'), 'w') as f:
            json.dump(r, f, indent=2)
        shown = {k: r[k] for k in ('answer', 'box', 'words', 'score', 'scores') if k in r}
        print(f'{r["image"]}: {shown} ({len(r.get("detections", []))} detections)')
    print(f'pictures and JSON written to {os.path.abspath(args.out_dir)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

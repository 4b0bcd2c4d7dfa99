"""Ask a trained VL-BERT about raw image files.

python tools/demo.py IMAGE_OR_DIR --config C --checkpoint K --task {vqa,ground,fill,detect}
    --text "what color is the circle?" --out-dir DIR [--device cpu]
    [--proposer MMDET_CONFIG MMDET_CHECKPOINT]   # boxes from a separate mmdet detector

Prints the answer(s) and writes DIR/<image stem>.jpg (drawn) and DIR/<image stem>.json.
--show-attention also writes DIR/<image stem>_attention.jpg (the answering token's
attention as a heat over the regions, top regions listed) and
DIR/<image stem>_text_attention.png (text-to-text attention), and prints the top regions.

Given a folder, every file in it is tried; one that is not a readable image is named on
one line (`skipped: ...`, to stderr) and the others are answered.
"""
import argparse
import json
import os
import sys


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
    p.add_argument('--show-attention', action='store_true',
                   help='draw where the answering token looked (not for detect)')
    p.add_argument('--attention-mode', default='mean', choices=('mean', 'rollout'),
                   help='average over layers and heads, or attention rollout')
    p.add_argument('--proposer', nargs=2, metavar=('CONFIG', 'CHECKPOINT'),
                   help='take the boxes from this frozen mmdet detector (config file or '
                        'mmdet::..., checkpoint file or URL); the model pools them')
    return p.parse_args(argv)


def list_images(path: str):
    """``[path]``, or every (non-hidden) file of the folder ``path``: whether a file is
    an image is for the decoder to say, not its extension."""
    if os.path.isdir(path):
        files = sorted(os.path.join(path, f) for f in os.listdir(path)
                       if not f.startswith('.') and os.path.isfile(os.path.join(path, f)))
        if not files:
            raise FileNotFoundError(f'no files in folder {path}')
        return files
    if not os.path.exists(path):
        raise FileNotFoundError(f'image file not found: {path}')
    return [path]


def output_stems(files, out_dir: str) -> dict:
    """``{input file: output stem}``: the file name without its extension, or with it
    (``x_png``) where two inputs share a stem; ``FileExistsError`` when ``out_dir`` is a
    file or an output would overwrite one of the inputs (checked before the model loads)."""
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise FileExistsError(f'--out-dir {out_dir} is a file, not a folder')
    stems = [os.path.splitext(os.path.basename(f))[0] for f in files]
    names = {f: (s if stems.count(s) == 1 else os.path.basename(f).replace('.', '_'))
             for f, s in zip(files, stems)}
    inputs = {os.path.realpath(f) for f in files}
    for stem in names.values():
        for suffix in ('.jpg', '.json', '_attention.jpg', '_text_attention.png'):
            out = os.path.realpath(os.path.join(out_dir, stem + suffix))
            if out in inputs:
                raise FileExistsError(f'--out-dir {out_dir}: writing {out} would overwrite '
                                      'an input image; choose another folder')
    return names


def answer_each(inferencer, files, args, folder: bool):
    """The inferencer's result per readable file; in a folder, each unreadable one is
    named on stderr and skipped (an error when none is left)."""
    from vlbert_e2e.apis import InferenceError, UnreadableImageError
    results = []
    for path in files:
        try:
            results += inferencer([path], args.task, args.text)
        except UnreadableImageError as e:
            if not folder:
                raise
            print(f'skipped: {e}', file=sys.stderr)
    if not results:
        raise InferenceError(f'no readable image in folder {args.inputs}')
    return results


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        from vlbert_e2e.apis import InferenceError, VLBertInferencer
        from vlbert_e2e.apis.inferencer import TASKS
        from vlbert_e2e.utils import CheckpointError
        if args.task not in TASKS:  # before the model loads
            raise InferenceError(f'unknown task {args.task!r}; choose from {", ".join(TASKS)}')
        if args.show_attention and args.task == 'detect':
            raise InferenceError('--show-attention is not for task detect (no text asks)')
        files = list_images(args.inputs)
        stems = output_stems(files, args.out_dir)
        inferencer = VLBertInferencer(args.config, args.checkpoint, device=args.device,
                                      score_thr=args.score_thr,
                                      return_attention=args.show_attention,
                                      attention_mode=args.attention_mode,
                                      proposer=args.proposer)
        results = answer_each(inferencer, files, args, os.path.isdir(args.inputs))
    except (OSError, InferenceError, CheckpointError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    os.makedirs(args.out_dir, exist_ok=True)
    for r in results:
        stem = stems[r['image']]
        inferencer.visualize(r, os.path.join(args.out_dir, f'{stem}.jpg'))
        with open(os.path.join(args.out_dir, f'{stem}.json'), 'w') as f:
            json.dump(r, f, indent=2)
        shown = {k: r[k] for k in ('answer', 'box', 'words', 'score', 'scores') if k in r}
        print(f'{r["image"]}: {shown} ({len(r.get("detections", []))} detections)')
        if 'attention' in r:
            inferencer.visualize_attention(
                r, os.path.join(args.out_dir, f'{stem}_attention.jpg'),
                os.path.join(args.out_dir, f'{stem}_text_attention.png'))
            att = r['attention']
            top = ', '.join(f'{att["regions"][i]["label"]} {att["regions"][i]["weight"]:.3f}'
                            for i in att['top_regions'])
            print(f'  attention of {" ".join(att["query_tokens"])!r}: {top}')
    print(f'pictures and JSON written to {os.path.abspath(args.out_dir)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

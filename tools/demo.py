"""Ask a trained VL-BERT about raw image files.

One question about a picture or a folder:
  python tools/demo.py IMAGE_OR_DIR --config C --checkpoint K --task {vqa,ground,fill,detect}
      --text "what color is the circle?" --out-dir DIR [--device cpu] [--batch-size N]
      [--proposer MMDET_CONFIG MMDET_CHECKPOINT]   # boxes from a separate mmdet detector
  prints the answer(s) and writes DIR/<image stem>.jpg (drawn) and DIR/<image stem>.json;
  with more than one picture also DIR/montage.jpg (the first --montage-size drawings).

Many (picture, question) pairs, one process, the model built once:
  python tools/demo.py --questions PAIRS.json --config C --checkpoint K --out-dir DIR
      [--task vqa] [--batch-size N] [--montage-size 12] [--montage-cols 4]
  PAIRS.json is a JSON list, or JSON lines, of records
      {"image": PATH, "question": TEXT, "answer": TRUE_ANSWER, "task": TASK, "id": NAME}
  ("text" may stand for "question"; "answer", "task" (default --task) and "id" are
  optional; relative image paths are taken from the current folder). Writes
  DIR/<NNN>_<id or image stem>.jpg per record (question, answer and, with "answer", the
  truth marked RIGHT/WRONG), DIR/montage.jpg (a grid of the first --montage-size
  records) and DIR/answers.json (the results, in order, with "truth" and "correct"
  where an answer was given, and the count of right answers).

--show-attention also writes <stem>_attention.jpg (the answering token's attention as
a heat over the regions, top regions listed) and <stem>_text_attention.png (text-to-text
attention), and prints the top regions.

max_length, scale and tokenizer are those of the config's test pipeline. A file that
is not a readable picture is named on one line (`skipped: ...`, to stderr) in a folder
or a questions file and the others are answered; any other bad input is one line
(`error: ...`) and exit status 2.
"""
import argparse
import json
import os
import sys

MONTAGE_CELL = 480  # px, the longest side of a montage cell


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0], epilog=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('inputs', nargs='?', help='an image file or a folder of images')
    p.add_argument('--questions', help='JSON list or JSON lines of {image, question'
                                       '[, answer, task, id]} records (instead of inputs); '
                                       'relative image paths are read from the working '
                                       'folder, as the positional inputs')
    p.add_argument('--config', required=True)
    p.add_argument('--checkpoint', required=True)
    p.add_argument('--task', help='vqa, ground, fill or detect (default for --questions: vqa)')
    p.add_argument('--text', help='question (vqa), expression (ground), caption with '
                                  '[MASK] (fill)')
    p.add_argument('--out-dir', default='outputs/demo')
    p.add_argument('--device', default='cpu')
    p.add_argument('--score-thr', type=float, default=0.3,
                   help='draw detections scoring at least this (0-1)')
    p.add_argument('--batch-size', type=int, default=4,
                   help='pictures per model call; pictures of other sizes are padded to '
                        "the batch's largest, as in tools/test.py, which can move the "
                        "detector's proposals a little (1: each picture alone)")
    p.add_argument('--montage-size', type=int, default=12, help='pictures in montage.jpg')
    p.add_argument('--montage-cols', type=int, default=4)
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


def read_questions(path: str, task: str) -> list:
    """The records of a questions file as inferencer inputs
    ``dict(image, task, text[, answer], id)``.

    Raises:
        InferenceError: not JSON / JSON lines, or a record without an image or a text
            (the message names the file and the record).
        FileNotFoundError: the file, or a record's image, does not exist.
    """
    from vlbert_e2e.apis import TASKS, InferenceError
    from vlbert_e2e.datasets.transforms.text_encoding import is_blank
    if not os.path.isfile(path):
        raise FileNotFoundError(f'questions file not found: {path}')
    from vlbert_e2e.utils.json_lines import read_json_lines
    with open(path) as f:
        raw = f.read()
    try:  # each record with where it is: 'record i' of a list, 'line N' of JSON lines
        records = ([(f'record {i}', r) for i, r in enumerate(json.loads(raw))]
                   if raw.lstrip().startswith('[') else
                   [(f'line {no}', r) for no, r in read_json_lines(path)])
    except ValueError as e:  # json's JSONDecodeError, or read_json_lines' naming the line
        raise InferenceError(f'{path} is neither a JSON list nor JSON lines: {e}') from None
    items = []
    for i, r in records:
        if not isinstance(r, dict) or not isinstance(r.get('image'), str):
            raise InferenceError(f'{path} {i}: needs an "image" path, got {r!r:.80}')
        if os.path.isdir(r['image']):
            raise InferenceError(f'{path} {i}: "image" {r["image"]} is a folder, not an image')
        if not os.path.isfile(r['image']):
            raise FileNotFoundError(f'{path} {i}: image file not found: {r["image"]}')
        item = dict(image=r['image'], task=r.get('task', task),
                    text=r.get('question', r.get('text')),
                    id=str(r.get('id', os.path.splitext(os.path.basename(r['image']))[0])))
        if item['task'] not in TASKS:
            raise InferenceError(f'{path} {i}: unknown task {item["task"]!r}; choose from '
                                 f'{", ".join(TASKS)}')
        if item['task'] != 'detect' and is_blank(item['text']):  # the inferencer's rule
            raise InferenceError(f'{path} {i}: needs a non-empty "question" (or "text")')
        if r.get('answer') is not None:
            item['answer'] = str(r['answer'])
        items.append(item)
    if not items:
        raise InferenceError(f'{path}: no records')
    return items


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
    outs = [os.path.join(out_dir, n) for n in ('montage.jpg', 'answers.json')] + [
        os.path.join(out_dir, stem + suffix) for stem in names.values()
        for suffix in ('.jpg', '.json', '_attention.jpg', '_text_attention.png')]
    for out in map(os.path.realpath, outs):
        if out in inputs:
            raise FileExistsError(f'--out-dir {out_dir}: writing {out} would overwrite '
                                  'an input image; choose another folder')
    return names


def check_args(args) -> None:
    """One-line errors for argument combinations, before the model loads."""
    from vlbert_e2e.apis import TASKS, InferenceError
    if (args.inputs is None) == (args.questions is None):
        raise InferenceError('give an image file or folder, or --questions FILE (not both)')
    if args.questions is None and args.task is None:
        raise InferenceError('--task is required with an image file or folder')
    args.task = args.task or 'vqa'
    if args.task not in TASKS:
        raise InferenceError(f'unknown task {args.task!r}; choose from {", ".join(TASKS)}')
    if args.show_attention and args.task == 'detect':
        raise InferenceError('--show-attention is not for task detect (no text asks)')
    from vlbert_e2e.datasets.transforms.text_encoding import is_blank
    if args.questions is None and args.task != 'detect' and is_blank(args.text):
        # the inferencer says the same, but only after the model has loaded
        raise InferenceError(f'task {args.task!r} needs a non-empty --text')
    for name in ('batch_size', 'montage_size', 'montage_cols'):
        if getattr(args, name) < 1:
            raise InferenceError(f'--{name.replace("_", "-")} must be at least 1')
    if not 0.0 <= args.score_thr <= 1.0:  # a detection score is a probability
        raise InferenceError(f'--score-thr must be in [0, 1], got {args.score_thr}')


def prepare(args):
    """``(items, output stem per item)`` of the command line, checked."""
    if args.questions:
        items = read_questions(args.questions, args.task)
        stems = [f'{i:03d}_{it.pop("id")}' for i, it in enumerate(items)]
        output_stems([it['image'] for it in items], args.out_dir)
        return items, stems
    files = list_images(args.inputs)
    names = output_stems(files, args.out_dir)
    return [dict(image=f, task=args.task, text=args.text) for f in files], [
        names[f] for f in files]


def answer_all(inferencer, items, args) -> list:
    """The inferencer's results; an unreadable file of a folder or a questions file
    is named on stderr and its result dropped (an error when none is left)."""
    from vlbert_e2e.apis import InferenceError
    many = args.questions is not None or os.path.isdir(args.inputs)
    results = inferencer(items, batch_size=args.batch_size,
                         on_error='skip' if many else 'raise')
    for r in results:
        if 'error' in r:
            print(f'skipped: {r["error"]}', file=sys.stderr)
    if all('error' in r for r in results):
        raise InferenceError(f'no readable image in {args.questions or args.inputs}')
    return results


def write_one(inferencer, r: dict, stem: str, out_dir: str, with_json: bool) -> None:
    """Draw (and describe) one result under ``out_dir``; print its answer line."""
    inferencer.write_drawing(r, os.path.join(out_dir, f'{stem}.jpg'))
    if with_json:
        with open(os.path.join(out_dir, f'{stem}.json'), 'w') as f:
            json.dump(r, f, indent=2)
    mark = (f'  truth {r["truth"]}: {"RIGHT" if r["correct"] else "WRONG"}'
            if 'truth' in r else '')
    shown = {k: r[k] for k in ('answer', 'box', 'words', 'score', 'scores') if k in r}
    dets = r.get('detections', [])
    if shown:
        read = sum(d.get('roi', True) for d in dets)  # 'roi': which the model read
        rois = f', {read} read as RoIs' if read != len(dets) else ''
        print(f'{r["image"]}: {shown} ({len(dets)} detections{rois}){mark}')
    else:  # task detect: the detections are the answer (best first, as drawn)
        top = ', '.join(f'{d["label"]} {d["score"]:.2f}' for d in dets[:5])
        more = ', ...' if len(dets) > 5 else ''
        print(f'{r["image"]}: {len(dets)} detections{": " if dets else ""}{top}{more}')
    if 'attention' in r:
        inferencer.write_attention(r, os.path.join(out_dir, f'{stem}_attention.jpg'),
                                   os.path.join(out_dir, f'{stem}_text_attention.png'))
        att = r['attention']
        top = ', '.join(f'{att["regions"][i]["label"]} {att["regions"][i]["weight"]:.3f}'
                        for i in att['top_regions'])
        print(f'  attention of {" ".join(att["query_tokens"])!r}: {top}')


def write_outputs(inferencer, results, stems, args) -> None:
    """Per-result drawings (and JSON), the montage, and answers.json (--questions)."""
    import cv2

    from vlbert_e2e.visualization import montage
    os.makedirs(args.out_dir, exist_ok=True)
    done = [(r, s) for r, s in zip(results, stems) if 'error' not in r]
    for r, stem in done:
        write_one(inferencer, r, stem, args.out_dir, with_json=args.questions is None)
    if len(done) > 1:
        cells = [inferencer.draw(r, max_long=MONTAGE_CELL) for r, _ in done[:args.montage_size]]
        cv2.imwrite(os.path.join(args.out_dir, 'montage.jpg'),
                    montage(cells, args.montage_cols)[..., ::-1])
    judged = [r for r, _ in done if 'correct' in r]
    if judged:
        print(f'{sum(r["correct"] for r in judged)} of {len(judged)} answers right')
    if args.questions is not None:
        with open(os.path.join(args.out_dir, 'answers.json'), 'w') as f:
            json.dump(dict(results=results, right=sum(r['correct'] for r in judged),
                           judged=len(judged)), f, indent=1)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        from vlbert_e2e.apis import InferenceError, VLBertInferencer
        from vlbert_e2e.utils import CheckpointError
        check_args(args)
        items, stems = prepare(args)
        inferencer = VLBertInferencer(args.config, args.checkpoint, device=args.device,
                                      score_thr=args.score_thr,
                                      return_attention=args.show_attention,
                                      attention_mode=args.attention_mode,
                                      proposer=args.proposer)
        results = answer_all(inferencer, items, args)
    except (OSError, InferenceError, CheckpointError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    write_outputs(inferencer, results, stems, args)
    print(f'pictures and JSON written to {os.path.abspath(args.out_dir)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

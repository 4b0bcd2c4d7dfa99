"""Plot training curves (each loss and train accuracy against iteration) from MMEngine's
json logs, as mmdet's ``tools/analysis_tools/analyze_logs.py plot_curve`` does.

python tools/analysis_tools/plot_curves.py \
    work_dirs/demo_pretrain/*/vis_data/scalars.json work_dirs/demo/*/vis_data/scalars.json \
    --titles pretraining fine-tuning --out work_dirs/demo/curves.png

One row per log (a training stage), losses on the left, accuracies on the right.
"""
import argparse
import os
import sys
from collections import defaultdict
from typing import Dict, List, Optional, Tuple

from vlbert_e2e.utils.json_lines import read_json_lines


def load_json_log(path: str) -> Dict[str, Tuple[List[int], List[float]]]:
    """The training scalars of an MMEngine json log (``vis_data/scalars.json`` or
    ``<timestamp>.json``: one JSON object a line).

    Returns:
        ``{key: (iterations, values)}`` for every numeric key of the training lines
        (those with ``iter`` or ``step``); validation lines (no ``loss``) are skipped.

    Raises:
        ValueError: naming the file and the line when a line is not a JSON object.
    """
    curves = defaultdict(lambda: ([], []))
    for _, rec in read_json_lines(path):
        it = rec.get('iter', rec.get('step'))
        if it is None or not any(k.startswith('loss') for k in rec):
            continue
        for k, v in rec.items():
            if isinstance(v, (int, float)) and k.startswith(('loss', 'acc', 'det_')):
                curves[k][0].append(int(it))
                curves[k][1].append(float(v))
    return dict(curves)


def plot_curves(logs: List[str], out: str, titles: Optional[List[str]] = None) -> str:
    """Draw every log's losses and accuracies; writes ``out`` (PNG) and returns it.

    Raises:
        ValueError: a log without training lines, or titles not one per log.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    titles = titles or [os.path.basename(os.path.dirname(os.path.dirname(p))) or p
                        for p in logs]
    if len(titles) != len(logs):
        raise ValueError(f'{len(titles)} titles for {len(logs)} logs')
    fig, axes = plt.subplots(len(logs), 2, figsize=(13, 4 * len(logs)), squeeze=False)
    for row, (path, title) in enumerate(zip(logs, titles)):
        curves = load_json_log(path)
        if not curves:
            raise ValueError(f'{path}: no training lines (iter + loss) in this log')
        for col, kind in enumerate(('loss', 'acc')):
            ax = axes[row][col]
            keys = sorted(k for k in curves if (k.startswith('acc') or '_acc' in k) ==
                          (kind == 'acc') and (kind == 'acc' or 'loss' in k))
            for k in keys:
                its, values = curves[k]
                if kind == 'acc' and not k.startswith('det_'):  # heads: 0-1; mmdet: %
                    values = [100 * v for v in values]
                ax.plot(its, values, label=k, linewidth=1.2)
            ax.set_title(f'{title}: {"losses" if kind == "loss" else "train accuracy (%)"}')
            ax.set_xlabel('iteration')
            ax.grid(alpha=0.3)
            if keys:
                ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('logs', nargs='+', help="MMEngine json logs (vis_data/scalars.json)")
    p.add_argument('--titles', nargs='+', help='one title per log (default: its run folder)')
    p.add_argument('--out', default='curves.png', help='the PNG to write')
    args = p.parse_args(argv)
    try:
        print(plot_curves(args.logs, args.out, args.titles))
    except (OSError, ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        sys.exit(2)


if __name__ == '__main__':
    main()

"""Where does a RoI's appearance get lost on its way into the encoder?

python tools/analysis_tools/probe_regions.py CONFIG CHECKPOINT [--batches 30]

Runs the config's test split through the model and, for every RoI (the whole-image box
excepted), fits a ridge regression from the RoI's vector at each stage to the mean
colour of the middle third of its box -- a property every picture has, no labels needed:
the RoI feature (res5, pooled), the visual embedding, the encoder input at the RoI token
(after the embedding LayerNorm) and the encoder output there. A stage far below the one
before it is where the information is lost. Also prints the share of visual-embedding
units that never fire (a ReLU layer whose inputs share a large positive mean can switch
units off for every input under AdamW), and per encoder layer the share of the text
tokens' attention that lands on the object RoIs (the path by which a word can read
them).

Held-out R^2 (fit on 70 % of the distinct RoIs, scored on the rest); 1 = fully
recoverable, 0 = no better than the mean. Written by hand: the ridge fit is a few lines
of torch (scikit-learn's Ridge computes the same, but it is not one of the project's
dependencies), and no library reads these stages of this model.
"""
import argparse
import sys

import torch

from vlbert_e2e.utils.config_checks import CfgOptionsAction, explain_config_errors


def ridge_r2(x: torch.Tensor, y: torch.Tensor, lam: float = 0.001) -> float:
    """Held-out R^2 of ridge regression ``y ~ x`` (rows: samples; first 70 % fit).

    ``x``: (N, D) features, ``y``: (N, T) targets. Features are centred and divided by
    one global scale (not per column: a unit that fires on two RoIs would otherwise
    weigh as much as one that carries the signal); the penalty is ``lam`` times the
    number of fitted rows.
    """
    k = int(0.7 * len(x))
    x = x - x[:k].mean(0)
    x = x / (x[:k].pow(2).sum(1).mean().sqrt() + 1e-12)
    xs = torch.cat([x, torch.ones(len(x), 1)], 1).double()
    a, b = xs[:k], y[:k].double()
    w = torch.linalg.solve(a.T @ a + lam * k * torch.eye(a.shape[1], dtype=a.dtype), a.T @ b)
    res = ((xs[k:] @ w - y[k:]) ** 2).sum(0)
    tot = ((y[k:] - y[:k].mean(0)) ** 2).sum(0)
    return float(1 - (res / tot).mean())


def collect(model, loader, batches: int) -> dict:
    """``{stage: (N, D)}`` vectors of the distinct RoIs of ``batches`` test batches, with
    ``'target'`` (N, 3) the mean (normalised) pixel values of their boxes' middle
    thirds and ``'attention'`` (B, layers), see :func:`text_to_object_attention`."""
    grab = {}
    hook = model.vl_bert.bert.embeddings.register_forward_hook(
        lambda m, i, o: grab.__setitem__('enc_in', o))
    out = {k: [] for k in ('roi feature', 'visual embedding', 'encoder input',
                           'encoder output', 'target')}
    attn = []
    seen = set()
    try:
        for n, batch in enumerate(loader):
            if n == batches:
                break
            data = model.data_preprocessor(batch, False)
            with torch.no_grad():
                enc = model.encode(data['inputs'], data['data_samples'],
                                   output_attentions=True)
                _add_rows(model, data, enc, grab['enc_in'], out, seen)
                attn.append(text_to_object_attention(enc.seq))
    finally:
        hook.remove()
    res = {k: torch.cat(v) for k, v in out.items() if v}
    if attn:
        res['attention'] = torch.cat(attn)
    return res


def text_to_object_attention(seq) -> torch.Tensor:
    """(B', layers) share of each text token's attention (mean over heads and the row's
    text tokens) that lands on the object RoIs (the whole-image box excepted), for the
    B' rows with at least one object RoI."""
    from vlbert_e2e.visualization.region_attention import query_to_regions
    rows = []
    for i in range(seq.hidden.shape[0]):
        pos = seq.roi_pos[i][seq.roi_pos[i] >= 0][1:]
        if not len(pos):
            continue
        att = torch.stack([a[i] for a in seq.attentions])  # (L, heads, T, T)
        share = query_to_regions(att, range(int(seq.text_len[i])), pos)  # (L, heads, R)
        rows.append(share.sum(-1).mean(1))
    return torch.stack(rows) if rows else torch.zeros(0, len(seq.attentions))


def _add_rows(model, data: dict, enc, enc_in, out: dict, seen: set) -> None:
    """Append the stage vectors of each row's RoIs (each picture's box once)."""
    imgs, samples = data['inputs']['imgs'], data['data_samples']
    rows = data['inputs']['has_image'].nonzero().flatten().tolist()
    for j, i in enumerate(rows):
        feats, boxes = enc.region.feats[j], enc.region.boxes[j]
        wh = enc.region.img_wh[j].expand(len(boxes), 2)
        vis = model.visual_embedding(feats, boxes, wh)
        for r in range(1, len(boxes)):  # RoI 0: the whole image
            key = (samples[i].metainfo.get('img_path'), tuple(boxes[r].round().tolist()))
            x1, y1, x2, y2 = _centre_third(boxes[r])
            if key in seen or x2 <= x1 or y2 <= y1:
                continue
            seen.add(key)
            pos = int(enc.seq.roi_pos[i, r])
            out['roi feature'].append(feats[r:r + 1])
            out['visual embedding'].append(vis[r:r + 1])
            out['encoder input'].append(enc_in[i, pos][None])
            out['encoder output'].append(enc.seq.hidden[i, pos][None])
            out['target'].append(imgs[j, :, y1:y2, x1:x2].mean((1, 2))[None])


def _centre_third(box: torch.Tensor) -> tuple:
    """Integer pixel bounds of the middle third (in width and height) of ``box``:
    mostly the object itself, less of the background around it."""
    x1, y1, x2, y2 = box.tolist()
    w, h = (x2 - x1) / 3, (y2 - y1) / 3
    return round(x1 + w), round(y1 + h), round(x2 - w), round(y2 - h)


def batch_count(value: str) -> int:
    """``--batches``: a positive count, or -1 for the whole split."""
    n = int(value)
    if n == 0 or n < -1:
        raise argparse.ArgumentTypeError(f'{value}: give a positive number, or -1 for all')
    return n


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--batches', type=batch_count, default=-1,
                   help='test batches to read (-1, the default: the whole test split)')
    p.add_argument('--partial-load', action='store_true',
                   help="load a checkpoint of another head set (e.g. a pretraining one into "
                        "the fine-tuning config): the model's own keys it lacks stay as "
                        'built, logged')
    p.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                   help='override config keys, e.g. model.region_encoder.box_source=given')
    args = p.parse_args(argv)
    from mmengine.runner import Runner

    from vlbert_e2e.registry import MODELS
    from vlbert_e2e.utils import apply_checkpoint, load_checkpoint_file
    from vlbert_e2e.utils.config_checks import load_config, merge_cfg_options
    from vlbert_e2e.utils.setup_env import register_all_modules
    register_all_modules()
    try:
        cfg = load_config(args.config)
        merge_cfg_options(cfg, args.cfg_options)
        if not cfg.get('test_dataloader'):
            raise ValueError(f'{args.config} has no test_dataloader to read RoIs from')
        ckpt = load_checkpoint_file(args.checkpoint)  # CheckpointError names the file
        with explain_config_errors(cfg):
            model = MODELS.build(cfg.model).eval()
            loader = Runner.build_dataloader(dict(cfg.test_dataloader, num_workers=0,
                                                  persistent_workers=False))
        apply_checkpoint(model, ckpt, args.checkpoint, args.partial_load,
                         hint=" (is it the config's? --partial-load probes it anyway)")
    except (OSError, ValueError, KeyError) as e:
        print(f'error: {e}', file=sys.stderr)
        sys.exit(2)
    vecs = collect(model, loader, args.batches)
    if 'target' not in vecs or len(vecs['target']) < 20:
        print('error: fewer than 20 RoIs found; more --batches?', file=sys.stderr)
        sys.exit(2)
    y, attn = vecs.pop('target'), vecs.pop('attention')
    print(f'{len(y)} distinct RoIs; held-out R^2 of their mean colour from each stage:')
    for stage, x in vecs.items():
        print(f'  {stage:17s} {ridge_r2(x, y):6.3f}')
    dead = (vecs['visual embedding'] <= 0).all(0).float().mean()
    print(f'visual-embedding units that never fire: {100 * dead:.1f} %')
    share = ', '.join(f'{100 * a:.1f}' for a in attn.mean(0).tolist())
    print(f'attention of the text tokens on the object RoIs, per layer (%): {share}')


if __name__ == '__main__':
    main()

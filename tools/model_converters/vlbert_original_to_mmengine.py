"""Convert an original VL-BERT checkpoint (jackroos/VL-BERT) into an MMEngine checkpoint.

python tools/model_converters/vlbert_original_to_mmengine.py \
    vl-bert-base-e2e.model checkpoints/vlbert-base-original-e2e.pth \
    [--config CONFIG] [--detector MMDET_CHECKPOINT_OR_URL] [--mvrc-background first|last]

Builds the model of CONFIG (default: the `*-original` pretraining config of the
checkpoint's size, picked from its hidden size) without downloading anything, places
every tensor of the checkpoint (the table is `vlbert_e2e/models/original_checkpoint.py`),
prints the checkpoint keys it could not place and the model keys left at their
initial values, and writes OUT (`{'meta', 'state_dict'}`, every key of the model, so
it loads with `strict=True`) and OUT's `.safetensors` twin. A missing key or a shape
mismatch stops it with a one-line error naming the key. The original has no RPN and
no box head: they keep their initial values unless `--detector` gives an MMDetection
checkpoint (local file or URL) whose tensors fill every detector key the VL-BERT
checkpoint does not provide. See docs/model_zoo.md.
"""
import argparse
import os
import os.path as osp
import sys

import torch
from mmengine.config import Config

from vlbert_e2e.utils.config_checks import CfgOptionsAction

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_CONFIGS = {  # hidden size -> config
    768: 'configs/vlbert/vlbert-base-original_faster-rcnn-r101-c4_16xb16-10e_cc-text.py',
    1024: 'configs/vlbert/vlbert-large-original_faster-rcnn-r101-c4_16xb16-10e_cc-text.py',
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('src', help='original checkpoint, e.g. vl-bert-base-e2e.model')
    p.add_argument('out', help='output MMEngine checkpoint (.pth); the .safetensors '
                              'twin is written beside it')
    p.add_argument('--config', help='config of the target model (default: the '
                                    '*-original config of the checkpoint size)')
    p.add_argument('--detector', help='MMDetection checkpoint (file or URL) for the '
                                      'detector keys the original lacks (RPN, box head)')
    p.add_argument('--mvrc-background', choices=['first', 'last'], default='first',
                   help="MVRC class order: 'first' keeps the original's (Visual Genome, "
                        "background = 0); 'last' moves background last (mmdet order)")
    p.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                   help='override config keys')
    return p.parse_args(argv)


def build_target_model(cfg: Config, src: dict):
    """The model of ``cfg``, built without downloading: a BERT named by ``pretrained``
    is built from the checkpoint's shapes instead, heads load no pretrained weights."""
    from mmengine.registry import DefaultScope

    from vlbert_e2e.models.original_checkpoint import bert_config_from_original
    from vlbert_e2e.registry import MODELS
    m = cfg.model
    if m.vl_bert.get('pretrained') is not None:
        m.vl_bert.config = dict(bert_config_from_original(src), **(m.vl_bert.get('config')
                                                                    or {}))
        m.vl_bert.pretrained = None
    for head in (m.get('heads') or {}).values():
        if head.get('pretrained') is not None:
            head.pretrained = None
    with DefaultScope.overwrite_default_scope('vlbert_e2e'):
        return MODELS.build(m)


def load_detector(path: str) -> dict:
    from mmengine.runner import CheckpointLoader  # local files: load_checkpoint_file
    ckpt = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    return ckpt.get('state_dict', ckpt)


def save(state_dict: dict, meta: dict, out: str) -> str:
    from vlbert_e2e.utils import save_safetensors
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    torch.save({'meta': meta, 'state_dict': state_dict}, out)
    st = safetensors_path(out)
    save_safetensors(state_dict, st, metadata={k: str(v) for k, v in meta.items()
                                               if isinstance(v, str)})
    return st


def safetensors_path(out: str) -> str:
    return osp.splitext(out)[0] + '.safetensors'


def check_output(src: str, out: str) -> None:
    """Refuse, before converting, an OUT that would overwrite the source, clash with its
    own ``.safetensors`` twin, or cannot be written (a folder, under a file)."""
    if out.endswith('.safetensors'):
        raise FileNotFoundError(f'{out}: give the .pth path; its .safetensors twin is '
                                'written beside it')
    if osp.isdir(out):
        raise FileNotFoundError(f'{out} is a folder; give the output .pth file')
    parent = osp.dirname(osp.abspath(out))
    while not osp.exists(parent):
        parent = osp.dirname(parent)
    if not osp.isdir(parent):
        raise FileNotFoundError(f'{out}: {parent} is a file, not a folder')
    for path in (out, safetensors_path(out)):
        if osp.exists(path) and osp.exists(src) and osp.samefile(path, src):
            raise FileNotFoundError(f'{path} is the source checkpoint; choose another output')


def main(argv=None):
    from vlbert_e2e.models.original_checkpoint import (
        ConversionError,
        convert_original,
        find_head_prefixes,
        load_original_checkpoint,
    )
    from vlbert_e2e.utils import CheckpointError, check_checkpoint_file, register_all_modules
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)
    try:
        check_output(args.src, args.out)
        check_checkpoint_file(args.src)  # a missing file, a folder, a broken file
        if args.detector and '://' not in args.detector:
            check_checkpoint_file(args.detector)  # before any model is built
        src = load_original_checkpoint(args.src)
        config = args.config
        if config is None:
            hidden = src.get('vlbert.word_embeddings.weight', torch.empty(0, 0)).shape[-1]
            if hidden not in DEFAULT_CONFIGS:
                raise ConversionError(f'no default config for hidden size {hidden}: '
                                      'give --config')
            config = osp.join(ROOT, DEFAULT_CONFIGS[hidden])
        if not osp.isfile(config):
            raise FileNotFoundError(f'config file not found: {config}')
        cfg = Config.fromfile(config)
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        model = build_target_model(cfg, src)
        detector = load_detector(args.detector) if args.detector else None
        conv = convert_original(src, model.state_dict(), find_head_prefixes(model),
                                detector, args.mvrc_background)
    except (ConversionError, FileNotFoundError, CheckpointError) as e:
        print(f'error: {e}', file=sys.stderr)  # bad input: one line, exit code 2
        sys.exit(2)

    n_det = sum(v.startswith('detector:') for v in conv.placed.values())
    print(f'{args.src} -> {args.out} (config {config})')
    print(f'placed {len(conv.placed)} tensors: {len(conv.placed) - n_det} from the '
          f'VL-BERT checkpoint, {n_det} from the detector checkpoint')
    for note in conv.notes:
        print(f'note: {note}')
    print(f'checkpoint keys not placed ({len(conv.unplaced)}):')
    for k in conv.unplaced:
        print(f'  {k}')
    print(f'model keys left at their initial values ({len(conv.left_at_init)}):')
    for k in conv.left_at_init:
        print(f'  {k}')
    meta = dict(converted_from=osp.basename(args.src), config=osp.relpath(config, ROOT)
                if config.startswith(ROOT) else config,
                converter='tools/model_converters/vlbert_original_to_mmengine.py',
                detector=args.detector or '', mvrc_background=args.mvrc_background,
                unplaced_keys=list(conv.unplaced), left_at_init=list(conv.left_at_init))
    st = save(conv.state_dict, meta, args.out)
    print(f'wrote {args.out} and {st}')


if __name__ == '__main__':
    main()

"""Tiny models built from the real configs, and synthetic batches (as ``mmdet.testing``'s
``demo_mm_inputs`` / ``get_detector_cfg``)."""
import tempfile
from typing import List, Optional, Sequence, Tuple

import torch

from .paths import TINY_MODEL_CFG, TOKENIZER

#: a config of the tiny model with VQA, grounding and MLM heads (what tests/ infers with)
TINY_VL_CFG = f'''
_base_ = ['{TINY_MODEL_CFG}']
tokenizer = '{TOKENIZER}'
scale = (128, 96)
model = dict(
    heads=dict(vqa=dict(type='VQAHead', num_answers=3, classifier_hidden=32),
               ground=dict(type='GroundingHead'), mlm=dict(type='MLMHead')),
    region_encoder=dict(det_score_thr=0.0))
'''


def tiny_model_cfg(**region):
    """The tiny model's ``model`` config, ``region_encoder`` updated with ``region``."""
    from mmengine.config import Config
    cfg = Config.fromfile(TINY_MODEL_CFG)
    cfg.model.region_encoder.update(region)
    return cfg.model


def build_model_from_cfg(cfg_path: str, options: Optional[dict] = None):
    """``MODELS.build`` of a config file's ``model``, after ``merge_from_dict(options)``."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    import vlbert_e2e.models  # noqa: F401 (registers)
    from vlbert_e2e.registry import MODELS
    cfg = Config.fromfile(cfg_path)
    cfg.merge_from_dict(options or {})
    with DefaultScope.overwrite_default_scope('vlbert_e2e'):
        return MODELS.build(cfg.model)


def build_tiny_model(heads: Optional[dict] = None, visual_gain: Optional[float] = None,
                     **region):
    """The tiny ``VLBertE2E`` (random weights): ``heads`` replaces the config's heads,
    ``visual_gain`` sets ``vl_bert.visual_ln_init_gain``, ``region`` updates
    ``region_encoder``."""
    from mmengine.registry import DefaultScope

    import vlbert_e2e.models  # noqa: F401 (registers)
    from vlbert_e2e.registry import MODELS
    cfg = tiny_model_cfg(**region)
    if heads is not None:
        cfg.heads = heads
    if visual_gain is not None:
        cfg.vl_bert.visual_ln_init_gain = visual_gain
    with DefaultScope.overwrite_default_scope('vlbert_e2e'):
        return MODELS.build(cfg)


def make_sample(h: int, w: int, n_tokens: int = 8, boxes=None, masked=None, mlm: bool = True,
                seed: int = 0, gt: bool = False):
    """``(uint8 image (3, h, w), VLDataSample)`` as ``PackVLInputs`` produces them: random
    pixels and token ids ([CLS] ... [SEP]); ``mlm``: token 2 masked with its label;
    ``boxes`` (N, 4) given boxes, ``masked`` (N,) their RoI masks; ``gt``: the boxes are
    also detector targets (label 0)."""
    from mmengine.structures import InstanceData

    from vlbert_e2e.structures import VLDataSample
    g = torch.Generator().manual_seed(seed)
    img = torch.randint(0, 256, (3, h, w), dtype=torch.uint8, generator=g)
    s = VLDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w),
                                   scale_factor=(1.0, 1.0), img_id=seed))
    ids = torch.randint(1000, 2000, (n_tokens,), generator=g)
    ids[0], ids[-1] = 101, 102
    s.input_ids = ids
    s.token_type_ids = torch.zeros(n_tokens, dtype=torch.long)
    if mlm:
        lab = torch.full((n_tokens,), -100)
        lab[2] = ids[2]
        s.input_ids = ids.clone()
        s.input_ids[2] = 103
        s.mlm_labels = lab
    if boxes is not None:
        s.gt_rois = InstanceData(bboxes=torch.tensor(boxes, dtype=torch.float32).view(-1, 4))
        if masked is not None:
            s.gt_rois.masked = torch.tensor(masked, dtype=torch.bool)
    if gt:
        s.gt_instances = InstanceData(bboxes=s.gt_rois.bboxes.clone(),
                                      labels=torch.zeros(len(s.gt_rois), dtype=torch.long))
    return img, s


def batch(model, samples: Sequence[Tuple], training: bool = True) -> dict:
    """The model's data preprocessor applied to ``make_sample`` outputs."""
    data = dict(inputs=[x[0] for x in samples], data_samples=[x[1] for x in samples])
    return model.data_preprocessor(data, training)


def overfit(cfg_path: str, loss_key: str, steps: int, batch_size: Optional[int] = None,
            lr: float = 1e-3, **model_overrides) -> Tuple[object, List]:
    """Build the runner of a tiny config, take one batch and train on it alone (AdamW on
    ``loss_key``); returns (runner, predicted data samples of that batch in eval mode).
    ``model_overrides``: ``model.<key>`` values merged into the config."""
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner

    from vlbert_e2e.utils.config_checks import load_config
    cfg = load_config(cfg_path)
    cfg.work_dir = tempfile.mkdtemp(prefix=f'vlbert_test_overfit_{loss_key}_')
    cfg.merge_from_dict({f'model.{k}': v for k, v in model_overrides.items()})
    if batch_size:
        cfg.train_dataloader.batch_size = batch_size
    with DefaultScope.overwrite_default_scope('vlbert_e2e'):
        runner = Runner.from_cfg(cfg)
        data = next(iter(runner.train_dataloader))
    model = runner.model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    for _ in range(steps):
        loss = model(**model.data_preprocessor(data, True), mode='loss')[loss_key]
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        return runner, model(**model.data_preprocessor(data, False), mode='predict')


def save_tiny_vl_checkpoint(folder) -> Tuple[str, str]:
    """Write ``TINY_VL_CFG`` and a checkpoint of it (seed 0, answers ``yes/no/2``, classes
    ``c0..c7``, as tools/train.py saves them) into ``folder``; returns (config, checkpoint)."""
    import os

    from vlbert_e2e.apis import VLBertInferencer
    cfg = os.path.join(str(folder), 'cfg.py')
    with open(cfg, 'w') as f:
        f.write(TINY_VL_CFG)
    torch.manual_seed(0)
    inf = VLBertInferencer(cfg)
    ckpt = os.path.join(str(folder), 'model.pth')
    torch.save(dict(state_dict=inf.model.state_dict(),
                    meta=dict(dataset_meta=dict(answers=['yes', 'no', '2'],
                                                classes=[f'c{i}' for i in range(8)]))), ckpt)
    return cfg, ckpt


def record_encoder_inputs(vl_bert) -> dict:
    """Wrap ``vl_bert.bert.forward`` so that each call's keyword arguments
    (``inputs_embeds (B, T, H)``, ``attention_mask``, ``token_type_ids``,
    ``position_ids``, ...) are written into the returned dict; the call itself runs."""
    seen = {}
    forward = vl_bert.bert.forward

    def spy(**kw):
        seen.update(kw)
        return forward(**kw)

    vl_bert.bert.forward = spy
    return seen

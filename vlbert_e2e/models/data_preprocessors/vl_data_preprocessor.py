"""Batch images with mmdet's DetDataPreprocessor and pad the text side."""
from typing import Dict, List, Optional

import torch
from mmdet.models.data_preprocessors import DetDataPreprocessor

from vlbert_e2e.registry import MODELS
from vlbert_e2e.structures import TOKEN_PAD_VALUES


@MODELS.register_module()
class VLDataPreprocessor(DetDataPreprocessor):
    """Normalise + pad images (mmdet's logic, reused) and pad text to a batch.

    Samples without an image (text-only corpus samples) are allowed in the same batch:
    their image slot is ``None`` and they are left out of the image tensor. Samples
    with precomputed region features (``region_feats``, no pixels) count as having an
    image (``has_image``); ``imgs`` is then ``None``.

    Returns ``{'inputs': dict(imgs, has_image, input_ids, attention_mask,
    token_type_ids, mlm_labels, text_box_index), 'data_samples': [...]}``.

    Args:
        pad_token_id (int): id used to pad ``input_ids`` (BERT: 0, RoBERTa: 1).
        **kwargs: everything :class:`DetDataPreprocessor` takes (``mean``, ``std``,
            ``bgr_to_rgb``, ``pad_size_divisor``, ...).
    """

    def __init__(self, pad_token_id: int = 0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.pad_token_id = pad_token_id

    def forward(self, data: dict, training: bool = False) -> dict:
        """Batch a list of packed samples.

        Args:
            data: ``dict(inputs=[(3, H, W) uint8 tensor or None, ...],
                data_samples=[VLDataSample, ...])`` from the collate function.
            training: mmdet's batch augmentations run only then.

        Returns:
            ``dict(inputs=dict(imgs=(N, 3, H', W') or None, has_image=(B,) bool,
            input_ids/attention_mask/... (B, L) or (B, C, L)), data_samples=[...])``.

        Raises:
            ValueError: a batch mixes pixel samples and precomputed-feature samples.
        """
        data = self.cast_data(data)
        samples = list(data['data_samples'])
        imgs = data['inputs']
        img_idx = [i for i, img in enumerate(imgs) if img is not None]
        # samples with regions: pixels, or precomputed region features (no pixels)
        has_image = [img is not None or 'region_feats' in s for img, s in zip(imgs, samples)]
        if img_idx and len(img_idx) != sum(has_image):
            raise ValueError('a batch mixes samples with pixels and samples with '
                             'precomputed region features only; the model has one region '
                             'encoder')
        batch_imgs = None
        if img_idx:
            img_data = dict(
                inputs=[imgs[i] for i in img_idx],
                data_samples=[samples[i] for i in img_idx])
            out = super().forward(img_data, training)
            batch_imgs = out['inputs']
            for i, s in zip(img_idx, out['data_samples']):  # they carry pad_shape now
                samples[i] = s
        inputs = dict(
            imgs=batch_imgs,
            has_image=torch.tensor(has_image, dtype=torch.bool, device=self.device))
        inputs.update(self.pad_text(samples))
        return dict(inputs=inputs, data_samples=samples)

    def pad_text(self, samples: List) -> Dict[str, Optional[torch.Tensor]]:
        """Right-pad every per-token field of the samples (``TOKEN_PAD_VALUES``, the
        table ``PackVLInputs`` packs by) into (B, L) tensors, or (B, C, L) when each
        sample holds C choices (``input_ids`` of shape (C, L), e.g. VCR's four answers).

        Raises:
            KeyError: a sample without ``input_ids``.
            ValueError: samples with different numbers of choices.
        """
        if not all('input_ids' in s for s in samples):
            missing = [i for i, s in enumerate(samples) if 'input_ids' not in s]
            raise KeyError(f'samples {missing} of the batch carry no input_ids; '
                           'is Tokenize in the pipeline?')
        ids = [torch.as_tensor(s.input_ids) for s in samples]
        dims = {t.dim() for t in ids}
        if len(dims) != 1 or (dims == {2} and len({t.shape[0] for t in ids}) != 1):
            raise ValueError('all samples of a batch need the same number of choices')
        lead = ids[0].shape[:-1]  # () or (C,)
        max_len = max(t.shape[-1] for t in ids)
        out = {}
        for field, pad in TOKEN_PAD_VALUES.items():
            if field != 'input_ids' and not any(field in s for s in samples):
                continue
            pad = self.pad_token_id if pad is None else pad
            t = torch.full((len(samples), *lead, max_len), pad, dtype=torch.long,
                           device=self.device)
            for i, s in enumerate(samples):
                if field in s:
                    v = torch.as_tensor(s.get(field), device=self.device)
                    t[i, ..., :v.shape[-1]] = v
            out[field] = t
        if lead:  # choices are padded inside the sample with the pad id
            out['attention_mask'] = (out['input_ids'] != self.pad_token_id).long()
        else:
            lengths = torch.tensor([t.shape[-1] for t in ids], device=self.device)
            ar = torch.arange(max_len, device=self.device)
            out['attention_mask'] = (ar[None] < lengths[:, None]).long()
        return out

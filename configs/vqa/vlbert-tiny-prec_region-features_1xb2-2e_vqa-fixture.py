# Tiny `-prec` VQA for CPU tests: precomputed region features in the fixture files
# tests/data/vqa/features (tests/data/make_region_features.py): a bottom-up-attention TSV
# for training, the same regions as per-image .npz for validation; no pixels, no CNN.
# Image 3 has 0 boxes (the whole-image box alone).
_base_ = ['./vlbert-tiny_faster-rcnn-r18-c4_1xb2-2e_vqa-fixture.py']
features = 'tests/data/vqa/features/'
train_pipeline = [
    dict(type='LoadRegionFeatures', tsv=features + 'trainval_fixture.tsv', feature_dim=2048),
    dict(type='Tokenize', tokenizer={{_base_.tokenizer}}, max_length=24, mask_as_text_b=True),
    dict(type='PackVLInputs', meta_keys={{_base_.meta_keys}}, task_keys={{_base_.task_keys}}),
]
val_pipeline = [dict(type='LoadRegionFeatures', npz=features + 'npz/{image_id}.npz',
                     feature_dim=2048)] + train_pipeline[1:]
model = dict(
    data_preprocessor=dict(_delete_=True, type='VLDataPreprocessor', pad_token_id=0),
    region_encoder=dict(_delete_=True, type='PrecomputedRegionEncoder', feature_dim=2048),
    visual_embedding=dict(geometry='center_size', geometry_dim=2048),
    heads=dict(vqa=dict(type='VQAHead', num_answers=4, classifier_type='mlm')))
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader

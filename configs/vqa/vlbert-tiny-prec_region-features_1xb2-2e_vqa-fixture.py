# Tiny `-prec` VQA for CPU tests: precomputed region features in the fixture files
# tests/data/vqa/features (tests/data/make_region_features.py): a bottom-up-attention TSV
# for training, the same regions as per-image .npz for validation; no pixels, no CNN.
# Image 3 has 0 boxes (the whole-image box alone).
_base_ = ['./vlbert-tiny_faster-rcnn-r18-c4_1xb2-2e_vqa-fixture.py']
features = 'tests/data/vqa/features/'
train_pipeline = [dict(type='LoadRegionFeatures', tsv=features + 'trainval_fixture.tsv',
                       feature_dim=2048)] + _base_.pipeline[2:]  # image loading -> features
val_pipeline = [dict(type='LoadRegionFeatures', npz=features + 'npz/{image_id}.npz',
                     feature_dim=2048)] + train_pipeline[1:]
model = dict(
    data_preprocessor=dict(_base_.vlbert_e2e.data_preprocessor, _delete_=True),  # no pixels
    region_encoder=dict(_delete_=True, type='PrecomputedRegionEncoder', feature_dim=2048),
    visual_embedding=dict(geometry='center_size', geometry_dim=2048),
    heads=dict(vqa=dict(type='VQAHead', num_answers=4, classifier_type='mlm')))
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader

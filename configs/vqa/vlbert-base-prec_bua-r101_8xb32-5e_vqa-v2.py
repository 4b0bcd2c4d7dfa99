# VL-BERT base `-prec` fine-tuned on VQA v2 from precomputed bottom-up-attention
# features, as the original's cfgs/vqa/base_4x16G_fp32.yaml: BOXES "10-100ada" (the
# adaptive 10-100 boxes of bottom-up-attention's `trainval.zip`, read as they are from
# its TSV files), the "mlm" answer classifier (dense -> GELU -> LayerNorm, initialised
# from the pretrained MLM transform, dropout, Linear to the 3129 answers), 5 epochs.
# Start from `vl-bert-base-prec.model` converted with THIS config (docs/model_zoo.md):
# the converter puts its MLM transform into the classifier, as the original's
# PARTIAL_PRETRAIN_PREFIX_CHANGES do. Questions are never truncated, as in the original
# (ours cut at 36 word pieces): max_length 510 is all the position table holds (text at
# 0..L-1, the RoIs at L, [END] at L+1); VQA v2 questions are far shorter.
_base_ = [
    '../_base_/models/vlbert-base-prec_bua-r101.py',
    '../_base_/datasets/vqa_v2.py',
    '../_base_/schedules/vqa_5e.py',
    '../_base_/default_runtime.py',
]
data_root = 'data/vqa/'
features = data_root + 'features/trainval/'  # unzipped bottom-up-attention trainval.zip
feature_files = [features + f'karpathy_{s}_resnet101_faster_rcnn_genome.tsv'
                 for s in ('train', 'val', 'test')]
feature_files = [feature_files[0] + '.0', feature_files[0] + '.1'] + feature_files[1:]
# the dataset base's pipeline with the features in place of the pixels
pipeline = [
    dict(type='LoadRegionFeatures', tsv=feature_files, feature_dim=2048,
         on_bad_sample='raise'),
    dict(_base_.train_pipeline[-2], max_length=510),  # Tokenize
    _base_.train_pipeline[-1],  # PackVLInputs
]
model = dict(heads=dict(vqa=dict(type='VQAHead', num_answers=3129, classifier_type='mlm',
                                 dropout=0.1)))
train_dataloader = dict(dataset=dict(pipeline=pipeline))
val_dataloader = dict(dataset=dict(pipeline=pipeline))
test_dataloader = val_dataloader
load_from = 'checkpoints/vlbert-base-prec-vqa-init.pth'

# VL-BERT large pretraining: BERT-large on the same detector and recipe.
_base_ = './vlbert-base_faster-rcnn-r101-c4_16xb16-10e_cc-text.py'
model = dict(
    vl_bert=dict(pretrained='bert-large-uncased'),
    heads=dict(mlm=dict(pretrained='bert-large-uncased')))

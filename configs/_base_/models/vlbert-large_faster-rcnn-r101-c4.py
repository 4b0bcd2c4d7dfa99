# VL-BERT large: BERT-large on the same detector.
_base_ = './vlbert-base_faster-rcnn-r101-c4.py'
model = dict(vl_bert=dict(pretrained='bert-large-uncased'))

# VL-BERT large fine-tuned on VCR Q->A.
_base_ = './vlbert-base_faster-rcnn-r101-c4_16xb4-20e_vcr-q2a.py'
model = dict(vl_bert=dict(pretrained='bert-large-uncased'))
load_from = 'work_dirs/vlbert-large_faster-rcnn-r101-c4_16xb16-10e_cc-text/iter_250000.pth'

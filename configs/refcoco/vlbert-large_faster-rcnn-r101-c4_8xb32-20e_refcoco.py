# VL-BERT large fine-tuned on RefCOCO.
_base_ = './vlbert-base_faster-rcnn-r101-c4_8xb32-20e_refcoco.py'
model = dict(vl_bert=dict(pretrained='bert-large-uncased'))
load_from = 'work_dirs/vlbert-large_faster-rcnn-r101-c4_16xb16-10e_cc-text/iter_250000.pth'

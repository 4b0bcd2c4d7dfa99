# VL-BERT large fine-tuned on VCR QA->R: the base QA->R config with the large BERT and
# its pretraining checkpoint (as the large Q->A config).
_base_ = './vlbert-base_faster-rcnn-r101-c4_16xb4-20e_vcr-qa2r.py'
model = dict(vl_bert=dict(pretrained='bert-large-uncased'))
load_from = 'work_dirs/vlbert-large_faster-rcnn-r101-c4_16xb16-10e_cc-text/iter_250000.pth'

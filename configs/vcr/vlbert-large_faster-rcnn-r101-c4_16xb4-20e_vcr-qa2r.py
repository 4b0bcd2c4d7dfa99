# VL-BERT large fine-tuned on VCR QA->R.
_base_ = './vlbert-large_faster-rcnn-r101-c4_16xb4-20e_vcr-q2a.py'
train_dataloader = dict(dataset=dict(mode='qa2r'))
val_dataloader = dict(dataset=dict(mode='qa2r'))
test_dataloader = val_dataloader
val_evaluator = dict(mode='qa2r')
test_evaluator = val_evaluator

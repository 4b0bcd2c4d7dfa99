# VL-BERT base fine-tuned on VQA v2 (train2014 -> val2014), from a pretraining checkpoint.
_base_ = [
    '../_base_/models/vlbert-base_faster-rcnn-r101-c4.py',
    '../_base_/datasets/vqa_v2.py',
    '../_base_/schedules/vqa_5e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    region_encoder=dict(box_source='detector'),
    heads=dict(vqa=dict(type='VQAHead', num_answers=3129, classifier_hidden=2048)))
load_from = 'work_dirs/vlbert-base_faster-rcnn-r101-c4_16xb16-10e_cc-text/iter_250000.pth'

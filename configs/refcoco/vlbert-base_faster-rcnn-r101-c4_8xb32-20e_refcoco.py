# VL-BERT base fine-tuned on RefCOCO with the ground-truth boxes of each image as RoIs.
_base_ = [
    '../_base_/models/vlbert-base_faster-rcnn-r101-c4.py',
    '../_base_/datasets/refcoco.py',
    '../_base_/schedules/refcoco_20e.py',
    '../_base_/default_runtime.py',
]
model = dict(region_encoder=dict(box_source='given'),
             heads=dict(ground=dict(type='GroundingHead')))
load_from = 'work_dirs/vlbert-base_faster-rcnn-r101-c4_16xb16-10e_cc-text/iter_250000.pth'

# VL-BERT base fine-tuned on VCR Q->A; the metadata boxes are the RoIs.
_base_ = [
    '../_base_/models/vlbert-base_faster-rcnn-r101-c4.py',
    '../_base_/datasets/vcr.py',
    '../_base_/schedules/vcr_sgd_20e.py',
    '../_base_/default_runtime.py',
]
model = dict(region_encoder=dict(box_source='given'), heads=dict(vcr=dict(type='VCRHead')))
load_from = 'work_dirs/vlbert-base_faster-rcnn-r101-c4_16xb16-10e_cc-text/iter_250000.pth'

# VL-BERT base pretraining on MMDetection's model-zoo Faster R-CNN R50-C4 (COCO, box AP
# 35.6): the whole detector (backbone, RPN, RoI head) starts from that checkpoint, and
# MVRC predicts its 80 COCO classes + background.
_base_ = ['./vlbert-base_faster-rcnn-r101-c4_16xb16-10e_cc-text.py',
          '../_base_/models/detectors/faster-rcnn_r50-caffe-c4-coco.py']
detector_classes = 'coco'  # mmdet's 80 COCO names, in its label order
model = dict(
    data_preprocessor=dict(mean={{_base_.coco_r50_c4.mean}}),
    region_encoder=dict(detector={{_base_.coco_r50_c4.detector}}),
    heads=dict(mvrc=dict(num_classes=81)))

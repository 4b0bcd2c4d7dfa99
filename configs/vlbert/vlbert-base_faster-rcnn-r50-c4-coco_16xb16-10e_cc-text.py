# VL-BERT base pretraining on MMDetection's model-zoo Faster R-CNN R50-C4 (COCO, box AP
# 35.6): the whole detector (backbone, RPN, RoI head) starts from that checkpoint, and
# MVRC predicts its 80 COCO classes + background.
_base_ = './vlbert-base_faster-rcnn-r101-c4_16xb16-10e_cc-text.py'
detector_checkpoint = (
    'https://download.openmmlab.com/mmdetection/v2.0/faster_rcnn/'
    'faster_rcnn_r50_caffe_c4_1x_coco/'
    'faster_rcnn_r50_caffe_c4_1x_coco_20220316_150152-3f885b85.pth')
detector_classes = 'coco'  # mmdet's 80 COCO names, in its label order
model = dict(
    data_preprocessor=dict(mean=[103.530, 116.280, 123.675]),  # mmdet's caffe means
    region_encoder=dict(
        detector=dict(
            backbone=dict(depth=50, init_cfg=None),
            roi_head=dict(
                shared_head=dict(depth=50, stride=2, dilation=1, init_cfg=None),
                bbox_roi_extractor=dict(
                    roi_layer=dict(type='RoIAlign', output_size=14, sampling_ratio=0,
                                   aligned=True)),
                bbox_head=dict(roi_feat_size=7, num_classes=80)),
            init_cfg=dict(type='Pretrained', checkpoint=detector_checkpoint))),
    heads=dict(mvrc=dict(num_classes=81)))

# MMDetection's model-zoo Faster R-CNN R50-C4 (COCO, box AP 35.6) in place of the
# paper's R101-C4 dilated detector: the changes to ./faster-rcnn_r101-caffe-c4-dilated.py
# and the pixel means it was trained with. Add this file to the `_base_` list of a
# config on that detector and merge the block in:
#   detector_classes = 'coco'
#   model = dict(data_preprocessor=dict(mean={{_base_.coco_r50_c4.mean}}),
#                region_encoder=dict(detector={{_base_.coco_r50_c4.detector}}))
# (a variable, not `model`: the other base of that config holds `model` already).
detector_checkpoint = (
    'https://download.openmmlab.com/mmdetection/v2.0/faster_rcnn/'
    'faster_rcnn_r50_caffe_c4_1x_coco/'
    'faster_rcnn_r50_caffe_c4_1x_coco_20220316_150152-3f885b85.pth')
coco_r50_c4 = dict(
    mean=[103.530, 116.280, 123.675],  # mmdet's caffe means
    detector=dict(
        backbone=dict(depth=50, init_cfg=None),
        roi_head=dict(
            shared_head=dict(depth=50, stride=2, dilation=1, init_cfg=None),
            bbox_roi_extractor=dict(
                roi_layer=dict(type='RoIAlign', output_size=14, sampling_ratio=0,
                               aligned=True)),
            bbox_head=dict(roi_feat_size=7, num_classes=80)),
        init_cfg=dict(type='Pretrained', checkpoint=detector_checkpoint)))

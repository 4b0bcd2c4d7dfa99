# RefCOCO with joint detector fine-tuning: MMDetection's model-zoo COCO Faster R-CNN
# R50-C4 inside, its RPN + RCNN losses (weight 1, keys det_*) on the COCO boxes of each
# image, next to the grounding loss.
_base_ = './vlbert-base_faster-rcnn-r101-c4_8xb32-20e_refcoco.py'
detector_checkpoint = (
    'https://download.openmmlab.com/mmdetection/v2.0/faster_rcnn/'
    'faster_rcnn_r50_caffe_c4_1x_coco/'
    'faster_rcnn_r50_caffe_c4_1x_coco_20220316_150152-3f885b85.pth')
detector_classes = 'coco'  # mmdet's 80 COCO names, in its label order
model = dict(
    data_preprocessor=dict(mean=[103.530, 116.280, 123.675]),
    region_encoder=dict(
        det_loss_weight=1.0,
        detector=dict(
            backbone=dict(depth=50, init_cfg=None),
            roi_head=dict(
                shared_head=dict(depth=50, stride=2, dilation=1, init_cfg=None),
                bbox_roi_extractor=dict(
                    roi_layer=dict(type='RoIAlign', output_size=14, sampling_ratio=0,
                                   aligned=True)),
                bbox_head=dict(roi_feat_size=7, num_classes=80)),
            init_cfg=dict(type='Pretrained', checkpoint=detector_checkpoint))))
pipeline = [
    dict(type='LoadVLImage', on_bad_sample='raise'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True),
    dict(type='CheckedResize', scale=(1000, 600), keep_ratio=True),
    dict(type='Tokenize', tokenizer={{_base_.tokenizer}}, max_length=40),
    dict(type='PackVLInputs', meta_keys={{_base_.meta_keys}}, task_keys=('ref_index', ),
         with_det_gt=True),
]
train_dataloader = dict(dataset=dict(pipeline=pipeline))

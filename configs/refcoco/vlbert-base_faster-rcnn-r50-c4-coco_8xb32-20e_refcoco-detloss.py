# RefCOCO with joint detector fine-tuning: MMDetection's model-zoo COCO Faster R-CNN
# R50-C4 inside, its RPN + RCNN losses (weight 1, keys det_*) on the COCO boxes of each
# image, next to the grounding loss.
_base_ = ['./vlbert-base_faster-rcnn-r101-c4_8xb32-20e_refcoco.py',
          '../_base_/models/detectors/faster-rcnn_r50-caffe-c4-coco.py']
detector_classes = 'coco'  # mmdet's 80 COCO names, in its label order
model = dict(
    data_preprocessor=dict(mean={{_base_.coco_r50_c4.mean}}),
    region_encoder=dict(det_loss_weight=1.0, detector={{_base_.coco_r50_c4.detector}}))
# the RefCOCO pipeline, packing each image's COCO boxes as detector targets too
pipeline = _base_.pipeline[:-1] + [dict(_base_.pipeline[-1], with_det_gt=True)]
train_dataloader = dict(dataset=dict(pipeline=pipeline))

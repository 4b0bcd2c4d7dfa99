# VL-BERT base on MMDetection's Faster R-CNN R50-FPN (appearance = shared FCs, 1024-d).
_base_ = './detectors/faster-rcnn_r50_fpn.py'
model = dict(
    data_preprocessor=dict(
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32),
    region_encoder=dict(
        type='DetectorRegionEncoder',
        detector={{_base_.detector}},
        box_source='given+detector',
        max_det_boxes=36,
        det_score_thr=0.2),
    vl_bert=dict(pretrained='bert-base-uncased'))

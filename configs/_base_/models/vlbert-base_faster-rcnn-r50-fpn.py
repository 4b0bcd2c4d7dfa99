# VL-BERT base on MMDetection's Faster R-CNN R50-FPN (appearance = shared FCs, 1024-d).
_base_ = './detectors/faster-rcnn_r50_fpn.py'
model = dict(
    type='VLBertE2E',
    data_preprocessor=dict(
        type='VLDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32,
        pad_token_id=0),
    region_encoder=dict(
        type='DetectorRegionEncoder',
        detector={{_base_.detector}},
        box_source='given+detector',
        max_det_boxes=36,
        det_score_thr=0.2),
    visual_embedding=dict(type='VisualFeatureEmbedding', geometry='corner'),
    vl_bert=dict(type='VLBert', pretrained='bert-base-uncased', visual_ln_init_gain=0.0),
    heads=dict())

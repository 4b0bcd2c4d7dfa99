# VL-BERT base as in the paper: BERT-base + Faster R-CNN R101-C4 with dilated res5.
_base_ = './detectors/faster-rcnn_r101-caffe-c4-dilated.py'
model = dict(
    data_preprocessor=dict(
        mean=[102.9801, 115.9465, 122.7717],  # BGR, as the original release
        std=[1.0, 1.0, 1.0],
        bgr_to_rgb=False,
        pad_size_divisor=32),
    region_encoder=dict(
        type='DetectorRegionEncoder',
        detector={{_base_.detector}},
        box_source='given+detector',
        # our detector's boxes: the RPN's best proposals (class-agnostic NMS 0.5), so
        # that the dilated res5 runs once, on the pooled boxes only (4x faster
        # inference than det_boxes='detections', which runs it on all 300 proposals
        # first: docs/benchmarks.md); a separate detector: box_source='...proposer'
        det_boxes='proposals',
        det_nms_iou=0.5,
        max_det_boxes=36,
        det_score_thr=0.2),
    visual_embedding=dict(geometry_dim=2048, dropout=0.1),
    vl_bert=dict(pretrained='bert-base-uncased'))

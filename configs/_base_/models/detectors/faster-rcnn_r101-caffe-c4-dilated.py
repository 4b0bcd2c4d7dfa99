# The paper's detector: ResNet-101 C4 (Caffe style), res5 dilated (stride 1,
# dilation 2) so the 14x14 RoIAlign map stays 14x14, legacy RoIAlign
# (sampling_ratio=1, aligned=False), 1600 Visual Genome classes (+ background).
_base_ = './faster-rcnn_r50-caffe-c4.py'
# Names of the detector's labels (vlbert_e2e/utils/class_names.py): the 1600 Visual
# Genome names are not shipped, and a data set's own classes (RefCOCO's 80 COCO
# categories) are another vocabulary, so detections are labelled 'class N'.
detector_classes = None
detector = dict(
    _scope_='mmdet',
    backbone=dict(
        depth=101,
        init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://detectron2/resnet101_caffe')),
    roi_head=dict(
        shared_head=dict(
            depth=101, stride=1, dilation=2,
            init_cfg=dict(type='Pretrained',
                          checkpoint='open-mmlab://detectron2/resnet101_caffe')),
        bbox_roi_extractor=dict(
            roi_layer=dict(type='RoIAlign', output_size=14, sampling_ratio=1,
                           aligned=False)),
        bbox_head=dict(roi_feat_size=14, num_classes=1600)),
    # with det_boxes='detections' (and in the detect task) every proposal passes the
    # (dilated, 14x14) res5 head: 300 proposals instead of mmdet's 1000 keep that
    # affordable; with det_boxes='proposals' only the pooled ones do
    test_cfg=dict(rpn=dict(nms_pre=3000, max_per_img=300)))

# A tiny ResNet-18 C4 Faster R-CNN for CPU tests and the demo (no pretrained weights).
_base_ = './faster-rcnn_r50-caffe-c4.py'
detector = dict(
    _scope_='mmdet',
    backbone=dict(depth=18, style='pytorch', frozen_stages=1, init_cfg=None),
    rpn_head=dict(
        in_channels=256, feat_channels=256,
        anchor_generator=dict(scales=[1, 2, 4, 8])),
    roi_head=dict(
        shared_head=dict(depth=18, style='pytorch', init_cfg=None),
        bbox_roi_extractor=dict(
            roi_layer=dict(type='RoIAlign', output_size=14, sampling_ratio=1,
                           aligned=False),
            out_channels=256),
        bbox_head=dict(in_channels=512, num_classes=8)),
    train_cfg=dict(
        rpn=dict(sampler=dict(num=64)),
        rpn_proposal=dict(nms_pre=600, max_per_img=100),
        rcnn=dict(sampler=dict(num=64))),
    test_cfg=dict(
        rpn=dict(nms_pre=300, max_per_img=20),
        rcnn=dict(max_per_img=20)))

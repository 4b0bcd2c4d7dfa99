# MMDetection's own Faster R-CNN R50-FPN, exposed as `detector` (see the C4 file).
_base_ = 'mmdet::_base_/models/faster-rcnn_r50_fpn.py'
detector = {{_base_.model}}
model = dict(_delete_=True)

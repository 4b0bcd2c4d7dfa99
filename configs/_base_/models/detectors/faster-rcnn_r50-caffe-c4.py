# MMDetection's own Faster R-CNN R50-C4, exposed as `detector` (not `model`), so the
# VL configs can embed it: `region_encoder=dict(detector={{_base_.detector}})`.
# `model` is emptied here (`_delete_`) so no FasterRCNN key leaks into our model.
_base_ = 'mmdet::_base_/models/faster-rcnn_r50-caffe-c4.py'
detector = {{_base_.model}}
model = dict(_delete_=True)

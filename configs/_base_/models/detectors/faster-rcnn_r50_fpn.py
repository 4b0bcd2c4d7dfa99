# MMDetection's own Faster R-CNN R50-FPN, exposed as `detector` (see the C4 file).
_base_ = ['mmdet::_base_/models/faster-rcnn_r50_fpn.py', '../vlbert_e2e.py']
detector = {{_base_.model}}
model = dict(_base_.vlbert_e2e, _delete_=True)  # mmdet's FasterRCNN keys dropped

# MMDetection's own Faster R-CNN R50-C4, exposed as `detector`, under the VL-BERT
# skeleton (../vlbert_e2e.py) as `model`: the model bases embed the detector with
# `region_encoder=dict(detector={{_base_.detector}})`.
_base_ = ['mmdet::_base_/models/faster-rcnn_r50-caffe-c4.py', '../vlbert_e2e.py']
detector = {{_base_.model}}
model = dict(_base_.vlbert_e2e, _delete_=True)  # mmdet's FasterRCNN keys dropped

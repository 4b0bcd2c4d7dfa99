# VL-BERT base as the original code (jackroos/VL-BERT) computes it: the model that a
# converted original checkpoint loads into (tools/model_converters/
# vlbert_original_to_mmengine.py, docs/model_zoo.md). On top of the paper base model
# (BGR pixel means 102.98/115.95/122.77 with std 1, R101-C4 Caffe style, dilated res5,
# RoIAlign 14x14 aligned=False sampling_ratio=1, visual LayerNorms, segment 2 and the
# shared RoI position) it switches to the original's:
# - geometry (xc/W, yc/H, w/W, h/H) x 100 ('center_size');
# - [END] on text-only samples too;
# - given boxes only: the original has no RPN and no box head (their weights are not
#   in its checkpoints), its boxes came from a Visual Genome detector;
# - a BERT-base built from its config: the weights come from the converted checkpoint,
#   nothing is downloaded (neither BERT nor the ImageNet ResNet);
# - the fidelity switches (docs/model.md, "Fidelity switches"; tests/
#   test_fidelity_switches.py): masked-RoI pixels int(x1)..int(x2), zero-width boxes
#   kept, the whole-image box built on the loaded image and scaled; a batch padded
#   only to its largest image (no size divisor).
_base_ = ['./vlbert-base_faster-rcnn-r101-c4.py', './vlbert-original_bert-base.py']
model = dict(
    data_preprocessor=dict(pad_size_divisor=1),
    region_encoder=dict(
        box_source='given',
        pixel_rule='truncate',
        min_box_size=0,
        whole_image_box='original_scaled',
        detector=dict(
            backbone=dict(init_cfg=None),
            roi_head=dict(shared_head=dict(init_cfg=None)))),
    visual_embedding=dict(geometry='center_size'),
    vl_bert={{_base_.vlbert_original}})

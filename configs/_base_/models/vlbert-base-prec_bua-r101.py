# VL-BERT base as the original's `-prec` models compute it (IMAGE_FEAT_PRECOMPUTED):
# no CNN inside. The box features come precomputed (bottom-up-attention: ResNet-101
# Faster R-CNN on Visual Genome, 2048-d, 10 to 100 boxes an image) through the
# `LoadRegionFeatures` transform; the whole-image box (box 0) takes the mean of the box
# features, a masked RoI the learned `object_mask_visual_embedding`
# (PrecomputedRegionEncoder). Geometry, [END] and the BERT are the original's, as in
# ./vlbert-base-original_faster-rcnn-r101-c4.py; the weights come from a converted
# checkpoint (`vl-bert-base-prec.model`, docs/model_zoo.md), nothing is downloaded.
# Zero-width boxes stay zero wide, as in the original (min_box_size=0; docs/model.md,
# "Fidelity switches").
_base_ = ['./detectors/precomputed-regions.py', './vlbert-original_bert-base.py']
model = dict(
    region_encoder=dict(type='PrecomputedRegionEncoder', feature_dim=2048, min_box_size=0),
    visual_embedding=dict(geometry='center_size', geometry_dim=2048, dropout=0.1),
    vl_bert={{_base_.vlbert_original}})

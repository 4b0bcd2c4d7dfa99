# The original VL-BERT large with its pretraining heads (`vl-bert-large-e2e.model`,
# `vl-bert-large-prec.model`); see the base file.
_base_ = './vlbert-base-original_faster-rcnn-r101-c4_16xb16-10e_cc-text.py'
model = dict(
    vl_bert=dict(config=dict(hidden_size=1024, num_hidden_layers=24,
                             num_attention_heads=16, intermediate_size=4096)))

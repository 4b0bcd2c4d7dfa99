# The skeleton of every VL-BERT model config: VLBertE2E = data preprocessor -> region
# encoder -> visual embedding -> VL-BERT encoder -> task heads. The detector bases
# (./detectors/*.py) make it their `model`, so each model base only adds its sizes.
# It is a variable, not `model`, because a detector base also inherits mmdet's `model`
# and MMEngine refuses a key defined by two bases of one file; there `_delete_` drops
# the FasterRCNN keys of that `model`.
# pad_token_id: [PAD] of the BERT uncased vocabulary every tokenizer here uses
# (bert-base-uncased, MiniLM's); a RoBERTa tokenizer needs 1.
vlbert_e2e = dict(
    type='VLBertE2E',
    data_preprocessor=dict(type='VLDataPreprocessor', pad_token_id=0),
    visual_embedding=dict(type='VisualFeatureEmbedding', geometry='corner'),
    vl_bert=dict(type='VLBert', visual_ln_init_gain=0.0),
    heads=dict())

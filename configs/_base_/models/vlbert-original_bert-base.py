# The original VL-BERT's BERT-base (jackroos/VL-BERT), for the models that a converted
# original checkpoint loads into: built from its config, so nothing is downloaded (the
# weights come from the checkpoint), and [END] closes text-only samples too. A model
# base lists this file next to its own base and merges `vl_bert={{_base_.vlbert_original}}`
# (a variable, not `model`: the other base holds `model`).
vlbert_original = dict(
    pretrained=None,
    end_token_for_text_only=True,
    config=dict(model_type='bert', vocab_size=30522, hidden_size=768,
                num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
                max_position_embeddings=512, hidden_act='gelu', layer_norm_eps=1e-12))

"""FSDP auto-wrap policy for VL-BERT (used by configs/_base_/strategies/fsdp.py)."""
from functools import partial

from mmdet.models.layers import ResLayer
from torch.distributed.fsdp.wrap import transformer_auto_wrap_policy
from transformers.models.bert.modeling_bert import BertLayer
from transformers.models.roberta.modeling_roberta import RobertaLayer

# One FSDP unit per Transformer layer and per ResNet stage. Everything else (word
# embeddings, heads) stays in the root unit: the MLM decoder shares its weight with the
# word embeddings, and FSDP needs tied parameters inside one unit.
WRAPPED_LAYERS = {BertLayer, RobertaLayer, ResLayer}

vlbert_fsdp_wrap_policy = partial(transformer_auto_wrap_policy,
                                  transformer_layer_cls=WRAPPED_LAYERS)


"""Our VL-BERT encoder (sequence assembly + HF BERT) against HF ``VisualBertModel``."""
import torch
from transformers import VisualBertConfig, VisualBertModel

from vlbert_e2e.models.vl_bert import VLBert

from .common import autocast_ctx, matmul_rate, step_flops, time_fn


def bench_encoder_vs_peer(device: str = 'cpu', dtype: str = 'fp32', batch: int = 8,
                          n_text: int = 64, n_visual: int = 36, layers: int = 12,
                          hidden: int = 768, steps: int = 3, warmup: int = 1) -> dict:
    """Forward+backward time of both encoders at the same size, input and dtype, and
    our encoder's achieved FLOP/s against a same-run ``torch.mm``. Dropout is off in
    both (it is not what is being compared).

    Returns:
        ``encoder_ours_s`` and ``encoder_peer_s`` (seconds per forward+backward),
        ``encoder_ratio_ours_over_peer``, ``encoder_gflop_per_step`` (GFLOP),
        ``encoder_gflops`` (achieved GFLOP/s), ``mm_gflops`` (GFLOP/s of a plain
        matmul), ``encoder_mm_utilisation`` (their ratio, a fraction) and
        ``ours_attention``/``peer_attention`` (the attention implementations used).
    """
    size = dict(num_hidden_layers=layers, hidden_size=hidden, num_attention_heads=hidden // 64,
                intermediate_size=4 * hidden, hidden_dropout_prob=0.0,
                attention_probs_dropout_prob=0.0)
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(1000, 20000, (batch, n_text), generator=g).to(device)
    mask = torch.ones_like(ids)
    vis = torch.randn(batch, n_visual, hidden, generator=g).to(device)

    ours = VLBert(config=size, add_pooling_layer=False).to(device).train()
    valid = torch.ones(batch, n_visual, dtype=torch.bool, device=device)

    def ours_step():
        with autocast_ctx(device, dtype):
            out = ours(ids, mask, None, vis[:, :1].expand(-1, n_text, -1), vis, valid,
                       ~valid).hidden
        out.float().sum().backward()

    peer = VisualBertModel(VisualBertConfig(visual_embedding_dim=hidden, **size),
                           add_pooling_layer=False).to(device).train()

    def peer_step():
        with autocast_ctx(device, dtype):
            out = peer(input_ids=ids, attention_mask=mask, visual_embeds=vis).last_hidden_state
        out.float().sum().backward()

    t_ours = time_fn(ours_step, steps, warmup, device)
    t_peer = time_fn(peer_step, steps, warmup, device)
    flops = step_flops(ours_step)
    mm = matmul_rate(dtype, device)
    return dict(encoder_ours_s=round(t_ours, 4), encoder_peer_s=round(t_peer, 4),
                encoder_ratio_ours_over_peer=round(t_ours / t_peer, 3),
                encoder_gflop_per_step=round(flops / 1e9, 1),
                encoder_gflops=round(flops / t_ours / 1e9, 1), mm_gflops=round(mm / 1e9, 1),
                encoder_mm_utilisation=round(flops / t_ours / mm, 3),
                peer_attention=peer.config._attn_implementation,
                ours_attention=ours.bert.config._attn_implementation)

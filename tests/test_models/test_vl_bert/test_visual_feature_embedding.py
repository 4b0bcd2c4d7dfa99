"""VisualFeatureEmbedding: the original's layer by default; the appearance LayerNorm
option removes the RoI features' common positive mean before the ReLU layer."""
import pytest
import torch

from vlbert_e2e.models.vl_bert import VisualFeatureEmbedding, box_geometry_embedding


def _inputs(n=6, d=16):
    g = torch.Generator().manual_seed(0)
    app = torch.rand(n, d, generator=g)
    xy = torch.rand(n, 2, generator=g) * 50
    boxes = torch.cat([xy, xy + 10 + torch.rand(n, 2, generator=g) * 40], 1)
    return app, boxes, torch.full((n, 2), 100.)


def test_default_is_the_originals_linear_relu_on_geometry_then_appearance():
    app, boxes, wh = _inputs()
    emb = VisualFeatureEmbedding(16, 8, geometry_dim=32, dropout=0.0)
    geo = box_geometry_embedding(boxes, wh, 'corner', 32)
    expect = torch.relu(torch.cat([geo, app], 1) @ emb.fc.weight.T + emb.fc.bias)
    torch.testing.assert_close(emb(app, boxes, wh), expect)


def test_appearance_layernorm_ignores_a_common_offset_and_scale():
    app, boxes, wh = _inputs()
    emb = VisualFeatureEmbedding(16, 8, geometry_dim=32, dropout=0.0, appearance_norm='ln')
    # post-ReLU pooled RoI features share a positive mean; the layer sees only how a RoI
    # differs from the others' pattern, not the offset or the overall scale
    torch.testing.assert_close(emb(3.0 * app + 5.0, boxes, wh), emb(app, boxes, wh),
                               atol=1e-4, rtol=1e-4)
    plain = VisualFeatureEmbedding(16, 8, geometry_dim=32, dropout=0.0)
    assert not torch.allclose(plain(app + 5.0, boxes, wh), plain(app, boxes, wh))


def test_unknown_appearance_norm_is_refused():
    with pytest.raises(ValueError, match="appearance_norm must be None or 'ln'"):
        VisualFeatureEmbedding(16, 8, geometry_dim=32, appearance_norm='bn')

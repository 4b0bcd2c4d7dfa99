# Tiny model for CPU tests: 2-layer BERT (hidden 64, MiniLM/BERT uncased vocab) on a
# ResNet-18 C4 Faster R-CNN, random weights, nothing downloaded.
_base_ = './detectors/faster-rcnn_r18-c4_tiny.py'
model = dict(
    data_preprocessor=dict(
        mean=[102.9801, 115.9465, 122.7717],
        std=[57.4, 57.1, 57.4],
        bgr_to_rgb=False,
        pad_size_divisor=32),
    region_encoder=dict(
        type='DetectorRegionEncoder',
        detector={{_base_.detector}},
        box_source='given',
        max_det_boxes=10),
    visual_embedding=dict(geometry_dim=256, dropout=0.0),
    vl_bert=dict(
        pretrained=None,
        config=dict(model_type='bert', vocab_size=30522, hidden_size=64,
                    num_hidden_layers=2, num_attention_heads=2, intermediate_size=128,
                    max_position_embeddings=128)))

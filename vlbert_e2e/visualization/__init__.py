"""Drawing: answers and detections, attention over regions and over the text."""
from .answer_visualizer import draw_answer, verdict_line
from .attention_visualizer import draw_region_attention, draw_text_attention, region_heat
from .canvas import display_scale, font_size, montage, shared_visualizer
from .region_attention import (
                               MODES,
                               attention_rollout,
                               query_to_regions,
                               rank_regions,
                               region_weights,
                               text_attention,
)

__all__ = ['draw_answer', 'verdict_line', 'font_size', 'montage', 'shared_visualizer',
           'draw_region_attention', 'draw_text_attention', 'region_heat',
           'display_scale', 'MODES', 'attention_rollout', 'query_to_regions',
           'rank_regions', 'region_weights', 'text_attention']

from .vl_visualization_hook import VLVisualizationHook

__all__ = ['VLVisualizationHook']

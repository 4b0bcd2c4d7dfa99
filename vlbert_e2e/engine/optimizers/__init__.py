from .autocast_optim_wrapper import AutocastOptimWrapper
from .quiet_constructor import QuietOptimWrapperConstructor

__all__ = ['AutocastOptimWrapper', 'QuietOptimWrapperConstructor']

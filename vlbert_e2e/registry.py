"""Registries of vlbert_e2e, children of MMEngine's root registries.

Configs run with ``default_scope='vlbert_e2e'``; mmdet parts are reached with
``_scope_='mmdet'`` (e.g. ``detector=dict(_scope_='mmdet', type='FasterRCNN', ...)``).
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TASK_UTILS as MMENGINE_TASK_UTILS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

RUNNERS = Registry('runner', parent=MMENGINE_RUNNERS, locations=['vlbert_e2e.engine'])
LOOPS = Registry('loop', parent=MMENGINE_LOOPS, locations=['vlbert_e2e.engine'])
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, locations=['vlbert_e2e.engine'])
DATASETS = Registry('dataset', parent=MMENGINE_DATASETS, locations=['vlbert_e2e.datasets'])
DATA_SAMPLERS = Registry(
    'data sampler', parent=MMENGINE_DATA_SAMPLERS, locations=['vlbert_e2e.datasets'])
# collate functions (MMEngine's FUNCTIONS)
FUNCTIONS = Registry('function', parent=MMENGINE_FUNCTIONS, locations=['vlbert_e2e.datasets'])
TRANSFORMS = Registry(
    'transform', parent=MMENGINE_TRANSFORMS, locations=['vlbert_e2e.datasets.transforms'])
MODELS = Registry('model', parent=MMENGINE_MODELS, locations=['vlbert_e2e.models'])
MODEL_WRAPPERS = Registry(
    'model_wrapper', parent=MMENGINE_MODEL_WRAPPERS, locations=['vlbert_e2e.models'])
OPTIMIZERS = Registry('optimizer', parent=MMENGINE_OPTIMIZERS, locations=['vlbert_e2e.engine'])
OPTIM_WRAPPERS = Registry(
    'optim_wrapper', parent=MMENGINE_OPTIM_WRAPPERS, locations=['vlbert_e2e.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
    locations=['vlbert_e2e.engine'])
PARAM_SCHEDULERS = Registry(
    'parameter scheduler', parent=MMENGINE_PARAM_SCHEDULERS, locations=['vlbert_e2e.engine'])
METRICS = Registry('metric', parent=MMENGINE_METRICS, locations=['vlbert_e2e.evaluation'])
EVALUATOR = Registry('evaluator', parent=MMENGINE_EVALUATOR, locations=['vlbert_e2e.evaluation'])
TASK_UTILS = Registry('task util', parent=MMENGINE_TASK_UTILS, locations=['vlbert_e2e.models'])
VISUALIZERS = Registry(
    'visualizer', parent=MMENGINE_VISUALIZERS, locations=['vlbert_e2e.visualization'])
VISBACKENDS = Registry(
    'vis_backend', parent=MMENGINE_VISBACKENDS, locations=['vlbert_e2e.visualization'])
LOG_PROCESSORS = Registry(
    'log_processor', parent=MMENGINE_LOG_PROCESSORS, locations=['vlbert_e2e.engine'])
# weight initializers (``init_cfg``): MMEngine's, found from this scope without MMEngine's
# "Failed to search registry with scope" warning at every model build
WEIGHT_INITIALIZERS = Registry('weight initializer', parent=MMENGINE_WEIGHT_INITIALIZERS)

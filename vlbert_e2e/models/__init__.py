from .data_preprocessors import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .multimodal import *  # noqa: F401,F403
from .region_encoders import *  # noqa: F401,F403
from .vl_bert import *  # noqa: F401,F403

from .hooks import *  # noqa: F401,F403
from .loops import VLTestLoop, VLValLoop  # noqa: F401
from .optimizers import *  # noqa: F401,F403
from .runner import VLRunner  # noqa: F401

"""Install the project's set-up in every Runner built from ``default_runtime``."""
from mmengine.hooks import Hook

from vlbert_e2e.registry import HOOKS
from vlbert_e2e.utils.setup_env import register_all_modules


@HOOKS.register_module()
class SafeLoadingHook(Hook):
    """Call :func:`~vlbert_e2e.utils.register_all_modules` (without touching the
    default scope, which the Runner owns) before the run.

    ``Runner.train`` / ``val`` / ``test`` fire ``before_run`` and only then load
    ``load_from`` or ``resume`` (``Runner.load_or_resume``), so every checkpoint the
    Runner reads goes through the safe loader even when no tool made the call.
    """

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        """Install the safe checkpoint loader and register all modules (idempotent);
        MMEngine calls this before ``load_or_resume``."""
        register_all_modules(init_default_scope=False)

"""Run the command-line tools (tools/*.py) as a user does, or many in one process."""
import json
import os
import subprocess
import sys
from typing import Dict, List

from .paths import ROOT

# Each case runs as ``__main__`` with its ``sys.argv``; an exception other than
# ``SystemExit`` escaping a tool is exactly what would print a traceback, and is
# reported as such (code -1). One Python start-up (torch, MMEngine) for all cases.
DRIVER = r'''
import contextlib, io, json, runpy, sys, traceback
out = {}
for name, argv in json.loads(sys.argv[1]).items():
    err, log = io.StringIO(), io.StringIO()
    sys.argv = argv
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(log):
        try:
            runpy.run_path(argv[0], run_name='__main__')
            code = 0
        except SystemExit as e:
            code = e.code
            if isinstance(code, str):
                err.write(code + '\n')
                code = 1
        except BaseException:
            err.write('Traceback (uncaught)\n' + traceback.format_exc())
            code = -1
    out[name] = dict(code=code, stderr=err.getvalue(), stdout=log.getvalue())
print('RESULTS' + json.dumps(out))
'''


def tool_env(**extra: str) -> Dict[str, str]:
    """The environment a tool runs in: offline, quiet, this checkout importable."""
    path = ROOT + os.pathsep + os.environ.get('PYTHONPATH', '')
    return dict(os.environ, HF_HUB_OFFLINE='1', PYTHONWARNINGS='ignore', PYTHONPATH=path,
                **extra)


def run_tool(argv: List[str], timeout: float = 600, **kw) -> subprocess.CompletedProcess:
    """Run ``python argv...`` from the repository root; text output captured.

    Args:
        argv (list[str]): The script (relative to the root or absolute) and its arguments.
        timeout (float): Seconds before ``subprocess.TimeoutExpired``.
        **kw: More ``subprocess.run`` arguments (``env``, ``cwd``, ...).
    """
    kw.setdefault('cwd', ROOT)
    kw.setdefault('env', tool_env())
    return subprocess.run([sys.executable] + list(argv), capture_output=True, text=True,
                          timeout=timeout, **kw)


def run_tools_in_one_process(argvs: Dict[str, List[str]], timeout: float = 600) -> dict:
    """Run several tool command lines in one Python process (see ``DRIVER``).

    Args:
        argvs (dict): case name -> argv (script first).
        timeout (float): Seconds for all of them.

    Returns:
        dict: case name -> ``dict(code, stderr, stdout)``.
    """
    r = run_tool(['-c', DRIVER, json.dumps(argvs)], timeout=timeout)
    assert 'RESULTS' in r.stdout, r.stderr[-3000:]
    return json.loads(r.stdout.split('RESULTS', 1)[1])

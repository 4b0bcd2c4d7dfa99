"""Run the command-line tools (tools/*.py) as a user does, or many in one process."""
import contextlib
import io
import json
import os
import runpy
import subprocess
import sys
import time
import traceback
from typing import Dict, List

from .paths import ROOT

# Each case runs as ``__main__`` with its ``sys.argv``; an exception other than
# ``SystemExit`` escaping a tool is exactly what would print a traceback, and is
# reported as such (code -1). One Python start-up (torch, MMEngine) for all cases.
DRIVER = r'''
import json, sys
from vlbert_e2e.testing.cli import run_tools_here
print('RESULTS' + json.dumps(run_tools_here(json.loads(sys.argv[1]))))
'''


def run_tools_here(argvs: Dict[str, List[str]]) -> dict:
    """Run tool command lines as ``__main__`` in this process, one after the other, with
    their output captured; the working folder is the repository root meanwhile.

    Args:
        argvs (dict): case name -> argv (script first).

    Returns:
        dict: case name -> ``dict(code, stderr, stdout, seconds)``; ``code`` is the exit
        status, 1 for ``sys.exit('message')`` (the message in ``stderr``) and -1 for an
        uncaught exception (its traceback in ``stderr``, after ``Traceback (uncaught)``);
        ``seconds`` the case's wall time (to find what makes a driver slow).
    """
    out, argv0, cwd = {}, sys.argv, os.getcwd()
    os.chdir(ROOT)
    try:
        for name, argv in argvs.items():
            err, log = io.StringIO(), io.StringIO()
            sys.argv = list(argv)
            start = time.perf_counter()
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(log):
                code = _run_main(argv[0], err)
            out[name] = dict(code=code, stderr=err.getvalue(), stdout=log.getvalue(),
                             seconds=round(time.perf_counter() - start, 2))
    finally:
        sys.argv = argv0
        os.chdir(cwd)
    return out


def _run_main(script: str, err) -> int:
    try:
        runpy.run_path(script, run_name='__main__')
        return 0
    except SystemExit as e:
        if isinstance(e.code, str):
            err.write(e.code + '\n')
            return 1
        return e.code or 0
    except BaseException:
        err.write('Traceback (uncaught)\n' + traceback.format_exc())
        return -1


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

"""Run the doctor (:mod:`modelarts_widgets.frontend`) as a script.

In a notebook cell: ``%run -m modelarts_widgets.doctor``; in a terminal, with the kernel's Python:
``python -m modelarts_widgets doctor``. Nothing else imports this module, and it leaves no names
behind in the notebook (``%run`` copies a script's globals into the notebook's namespace).
"""

if __name__ == "__main__":
    import builtins as _builtins
    import sys as _sys

    from modelarts_widgets.frontend import main as _main

    _exit = _main(_sys.argv[1:])
    # In IPython (``%run -m``) the printed report is the answer: a SystemExit there would add a
    # traceback and "Unknown failure executing module" to it. From a terminal the status tells.
    _exit = 0 if getattr(_builtins, "__IPYTHON__", False) else _exit
    del _builtins, _sys, _main
    if _exit:
        raise SystemExit(_exit)
    del _exit

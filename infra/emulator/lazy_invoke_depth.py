"""Lazy invocation-depth counter: nothing is imported before the function's own code.

On AWS nothing runs in an instance before the function's module. MiniStack's Python worker imports
botocore first, to count nested invocations (~0.4 s of every instance start here, for functions that
mostly never call AWS); ``lazy_invoke_depth`` registers the same counter when the function imports
botocore itself.
"""

import hashlib

from infra.emulator.pinned import require_pinned

# sha256 of lambda_runtime.INVOKE_DEPTH_BOOTSTRAP that lazy_invoke_depth was written against.
INVOKE_DEPTH_BOOTSTRAP_SHA256 = "d23b681ddb7ed8e346f0f848f05489e3feb3e468abbbbaef972682f3a0039564"
# The same counter, registered when the function's code imports botocore.handlers instead of by
# importing it first. MiniStack's tokens (__DEPTH_ENV__, __DEPTH_HEADER__) are substituted by it.
LAZY_INVOKE_DEPTH_BOOTSTRAP = """
def _ms_install_invoke_depth():
    import importlib.machinery
    import os
    import sys

    def _ms_add_invoke_depth(params, **kwargs):
        depth = os.environ.get("__DEPTH_ENV__")
        if depth and "__DEPTH_HEADER__" not in params["headers"]:
            params["headers"]["__DEPTH_HEADER__"] = depth

    def register(handlers):
        handlers.BUILTIN_HANDLERS.append(("before-call", _ms_add_invoke_depth))

    class RegisterOnImport:  # a meta path finder (importlib.abc costs 45 ms to import)
        def find_spec(self, fullname, path, target=None):
            if fullname != "botocore.handlers":
                return None
            sys.meta_path.remove(self)
            spec = importlib.machinery.PathFinder.find_spec(fullname, path)
            if spec is not None and spec.loader is not None:
                execute = spec.loader.exec_module

                def execute_and_register(module):
                    execute(module)
                    register(module)

                spec.loader.exec_module = execute_and_register
            return spec

    if "botocore.handlers" in sys.modules:
        register(sys.modules["botocore.handlers"])
    else:
        sys.meta_path.insert(0, RegisterOnImport())
"""


def lazy_invoke_depth() -> None:
    """Register MiniStack's recursion-depth counter when a function imports botocore, not before.

    MiniStack's Python worker imports ``botocore.handlers`` before the function's module, to add a
    handler that counts nested invocations: ~0.4 s of every instance start here, for functions
    that mostly never call AWS (on AWS nothing is imported before the function's own code). The
    worker now registers the same handler from an import hook, right after ``botocore.handlers``
    runs and before any client can copy its handlers: a function that uses botocore is counted as
    before, one that does not pays nothing.
    """
    from ministack.core import lambda_runtime

    bootstrap = lambda_runtime.INVOKE_DEPTH_BOOTSTRAP
    found = hashlib.sha256(bootstrap.encode()).hexdigest()
    require_pinned("INVOKE_DEPTH_BOOTSTRAP", found, INVOKE_DEPTH_BOOTSTRAP_SHA256)
    worker_script = lambda_runtime._PYTHON_WORKER_SCRIPT
    require_pinned("the Python worker script's start", worker_script.startswith(bootstrap), True)
    lazy = lambda_runtime._sub_runtime_tokens(LAZY_INVOKE_DEPTH_BOOTSTRAP)
    lambda_runtime._PYTHON_WORKER_SCRIPT = lazy + worker_script[len(bootstrap) :]

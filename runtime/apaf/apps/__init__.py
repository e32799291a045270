"""App processes: each enabled app runs alone, on 127.0.0.1, supervised (apaf.apps.process).

Every app is started through `launch_command()`, so a frozen bundle re-executes itself
(`<bundle> --apaf-launch-app`, handled first thing by `apaf.cli.main`) instead of needing
a `python -m apaf.apps.launch`.
"""
LAUNCH_FLAG = "--apaf-launch-app"
RUNTIME_PID = "APAF_RUNTIME_PID"  # the runtime tells each app process its pid (apaf.apps.launch)


def __getattr__(name: str):
    # An app process imports apaf.apps.launch, hence this package: it must not pay for
    # the supervisor's modules (AppProcess, manifests, restart policy) it never uses.
    if name in ("AppProcess", "launch_command"):
        from apaf.apps import process
        return getattr(process, name)
    raise AttributeError(f"module 'apaf.apps' has no attribute {name!r}")


__all__ = ["AppProcess", "LAUNCH_FLAG", "RUNTIME_PID", "launch_command"]

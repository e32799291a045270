"""App processes: each enabled app runs alone, on 127.0.0.1, supervised (apaf.apps.process).

Every app is started through `launch_command()`, so a frozen bundle re-executes itself
(`<bundle> --apaf-launch-app`, handled first thing by `apaf.cli.main`) instead of needing
a `python -m apaf.apps.launch`.
"""
from apaf.apps.process import LAUNCH_FLAG, AppProcess, launch_command

__all__ = ["AppProcess", "LAUNCH_FLAG", "launch_command"]
